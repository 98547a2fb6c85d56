"""Find ONVIF cameras: a WS-Discovery probe, then (with credentials) each camera's streams.

The Probe and the ProbeMatches answers are built and parsed by the ``wsdiscovery`` library
(SOAP-over-UDP, WS-Addressing). The sockets are camwall's: the library's threaded transport
binds port 3702, starts threads per interface that outlive a probe, and never reads replies
to a unicast probe — which a probe of one known address (``targets``), and a test on a
container's loopback where multicast may not work, both need. One UDP socket sends the
probe to the multicast group on every IPv4 interface and to each target, and receives every
answer until the deadline; nothing here blocks longer than ``timeout_s``.

Every answer that is not a usable camera is reported with its reason: garbage that is not
WS-Discovery XML, a ProbeMatch missing its parts, a responder that is not an ONVIF video
device, a camera that answered more than once, and — when :func:`inspect_devices` logs in —
an unreachable camera or a refused password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from camwall.control.model import DeviceInfo, OnvifSettings, StreamProfile
from camwall.errors import ControlError, MissingExtraError

log = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"
#: How soon :func:`probe` notices its ``stop`` event.
STOP_POLL_S = 0.1
WSD_PORT = 3702
#: The type an ONVIF camera (a "network video transmitter") announces.
NVT_NAMESPACE = "http://www.onvif.org/ver10/network/wsdl"
NVT_TYPE = "NetworkVideoTransmitter"
_SCOPE_PREFIX = "onvif://www.onvif.org/"


@dataclass(frozen=True)
class FoundDevice:
    """One device that answered the probe, and what camwall learned about it."""

    #: The IP address the answer came from.
    address: str
    #: WS-Addressing endpoint reference: the device's stable identity (urn:uuid:…).
    endpoint: str
    xaddrs: tuple[str, ...]
    types: tuple[str, ...]
    scopes: tuple[str, ...]
    #: Set when the device cannot be used as a camera, or inspecting it failed.
    problem: str | None = None
    #: How many answers carried this endpoint (cameras answer once per interface, or repeat).
    answers: int = 1
    info: DeviceInfo | None = None
    streams: tuple[StreamProfile, ...] = ()

    @property
    def is_camera(self) -> bool:
        """True if the device says it is an ONVIF network video transmitter."""
        return any(t.rsplit(":", 1)[-1].rsplit("}", 1)[-1] == NVT_TYPE for t in self.types)

    def scope(self, kind: str) -> str | None:
        """The value of an ``onvif://www.onvif.org/<kind>/<value>`` scope, decoded."""
        for scope in self.scopes:
            if scope.startswith(f"{_SCOPE_PREFIX}{kind}/"):
                return unquote(scope[len(_SCOPE_PREFIX) + len(kind) + 1 :])
        return None

    @property
    def name(self) -> str | None:
        """The camera's name scope."""
        return self.scope("name")

    @property
    def model(self) -> str | None:
        """The model: GetDeviceInformation's when read, else the hardware scope."""
        if self.info is not None and self.info.model:
            return self.info.model
        return self.scope("hardware")

    @property
    def service(self) -> tuple[str, int] | None:
        """Host and port of the device service (first http XAddr that parses)."""
        for xaddr in self.xaddrs:
            try:
                parts = urlsplit(xaddr)
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                continue
            if parts.scheme in ("http", "https") and parts.hostname:
                return parts.hostname, port
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: no credentials (stream URIs are as the camera gives them)."""
        return {
            "address": self.address,
            "endpoint": self.endpoint,
            "xaddrs": list(self.xaddrs),
            "types": list(self.types),
            "scopes": list(self.scopes),
            "name": self.name,
            "model": self.model,
            "camera": self.is_camera,
            "answers": self.answers,
            "problem": self.problem,
            "streams": [
                {
                    "role": s.role.value,
                    "name": s.name,
                    "token": s.token,
                    "uri": s.uri,
                    "encoding": s.encoding,
                    "width": s.width,
                    "height": s.height,
                    "fps": s.fps,
                }
                for s in self.streams
            ],
        }


@dataclass(frozen=True)
class BadAnswer:
    """An answer that names no device: where it came from and what was wrong."""

    address: str
    reason: str


@dataclass
class Discovery:
    """Everything the probe heard, in the order it arrived."""

    devices: list[FoundDevice] = field(default_factory=list)
    bad_answers: list[BadAnswer] = field(default_factory=list)

    @property
    def cameras(self) -> list[FoundDevice]:
        """The devices that are ONVIF cameras without a problem."""
        return [d for d in self.devices if d.is_camera and d.problem is None]


def _wsd() -> Any:
    """The wsdiscovery library's message functions (the ``onvif`` extra)."""
    try:
        from wsdiscovery import message
        from wsdiscovery.actions import probe
        from wsdiscovery.qname import QName
    except ImportError as err:
        raise MissingExtraError("Finding cameras", "onvif", "WSDiscovery") from err
    return message, probe, QName


def _interfaces() -> list[str]:
    """The IPv4 addresses of this host's interfaces to send the multicast probe from."""
    try:
        import ifaddr  # a dependency of wsdiscovery
    except ImportError:
        return []
    out = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and ip.ip not in out:
                out.append(ip.ip)
    return out


