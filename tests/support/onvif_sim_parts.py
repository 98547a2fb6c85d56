"""Building blocks of the ONVIF camera simulator: motion, knobs, request log, SOAP and HTTP.

See :mod:`support.onvif_sim` for the simulated camera itself.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

log = logging.getLogger(__name__)

SOAP = "http://www.w3.org/2003/05/soap-envelope"
TT = "http://www.onvif.org/ver10/schema"
TER = "http://www.onvif.org/ver10/error"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NS = {
    "device": "http://www.onvif.org/ver10/device/wsdl",
    "media": "http://www.onvif.org/ver10/media/wsdl",
    "imaging": "http://www.onvif.org/ver20/imaging/wsdl",
    "ptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "events": "http://www.onvif.org/ver10/events/wsdl",
}
PATHS = {f"/onvif/{name}_service": name for name in NS}
# Operations ONVIF allows before login (the client needs the clock to build its login).
PRE_AUTH = {("device", "GetSystemDateAndTime")}

_DURATION = re.compile(r"^P(?:T(?:(?P<h>[\d.]+)H)?(?:(?P<m>[\d.]+)M)?(?:(?P<s>[\d.]+)S)?)?$")


def parse_duration(text: str) -> float:
    """Seconds of an xs:duration like PT1S, PT0.5S or PT1M (time part only, as cameras use)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"unsupported duration {text!r}")
    h, m, s = (float(match.group(k) or 0) for k in ("h", "m", "s"))
    return h * 3600 + m * 60 + s


