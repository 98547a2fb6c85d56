"""A small, standards-shaped ONVIF camera on 127.0.0.1 for tests: real SOAP 1.2 over HTTP.

It speaks the Device, Media, Imaging and PTZ operations camwall's control layer uses, checks
WS-Security UsernameToken PasswordDigest logins against its own (optionally skewed) clock,
and moves simulated motors: a position changes by velocity × elapsed time, is clamped to its
range, and a continuous move ends by itself at its ONVIF ``Timeout``.

Knobs (attributes of :class:`SimConfig`, changeable while running via
:meth:`OnvifSimulator.configure`) make it behave like awkward real cameras: Stop rejected with
a SOAP fault, no Imaging or no PTZ service, a zoom-only PTZ node, a wrong clock, answers that
come too late, no GetServices. Every request is logged (:attr:`OnvifSimulator.requests`) with
its operation and whether it carried a ``Timeout``, so tests can assert what the camera saw.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from xml.sax.saxutils import escape

from lxml import etree

from support.onvif_sim_events import SimEvents
from support.onvif_sim_parts import (
    NS,
    PATHS,
    PRE_AUTH,
    SOAP,
    WSSE,
    WSU,
    SimAxis,
    SimConfig,
    SimFault,
    SimHandler,
    SimRequest,
    envelope,
    fault_envelope,
    parse_duration,
    snake,
    xml_any,
    xml_anytext,
    xml_attr_float,
    xml_float,
    xml_text,
)

__all__ = [
    "SHARP_FOCUS",
    "OnvifSimulator",
    "SimAxis",
    "SimConfig",
    "SimRequest",
    "parse_duration",
]

log = logging.getLogger(__name__)

_SUBSCRIPTION = re.compile(r"/onvif/subscription_(\d+)")
VIDEO_SOURCE = "vs0"
PTZ_CONFIG = "ptzcfg0"
PTZ_NODE = "ptznode0"
SHARP_FOCUS = 0.42  # where the simulated auto-focus settles


class OnvifSimulator:
    """The simulated camera; :meth:`start` serves it on 127.0.0.1, :meth:`stop` ends it."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self.requests: list[SimRequest] = []
        now = time.monotonic()
        self.focus = SimAxis(0.0, 1.0, 0.5, t0=now)
        self.zoom = SimAxis(0.0, 1.0, 0.0, t0=now)
        self.pan = SimAxis(-1.0, 1.0, 0.0, t0=now)
        self.tilt = SimAxis(-1.0, 1.0, 0.0, t0=now)
        self.auto_focus = "MANUAL"
        self.presets: dict[str, tuple[str, float, float, float]] = {}
        self._preset_seq = 0
        self.events = SimEvents("", self._stopping)  # base URL set by start()

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> OnvifSimulator:
        """Serve on an ephemeral loopback port in a thread this object owns."""
        sim = self

        class Handler(SimHandler):
            simulator = sim

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = False
        self.events.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="onvif-sim", kwargs={"poll_interval": 0.05}
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and join every thread."""
        self._stopping.set()
        if self._server is None:
            return
        self._server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()  # joins the per-connection threads
        if self._thread is not None:
            self._thread.join(5)
        self._server = None

    def __enter__(self) -> OnvifSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the camera listens on."""
        assert self._server is not None, "simulator not started"
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """Always the loopback address."""
        return "127.0.0.1"

    def configure(self, **changes: object) -> None:
        """Change knobs while running (thread-safe)."""
        with self._lock:
            self.config = dataclasses.replace(self.config, **changes)  # type: ignore[arg-type]

    # state read by tests -----------------------------------------------------------------
    def operations(self, service: str | None = None) -> list[str]:
        """Names of the operations received so far (optionally of one service)."""
        with self._lock:
            return [r.operation for r in self.requests if service in (None, r.service)]

    def received(self, operation: str, service: str | None = None) -> list[SimRequest]:
        """The requests of one operation."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.operation == operation and service in (None, r.service)
            ]

    def clear_log(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self.requests.clear()

    def snapshot(self) -> dict[str, tuple[float, bool]]:
        """Each motor's (position, moving) right now."""
        now = time.monotonic()
        with self._lock:
            return {
                name: (axis.position(now), axis.moving(now))
                for name, axis in (
                    ("focus", self.focus),
                    ("zoom", self.zoom),
                    ("pan", self.pan),
                    ("tilt", self.tilt),
                )
            }

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Poll ``predicate`` until it holds or ``timeout`` passes; its last value."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    # request handling --------------------------------------------------------------------
    def _device_now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.config.clock_offset_s)

    def _check_auth(self, header: etree._Element | None) -> bool:
        cfg = self.config
        token = (
            header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
            if header is not None
            else None
        )
        if token is None:
            return False
        user = xml_text(token, f"{{{WSSE}}}Username")
        pw = token.find(f"{{{WSSE}}}Password")
        nonce = xml_text(token, f"{{{WSSE}}}Nonce")
        created = xml_text(token, f"{{{WSU}}}Created")
        if user != cfg.user or pw is None or not pw.text or nonce is None or created is None:
            return False
        if not (pw.get("Type") or "").endswith("#PasswordDigest"):
            return False
        expected = base64.b64encode(
            hashlib.sha1(
                base64.b64decode(nonce) + created.encode() + cfg.password.encode()
            ).digest()
        ).decode()
        if pw.text.strip() != expected:
            return False
        try:
            when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return abs((when - self._device_now()).total_seconds()) <= cfg.max_clock_skew_s

    def handle(self, path: str, body: bytes) -> tuple[int, str]:
        """Answer one SOAP request: (HTTP status, SOAP envelope)."""
        service = PATHS.get(path.split("?")[0])
        subscription = _SUBSCRIPTION.fullmatch(path.split("?")[0])
        if subscription is not None:
            service = "subscription"
        cfg = self.config
        if (
            service is None
            or (service == "imaging" and not cfg.has_imaging)
            or (service == "ptz" and not cfg.has_ptz)
            or (service in ("events", "subscription") and not cfg.has_events)
        ):
            return 404, ""
        try:
            doc = etree.fromstring(body)
        except etree.XMLSyntaxError:
            return 400, fault_envelope(SimFault("malformed XML", "ter:WellFormed"))
        if doc.tag != f"{{{SOAP}}}Envelope":
            return 400, fault_envelope(SimFault("not a SOAP 1.2 envelope", "ter:VersionMismatch"))
        header = doc.find(f"{{{SOAP}}}Header")
        body_el = doc.find(f"{{{SOAP}}}Body")
        request = body_el[0] if body_el is not None and len(body_el) else None
        if request is None:
            return 400, fault_envelope(SimFault("empty SOAP body", "ter:MissingAttr"))
        operation = etree.QName(request).localname
        authed = self._check_auth(header)
        timeout = xml_anytext(request, "Timeout") if operation == "ContinuousMove" else None
        params = {
            etree.QName(c).localname: (c.text or "").strip()
            for c in request.iter()
            if c is not request and isinstance(c.tag, str)
        }
        if operation == "RelativeMove":
            # Its amounts are attributes (PanTilt x/y/space): logged as "Translation.PanTilt.x".
            for c in request.iter():
                if c is not request and isinstance(c.tag, str):
                    parent = c.getparent()
                    prefix = (
                        ""
                        if parent is request or parent is None
                        else etree.QName(parent).localname + "."
                    )
                    for key, value in c.attrib.items():
                        params[f"{prefix}{etree.QName(c).localname}.{key}"] = value
        with self._lock:
            self.requests.append(SimRequest(service, operation, authed, timeout, params))
        delay_ops = cfg.delay_operations
        if cfg.delay_s > 0 and (delay_ops is None or operation in delay_ops):
            self._stopping.wait(cfg.delay_s)
        if not authed and (service, operation) not in PRE_AUTH:
            return cfg.auth_failure_status, fault_envelope(
                SimFault(
                    "Sender not Authorized", "ter:NotAuthorized", status=cfg.auth_failure_status
                )
            )
        if service in ("events", "subscription"):
            # Outside the lock: PullMessages waits for events.
            sub_id = int(subscription.group(1)) if subscription is not None else None
            return self.events.handle(service, operation, request, sub_id)
        method = getattr(self, f"_{service}_{snake(operation)}", None)
        if method is None:
            return 400, fault_envelope(
                SimFault(f"{operation} is not supported", "ter:ActionNotSupported", code="Receiver")
            )
        try:
            with self._lock:
                inner = method(request)
        except SimFault as fault:
            return fault.status, fault_envelope(fault)
        except (ValueError, TypeError) as err:
            return 400, fault_envelope(SimFault(f"invalid argument: {err}"))
        return 200, envelope(
            f'<tns:{operation}Response xmlns:tns="{NS[service]}">{inner}</tns:{operation}Response>'
        )

    # Device -----------------------------------------------------------------------------
    def _device_get_system_date_and_time(self, req: etree._Element) -> str:
        now = self._device_now()
        return (
            "<tns:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType>"
            "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime><tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
            f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
            f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date></tt:UTCDateTime>"
            "</tns:SystemDateAndTime>"
        )

    def _device_get_device_information(self, req: etree._Element) -> str:
        return (
            "<tns:Manufacturer>camwall</tns:Manufacturer><tns:Model>SimCam 1440</tns:Model>"
            "<tns:FirmwareVersion>1.2.3</tns:FirmwareVersion><tns:SerialNumber>SIM-0001</tns:SerialNumber>"
            "<tns:HardwareId>sim</tns:HardwareId>"
        )

    def _xaddr(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port}/onvif/{service}_service"

    def _enabled_services(self) -> list[str]:
        out = ["device", "media"]
        if self.config.has_events:
            out.append("events")
        if self.config.has_imaging:
            out.append("imaging")
        if self.config.has_ptz:
            out.append("ptz")
        return out

    def _device_get_services(self, req: etree._Element) -> str:
        if not self.config.get_services_supported:
            raise SimFault(
                "GetServices is not supported", "ter:ActionNotSupported", code="Receiver"
            )
        return "".join(
            f"<tns:Service><tns:Namespace>{NS[s]}</tns:Namespace><tns:XAddr>{self._xaddr(s)}</tns:XAddr>"
            "<tns:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tns:Version></tns:Service>"
            for s in self._enabled_services()
        )

    def _device_get_capabilities(self, req: etree._Element) -> str:
        enabled = self._enabled_services()
        parts = [f"<tt:Device><tt:XAddr>{self._xaddr('device')}</tt:XAddr></tt:Device>"]
        if "events" in enabled:
            parts.append(
                f"<tt:Events><tt:XAddr>{self._xaddr('events')}</tt:XAddr>"
                "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
                "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
                "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
                "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
            )
        if "imaging" in enabled:
            parts.append(f"<tt:Imaging><tt:XAddr>{self._xaddr('imaging')}</tt:XAddr></tt:Imaging>")
        parts.append(
            f"<tt:Media><tt:XAddr>{self._xaddr('media')}</tt:XAddr><tt:StreamingCapabilities>"
            "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
            "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        )
        if "ptz" in enabled:
            parts.append(f"<tt:PTZ><tt:XAddr>{self._xaddr('ptz')}</tt:XAddr></tt:PTZ>")
        return f"<tns:Capabilities>{''.join(parts)}</tns:Capabilities>"

    # Media ------------------------------------------------------------------------------
    _PROFILES = (
        ("main", "MainStream", 2560, 1440, 25, 6144),
        ("sub", "SubStream", 640, 360, 15, 512),
    )

    def _ptz_configuration(self) -> str:
        cfg = self.config
        pt = (
            "<tt:DefaultAbsolutePantTiltPositionSpace>http://www.onvif.org/ver10/tptz/PanTiltSpaces/"
            "PositionGenericSpace</tt:DefaultAbsolutePantTiltPositionSpace>"
            if cfg.has_pan_tilt
            else ""
        )
        ptv = (
            "<tt:DefaultContinuousPanTiltVelocitySpace>http://www.onvif.org/ver10/tptz/PanTiltSpaces/"
            "VelocityGenericSpace</tt:DefaultContinuousPanTiltVelocitySpace>"
            if cfg.has_pan_tilt
            else ""
        )
        return (
            f'<tt:PTZConfiguration token="{PTZ_CONFIG}"><tt:Name>PTZ</tt:Name><tt:UseCount>2</tt:UseCount>'
            f"<tt:NodeToken>{PTZ_NODE}</tt:NodeToken>{pt}"
            "<tt:DefaultAbsoluteZoomPositionSpace>http://www.onvif.org/ver10/tptz/ZoomSpaces/"
            "PositionGenericSpace</tt:DefaultAbsoluteZoomPositionSpace>"
            f"{ptv}"
            "<tt:DefaultContinuousZoomVelocitySpace>http://www.onvif.org/ver10/tptz/ZoomSpaces/"
            "VelocityGenericSpace</tt:DefaultContinuousZoomVelocitySpace>"
            "<tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout>"
            "</tt:PTZConfiguration>"
        )

    def _profile(self, token: str, name: str, w: int, h: int, fps: int, kbps: int) -> str:
        ptz = self._ptz_configuration() if self.config.has_ptz else ""
        return (
            f'<tns:Profiles token="{token}" fixed="true"><tt:Name>{name}</tt:Name>'
            f'<tt:VideoSourceConfiguration token="vsc0"><tt:Name>VideoSource</tt:Name>'
            f"<tt:UseCount>2</tt:UseCount><tt:SourceToken>{VIDEO_SOURCE}</tt:SourceToken>"
            '<tt:Bounds x="0" y="0" width="2560" height="1440"/></tt:VideoSourceConfiguration>'
            f'<tt:VideoEncoderConfiguration token="enc-{token}"><tt:Name>{name}</tt:Name>'
            "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
            f"<tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height></tt:Resolution>"
            "<tt:Quality>4</tt:Quality><tt:RateControl>"
            f"<tt:FrameRateLimit>{fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>"
            f"<tt:BitrateLimit>{kbps}</tt:BitrateLimit></tt:RateControl>"
            "<tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>"
            "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address>"
            "</tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart>"
            "</tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>"
            f"{ptz}</tns:Profiles>"
        )

    def _media_get_profiles(self, req: etree._Element) -> str:
        # The sub stream first, as some cameras list them: clients must not rely on order.
        return "".join(self._profile(*p) for p in reversed(self._PROFILES))

    def _media_get_stream_uri(self, req: etree._Element) -> str:
        token = xml_anytext(req, "ProfileToken")
        if token not in {p[0] for p in self._PROFILES}:
            raise SimFault(f"no profile {token!r}", "ter:InvalidArgVal", subsubcode="ter:NoProfile")
        uri = escape(f"{self.config.rtsp_base}/{token}")
        return (
            f"<tns:MediaUri><tt:Uri>{uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></tns:MediaUri>"
        )

    # Imaging ----------------------------------------------------------------------------
    def _check_source(self, req: etree._Element) -> None:
        if xml_anytext(req, "VideoSourceToken") != VIDEO_SOURCE:
            raise SimFault("no such video source", "ter:InvalidArgVal", subsubcode="ter:NoSource")

    def _imaging_get_imaging_settings(self, req: etree._Element) -> str:
        self._check_source(req)
        return (
            "<tns:ImagingSettings><tt:Brightness>50</tt:Brightness><tt:Focus>"
            f"<tt:AutoFocusMode>{self.auto_focus}</tt:AutoFocusMode><tt:DefaultSpeed>0.5</tt:DefaultSpeed>"
            "</tt:Focus></tns:ImagingSettings>"
        )

    def _imaging_set_imaging_settings(self, req: etree._Element) -> str:
        self._check_source(req)
        mode = xml_anytext(req, "AutoFocusMode")
        if mode is not None:
            if mode not in self.config.auto_focus_modes:
                raise SimFault(
                    f"AutoFocusMode {mode} not supported",
                    "ter:InvalidArgVal",
                    subsubcode="ter:SettingsInvalid",
                )
            now = time.monotonic()
            self.auto_focus = mode
            if mode == "AUTO":
                self.focus.move_to(now, SHARP_FOCUS, self.config.focus_rate)
            else:
                self.focus.stop(now)
        return ""

    def _imaging_get_options(self, req: etree._Element) -> str:
        self._check_source(req)
        modes = "".join(
            f"<tt:AutoFocusModes>{m}</tt:AutoFocusModes>" for m in self.config.auto_focus_modes
        )
        return (
            "<tns:ImagingOptions><tt:Brightness><tt:Min>0</tt:Min><tt:Max>100</tt:Max></tt:Brightness>"
            f"<tt:Focus>{modes}<tt:DefaultSpeed><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:DefaultSpeed>"
            "</tt:Focus></tns:ImagingOptions>"
        )

    def _imaging_get_move_options(self, req: etree._Element) -> str:
        self._check_source(req)
        moves = self.config.focus_moves
        out = []
        if "Absolute" in moves:
            out.append(
                "<tt:Absolute><tt:Position><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:Position>"
                "<tt:Speed><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:Speed></tt:Absolute>"
            )
        if "Relative" in moves:
            out.append(
                "<tt:Relative><tt:Distance><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:Distance>"
                "<tt:Speed><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:Speed></tt:Relative>"
            )
        if "Continuous" in moves:
            out.append(
                "<tt:Continuous><tt:Speed><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:Speed>"
                "</tt:Continuous>"
            )
        return f"<tns:MoveOptions>{''.join(out)}</tns:MoveOptions>"

    def _imaging_move(self, req: etree._Element) -> str:
        self._check_source(req)
        cfg = self.config
        if self.auto_focus == "AUTO" and cfg.reject_manual_focus_in_auto:
            raise SimFault(
                "focus is in AUTO mode", "ter:InvalidArgVal", subsubcode="ter:SettingsInvalid"
            )
        now = time.monotonic()
        for kind in ("Absolute", "Relative", "Continuous"):
            el = xml_any(req, kind)
            if el is None:
                continue
            if kind not in cfg.focus_moves:
                raise SimFault(
                    f"{kind} focus move not supported",
                    "ter:InvalidArgVal",
                    subsubcode="ter:NoImagingForSource",
                )
            speed = xml_float(el, "Speed")
            if kind == "Continuous":
                if speed is None or not -1 <= speed <= 1:
                    raise SimFault("continuous focus speed out of range")
                # ONVIF's Imaging Move has no Timeout: a continuous focus runs until Stop.
                self.focus.continuous(now, speed * cfg.focus_rate, None)
            elif kind == "Absolute":
                target = xml_float(el, "Position")
                if target is None or not 0 <= target <= 1:
                    raise SimFault("focus position out of range")
                self.focus.move_to(now, target, (speed or 1.0) * cfg.focus_rate * 4)
            else:
                distance = xml_float(el, "Distance")
                if distance is None or not -1 <= distance <= 1:
                    raise SimFault("focus distance out of range")
                here = self.focus.position(now)
                self.focus.move_to(now, here + distance, (speed or 1.0) * cfg.focus_rate * 4)
            return ""
        raise SimFault("Move without Absolute, Relative or Continuous")

    def _imaging_stop(self, req: etree._Element) -> str:
        self._check_source(req)
        if self.config.reject_stop:
            raise SimFault("Stop is not accepted by this firmware", "ter:InvalidArgVal")
        self.focus.stop(time.monotonic())
        return ""

    def _imaging_get_status(self, req: etree._Element) -> str:
        self._check_source(req)
        now = time.monotonic()
        state = "MOVING" if self.focus.moving(now) else "IDLE"
        return (
            f"<tns:Status><tt:FocusStatus20><tt:Position>{self.focus.position(now):.6f}</tt:Position>"
            f"<tt:MoveStatus>{state}</tt:MoveStatus></tt:FocusStatus20></tns:Status>"
        )

    # PTZ --------------------------------------------------------------------------------
    def _check_profile(self, req: etree._Element) -> None:
        if xml_anytext(req, "ProfileToken") not in {p[0] for p in self._PROFILES}:
            raise SimFault("no such profile", "ter:InvalidArgVal", subsubcode="ter:NoProfile")

    def _ptz_get_configurations(self, req: etree._Element) -> str:
        return self._ptz_configuration().replace("tt:PTZConfiguration", "tns:PTZConfiguration", 2)

    def _ptz_get_nodes(self, req: etree._Element) -> str:
        pt = self.config.has_pan_tilt
        r = self.config.fov_range

        def space2d(kind: str, lo: float) -> str:
            return (
                f"<tt:{kind}PanTilt{'Position' if kind == 'Absolute' else 'Velocity'}Space>"
                f"<tt:URI>http://www.onvif.org/ver10/tptz/PanTiltSpaces/"
                f"{'Position' if kind == 'Absolute' else 'Velocity'}GenericSpace</tt:URI>"
                f"<tt:XRange><tt:Min>{lo}</tt:Min><tt:Max>1</tt:Max></tt:XRange>"
                f"<tt:YRange><tt:Min>{lo}</tt:Min><tt:Max>1</tt:Max></tt:YRange>"
                f"</tt:{kind}PanTilt{'Position' if kind == 'Absolute' else 'Velocity'}Space>"
            )

        return (
            f'<tns:PTZNode token="{PTZ_NODE}" FixedHomePosition="false"><tt:Name>Node</tt:Name>'
            "<tt:SupportedPTZSpaces>"
            + (space2d("Absolute", -1) if pt else "")
            + "<tt:AbsoluteZoomPositionSpace><tt:URI>http://www.onvif.org/ver10/tptz/ZoomSpaces/"
            "PositionGenericSpace</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange>"
            "</tt:AbsoluteZoomPositionSpace>"
            + (
                "<tt:RelativePanTiltTranslationSpace><tt:URI>http://www.onvif.org/ver10/tptz/"
                f"PanTiltSpaces/TranslationSpaceFov</tt:URI><tt:XRange><tt:Min>-{r:g}</tt:Min>"
                f"<tt:Max>{r:g}</tt:Max></tt:XRange><tt:YRange><tt:Min>-{r:g}</tt:Min>"
                f"<tt:Max>{r:g}</tt:Max></tt:YRange></tt:RelativePanTiltTranslationSpace>"
                if pt and self.config.fov_relative
                else ""
            )
            + (space2d("Continuous", -1) if pt else "")
            + "<tt:ContinuousZoomVelocitySpace><tt:URI>http://www.onvif.org/ver10/tptz/ZoomSpaces/"
            "VelocityGenericSpace</tt:URI><tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange>"
            "</tt:ContinuousZoomVelocitySpace>"
            "</tt:SupportedPTZSpaces><tt:MaximumNumberOfPresets>16</tt:MaximumNumberOfPresets>"
            "<tt:HomeSupported>false</tt:HomeSupported></tns:PTZNode>"
        )

    def _ptz_get_configuration_options(self, req: etree._Element) -> str:
        lo, hi = self.config.ptz_timeout_range
        return (
            "<tns:PTZConfigurationOptions><tt:Spaces/>"
            f"<tt:PTZTimeout><tt:Min>{lo}</tt:Min><tt:Max>{hi}</tt:Max></tt:PTZTimeout>"
            "</tns:PTZConfigurationOptions>"
        )

    def _ptz_continuous_move(self, req: etree._Element) -> str:
        self._check_profile(req)
        cfg = self.config
        velocity = xml_any(req, "Velocity")
        pt = xml_any(velocity, "PanTilt")
        zoom = xml_any(velocity, "Zoom")
        if pt is not None and not cfg.has_pan_tilt:
            raise SimFault(
                "this camera cannot pan or tilt", "ter:InvalidArgVal", subsubcode="ter:NoSuchSpace"
            )
        timeout_text = xml_anytext(req, "Timeout")
        timeout_s = parse_duration(timeout_text) if timeout_text else None
        if timeout_s is not None:
            lo, hi = (parse_duration(t) for t in cfg.ptz_timeout_range)
            if not lo <= timeout_s <= hi:
                raise SimFault(
                    f"Timeout {timeout_text} outside {cfg.ptz_timeout_range}",
                    subsubcode="ter:TimeoutNotSupported",
                )
        now = time.monotonic()
        if pt is not None:
            x, y = xml_attr_float(pt, "x") or 0.0, xml_attr_float(pt, "y") or 0.0
            if not (-1 <= x <= 1 and -1 <= y <= 1):
                raise SimFault("pan/tilt velocity out of range")
            self.pan.continuous(now, x * cfg.pan_tilt_rate, timeout_s)
            self.tilt.continuous(now, y * cfg.pan_tilt_rate, timeout_s)
        if zoom is not None:
            z = xml_attr_float(zoom, "x") or 0.0
            if not -1 <= z <= 1:
                raise SimFault("zoom velocity out of range")
            self.zoom.continuous(now, z * cfg.zoom_rate, timeout_s)
        return ""

    def _ptz_stop(self, req: etree._Element) -> str:
        self._check_profile(req)
        if self.config.reject_stop:
            raise SimFault("Stop is not accepted by this firmware", "ter:InvalidArgVal")
        now = time.monotonic()
        if (xml_anytext(req, "PanTilt") or "true") == "true":
            self.pan.stop(now)
            self.tilt.stop(now)
        if (xml_anytext(req, "Zoom") or "true") == "true":
            self.zoom.stop(now)
        return ""

    def _move_ptz_to(
        self, pan: float | None, tilt: float | None, zoom: float | None, speed: float
    ) -> None:
        now = time.monotonic()
        cfg = self.config
        if pan is not None and cfg.has_pan_tilt:
            self.pan.move_to(now, pan, speed * cfg.pan_tilt_rate * 2)
        if tilt is not None and cfg.has_pan_tilt:
            self.tilt.move_to(now, tilt, speed * cfg.pan_tilt_rate * 2)
        if zoom is not None:
            self.zoom.move_to(now, zoom, speed * cfg.zoom_rate * 2)

    def _ptz_absolute_move(self, req: etree._Element) -> str:
        self._check_profile(req)
        position = xml_any(req, "Position")
        pt, zoom = xml_any(position, "PanTilt"), xml_any(position, "Zoom")
        if pt is not None and not self.config.has_pan_tilt:
            raise SimFault(
                "this camera cannot pan or tilt", "ter:InvalidArgVal", subsubcode="ter:NoSuchSpace"
            )
        z = xml_attr_float(zoom, "x")
        if z is not None and not 0 <= z <= 1:
            raise SimFault("zoom position out of range", subsubcode="ter:InvalidPosition")
        self._move_ptz_to(xml_attr_float(pt, "x"), xml_attr_float(pt, "y"), z, 1.0)
        return ""

    def _ptz_relative_move(self, req: etree._Element) -> str:
        self._check_profile(req)
        cfg = self.config
        pt = xml_any(xml_any(req, "Translation"), "PanTilt")
        if pt is None:
            raise SimFault("RelativeMove without a pan/tilt translation")
        space = pt.get("space")
        fov = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationSpaceFov"
        if not (cfg.has_pan_tilt and cfg.fov_relative) or space != fov:
            raise SimFault(
                f"relative pan/tilt space {space!r} not supported",
                "ter:InvalidArgVal",
                subsubcode="ter:NoSuchSpace",
            )
        x, y = xml_attr_float(pt, "x"), xml_attr_float(pt, "y")
        r = cfg.fov_range
        if x is None or y is None or not (-r <= x <= r and -r <= y <= r):
            raise SimFault("pan/tilt translation out of range", subsubcode="ter:InvalidTranslation")
        x, y = x / r, y / r
        speed = xml_attr_float(xml_any(xml_any(req, "Speed"), "PanTilt"), "x") or 1.0
        now = time.monotonic()
        # x = 1 is the picture's right edge: half the field of view away from the centre.
        self.pan.move_to(
            now, self.pan.position(now) + x * cfg.fov_pan / 2, speed * cfg.pan_tilt_rate
        )
        self.tilt.move_to(
            now, self.tilt.position(now) + y * cfg.fov_tilt / 2, speed * cfg.pan_tilt_rate
        )
        return ""

    def _ptz_get_status(self, req: etree._Element) -> str:
        self._check_profile(req)
        now = time.monotonic()

        def state(*axes: SimAxis) -> str:
            return "MOVING" if any(a.moving(now) for a in axes) else "IDLE"

        pt = (
            f'<tt:PanTilt x="{self.pan.position(now):.6f}" y="{self.tilt.position(now):.6f}"/>'
            if self.config.has_pan_tilt
            else ""
        )
        pts = (
            f"<tt:PanTilt>{state(self.pan, self.tilt)}</tt:PanTilt>"
            if self.config.has_pan_tilt
            else ""
        )
        utc = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f'<tns:PTZStatus><tt:Position>{pt}<tt:Zoom x="{self.zoom.position(now):.6f}"/></tt:Position>'
            f"<tt:MoveStatus>{pts}<tt:Zoom>{state(self.zoom)}</tt:Zoom></tt:MoveStatus>"
            f"<tt:UtcTime>{utc}</tt:UtcTime></tns:PTZStatus>"
        )

    def _ptz_get_presets(self, req: etree._Element) -> str:
        self._check_profile(req)
        out = []
        for token, (name, pan, tilt, zoom) in self.presets.items():
            pt = f'<tt:PanTilt x="{pan:.6f}" y="{tilt:.6f}"/>' if self.config.has_pan_tilt else ""
            out.append(
                f'<tns:Preset token="{escape(token)}"><tt:Name>{escape(name)}</tt:Name>'
                f'<tt:PTZPosition>{pt}<tt:Zoom x="{zoom:.6f}"/></tt:PTZPosition></tns:Preset>'
            )
        return "".join(out)

    def _ptz_set_preset(self, req: etree._Element) -> str:
        self._check_profile(req)
        now = time.monotonic()
        token = xml_anytext(req, "PresetToken")
        name = xml_anytext(req, "PresetName")
        if token is not None and token not in self.presets:
            raise SimFault(f"no preset {token!r}", subsubcode="ter:NoToken")
        if token is None:
            if len(self.presets) >= 16:
                raise SimFault(
                    "too many presets", code="Receiver", subsubcode="ter:TooManyPresets", status=500
                )
            self._preset_seq += 1
            token = f"preset-{self._preset_seq}"
        name = name or self.presets.get(token, (token,))[0]
        if any(n == name and t != token for t, (n, *_) in self.presets.items()):
            raise SimFault(f"preset name {name!r} exists", subsubcode="ter:PresetExist")
        self.presets[token] = (
            name,
            self.pan.position(now),
            self.tilt.position(now),
            self.zoom.position(now),
        )
        return f"<tns:PresetToken>{escape(token)}</tns:PresetToken>"

    def _ptz_goto_preset(self, req: etree._Element) -> str:
        self._check_profile(req)
        token = xml_anytext(req, "PresetToken")
        if token not in self.presets:
            raise SimFault(f"no preset {token!r}", subsubcode="ter:NoToken")
        _, pan, tilt, zoom = self.presets[token]
        self._move_ptz_to(pan, tilt, zoom, 1.0)
        return ""