def probe(
    timeout_s: float = 3.0,
    *,
    targets: Sequence[tuple[str, int]] = (),
    multicast: bool = True,
    stop: threading.Event | None = None,
) -> Discovery:
    """Send a WS-Discovery Probe and collect the answers for ``timeout_s`` seconds.

    ``targets`` are (host, port) pairs probed directly (unicast), e.g. a camera on another
    subnet or a test responder; ``multicast`` also probes the LAN on every interface.
    Setting ``stop`` (from another thread) ends the wait within :data:`STOP_POLL_S`, with
    the answers received so far.
    """
    message, probe_action, qname = _wsd()
    env = probe_action.constructProbe([qname(NVT_NAMESPACE, NVT_TYPE, "dn")], [])
    our_id = env.getMessageId()
    data = message.createSOAPMessage(env).encode()
    result = Discovery()
    by_endpoint: dict[str, int] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP) as sock:
        sock.bind(("", 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sent = 0
        for host, port in targets:
            try:
                sock.sendto(data, (host, port))
                sent += 1
            except OSError as err:
                result.bad_answers.append(BadAnswer(f"{host}:{port}", f"cannot send to it: {err}"))
        if multicast:
            for iface in _interfaces() or ["0.0.0.0"]:
                with contextlib.suppress(OSError):  # an interface without multicast
                    sock.setsockopt(
                        socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface)
                    )
                    sock.sendto(data, (MULTICAST_GROUP, WSD_PORT))
                    sent += 1
        deadline = time.monotonic() + timeout_s
        while sent and (left := deadline - time.monotonic()) > 0:
            if stop is not None and stop.is_set():
                break
            sock.settimeout(left if stop is None else min(left, STOP_POLL_S))
            try:
                answer, (host, port) = sock.recvfrom(65535)
            except TimeoutError:
                continue  # the deadline, or time to look at ``stop``
            except OSError as err:  # e.g. ICMP port unreachable from a probed target
                log.debug("WS-Discovery: receiving: %s", err)
                continue
            _take(result, by_endpoint, f"{host}", answer, our_id, message)
    return result


def _take(
    result: Discovery,
    by_endpoint: dict[str, int],
    address: str,
    data: bytes,
    our_id: str,
    message: Any,
) -> None:
    """Add one UDP answer to ``result``: a device, a repeat, or a bad answer."""
    try:
        env = message.parseSOAPMessage(data, address)
    except (IndexError, AttributeError, ValueError, TypeError) as err:
        # The library's parser indexes into the DOM: a ProbeMatch without its parts fails so.
        result.bad_answers.append(
            BadAnswer(address, f"a ProbeMatch with parts missing ({type(err).__name__}: {err})")
        )
        return
    if env is None:
        result.bad_answers.append(
            BadAnswer(address, "the answer is not WS-Discovery XML (or is a SOAP fault)")
        )
        return
    if env.getRelatesTo() != our_id:
        log.debug("WS-Discovery: ignoring %s from %s (not an answer to our probe)", env, address)
        return
    for match in env.getProbeResolveMatches():
        endpoint = str(match.getEPR())
        if endpoint in by_endpoint:
            index = by_endpoint[endpoint]
            device = result.devices[index]
            result.devices[index] = replace(device, answers=device.answers + 1)
            continue
        device = FoundDevice(
            address=address,
            endpoint=endpoint,
            xaddrs=tuple(str(x) for x in match.getXAddrs()),
            types=tuple(str(t) for t in match.getTypes()),
            scopes=tuple(s.getValue() for s in match.getScopes()),
        )
        if not device.is_camera:
            device = replace(
                device, problem="not an ONVIF camera (no NetworkVideoTransmitter type)"
            )
        elif device.service is None:
            device = replace(device, problem=f"no usable service address in {list(device.xaddrs)}")
        by_endpoint[endpoint] = len(result.devices)
        result.devices.append(device)


async def _inspect(device: FoundDevice, login: OnvifSettings) -> FoundDevice:
    from camwall.control.onvif.discover import read_streams_async

    service = device.service
    if not device.is_camera or device.problem is not None or service is None:
        return device
    settings = replace(login, host=service[0], port=service[1])
    bound = settings.connect_timeout_s + 3 * settings.call_timeout_s
    try:
        async with asyncio.timeout(bound):
            info, streams = await read_streams_async(settings, device_info=True)
    except ControlError as err:
        return replace(device, problem=str(err))
    except TimeoutError:
        return replace(device, problem=f"{settings.label} did not finish within {bound:g} s")
    return replace(device, info=info, streams=tuple(streams))


async def inspect_devices_async(
    devices: Iterable[FoundDevice], login: OnvifSettings
) -> list[FoundDevice]:
    """Each camera with its device information and streams, or the reason it has none.

    ``login`` gives the credentials and timeouts; its host and port are replaced by each
    device's service address. All devices are inspected at once; each within about
    ``connect_timeout_s + 3 × call_timeout_s``.
    """
    return list(await asyncio.gather(*(_inspect(d, login) for d in devices)))


def inspect_devices(devices: Iterable[FoundDevice], login: OnvifSettings) -> list[FoundDevice]:
    """Blocking :func:`inspect_devices_async` (not from a thread that runs an event loop)."""
    return asyncio.run(inspect_devices_async(devices, login))