class SimFault(Exception):
    """A SOAP fault to answer with."""

    def __init__(
        self,
        reason: str,
        subcode: str = "ter:InvalidArgVal",
        *,
        status: int = 400,
        code: str = "Sender",
        subsubcode: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.subcode = subcode
        self.subsubcode = subsubcode
        self.status = status


@dataclass
class SimAxis:
    """One motor: position changes at ``velocity`` units/s from ``t0`` until ``deadline``."""

    lo: float
    hi: float
    origin: float
    velocity: float = 0.0
    t0: float = 0.0
    deadline: float = float("inf")
    target: float | None = None

    def position(self, now: float) -> float:
        """Where the motor is at monotonic time ``now``."""
        t = min(now, self.deadline)
        pos = self.origin + self.velocity * max(0.0, t - self.t0)
        if self.target is not None:
            pos = min(pos, self.target) if self.velocity > 0 else max(pos, self.target)
        return min(self.hi, max(self.lo, pos))

    def moving(self, now: float) -> bool:
        """True while the motor still turns (not stopped, timed out, at target or at a limit)."""
        if self.velocity == 0.0 or now >= self.deadline:
            return False
        pos = self.position(now)
        if self.target is not None and pos == self.target:
            return False
        return not (
            (self.velocity > 0 and pos >= self.hi) or (self.velocity < 0 and pos <= self.lo)
        )

    def _settle(self, now: float) -> None:
        self.origin = self.position(now)
        self.t0 = now
        self.velocity = 0.0
        self.deadline = float("inf")
        self.target = None

    def continuous(self, now: float, velocity: float, timeout_s: float | None) -> None:
        """Start moving at ``velocity`` units/s, ending by itself after ``timeout_s``."""
        self._settle(now)
        self.velocity = velocity
        self.deadline = now + timeout_s if timeout_s is not None else float("inf")

    def move_to(self, now: float, target: float, rate: float) -> None:
        """Move to ``target`` at ``rate`` units/s."""
        self._settle(now)
        target = min(self.hi, max(self.lo, target))
        if target != self.origin:
            self.velocity = rate if target > self.origin else -rate
            self.target = target

    def stop(self, now: float) -> None:
        """Stop where the motor is now."""
        self._settle(now)


@dataclass
class SimConfig:
    """Behaviour of the simulated camera; every field is a knob tests may change."""

    user: str = "admin"
    password: str = "s3cret-Pa55"
    clock_offset_s: float = 0.0
    max_clock_skew_s: float = 5.0
    auth_failure_status: int = 401
    has_imaging: bool = True
    has_ptz: bool = True
    has_pan_tilt: bool = True
    # The node lists the field-of-view relative pan/tilt space (click-to-centre); RelativeMove
    # turns by a fraction of the field of view below.
    fov_relative: bool = True
    fov_pan: float = 0.4  # horizontal field of view, in pan position units
    fov_tilt: float = 0.225  # vertical field of view, in tilt position units
    fov_range: float = 1.0  # the space's x/y range is ±this (the spec's 1; some firmware 100)
    has_events: bool = True
    get_services_supported: bool = True
    reject_stop: bool = False
    focus_moves: frozenset[str] = frozenset({"Absolute", "Relative", "Continuous"})
    auto_focus_modes: tuple[str, ...] = ("AUTO", "MANUAL")
    reject_manual_focus_in_auto: bool = True
    delay_s: float = 0.0
    delay_operations: frozenset[str] | None = None  # None: every operation is delayed
    rtsp_base: str = "rtsp://127.0.0.1:8554"
    focus_rate: float = 0.5  # position units per second at speed 1
    zoom_rate: float = 0.5
    pan_tilt_rate: float = 1.0
    ptz_timeout_range: tuple[str, str] = ("PT0.5S", "PT10S")


@dataclass(frozen=True)
class SimRequest:
    """One request as the simulated camera received it."""

    service: str
    operation: str
    authenticated: bool
    timeout: str | None
    params: dict[str, str]
    time: float = field(default_factory=time.monotonic)

    @property
    def has_timeout(self) -> bool:
        """True if the request carried an ONVIF Timeout element."""
        return self.timeout is not None


def xml_text(el: etree._Element | None, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path)
    return found.text.strip() if found is not None and found.text else None


def xml_any(el: etree._Element | None, local: str) -> etree._Element | None:
    """First descendant with local name ``local`` (namespaces vary between clients)."""
    if el is None:
        return None
    for child in el.iter():
        if isinstance(child.tag, str) and etree.QName(child).localname == local:
            return child
    return None


def xml_anytext(el: etree._Element | None, local: str) -> str | None:
    found = xml_any(el, local)
    return found.text.strip() if found is not None and found.text else None


def xml_float(el: etree._Element | None, local: str) -> float | None:
    text = xml_anytext(el, local)
    return float(text) if text is not None else None


def xml_attr_float(el: etree._Element | None, attr: str) -> float | None:
    if el is None or el.get(attr) is None:
        return None
    return float(el.get(attr))  # type: ignore[arg-type]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<env:Envelope xmlns:env="{SOAP}" xmlns:tt="{TT}" xmlns:ter="{TER}">'
        f"<env:Body>{body}</env:Body></env:Envelope>"
    )


def fault_envelope(fault: SimFault) -> str:
    inner = (
        f"<env:Subcode><env:Value>{fault.subsubcode}</env:Value></env:Subcode>"
        if fault.subsubcode
        else ""
    )
    return envelope(
        f"<env:Fault><env:Code><env:Value>env:{fault.code}</env:Value>"
        f"<env:Subcode><env:Value>{fault.subcode}</env:Value>{inner}</env:Subcode></env:Code>"
        f'<env:Reason><env:Text xml:lang="en">{escape(fault.reason)}</env:Text></env:Reason>'
        "</env:Fault>"
    )


class SimHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, like a camera's web server."""

    simulator: Any  # the OnvifSimulator serving this connection
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    timeout = 10  # an idle keep-alive connection ends by itself

    def setup(self) -> None:
        super().setup()
        with self.simulator._lock:
            self.simulator._conns.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.simulator._lock:
            self.simulator._conns.discard(self.connection)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status, reply = self.simulator.handle(self.path, body)
        data = reply.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def do_GET(self) -> None:
        self.send_error(405, "ONVIF services take SOAP POST requests")

    def log_message(self, format: str, *args: object) -> None:
        log.debug("onvif-sim: %s", format % args)
