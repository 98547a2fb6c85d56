"""A WS-Discovery responder on 127.0.0.1 for tests: real UDP, real SOAP-over-UDP XML.

It answers each Probe it receives with one ProbeMatches message per configured device
(built by the ``wsdiscovery`` library, as a camera's firmware would), repeated as often as
the device's ``repeat`` says, and then sends each of ``extra_answers`` verbatim (garbage,
broken ProbeMatches). Unicast only: multicast on a container's loopback is not dependable,
so tests probe it by address.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import uuid
from dataclasses import dataclass, field

from wsdiscovery.actions.probematch import constructProbeMatch
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage
from wsdiscovery.namespaces import NS_ACTION_PROBE
from wsdiscovery.qname import QName
from wsdiscovery.scope import Scope
from wsdiscovery.service import Service

log = logging.getLogger(__name__)

NVT = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")
PRINTER = QName("http://schemas.microsoft.com/windows/2006/08/wdp/print", "PrintDeviceType", "wprt")


@dataclass
class WsdDevice:
    """One device the responder speaks for."""

    xaddrs: list[str]
    name: str = "SimCam"
    hardware: str = "SimCam-1440"
    types: list[QName] = field(default_factory=lambda: [NVT])
    endpoint: str = field(default_factory=lambda: uuid.uuid4().urn)
    repeat: int = 1

    def service(self) -> Service:
        scopes = [
            Scope(f"onvif://www.onvif.org/name/{self.name.replace(' ', '%20')}"),
            Scope(f"onvif://www.onvif.org/hardware/{self.hardware}"),
            Scope("onvif://www.onvif.org/type/video_encoder"),
        ]
        return Service(self.types, scopes, self.xaddrs, self.endpoint, 1)


class WsdResponder:
    """:meth:`start` serves on an ephemeral UDP port of 127.0.0.1; :meth:`stop` ends it."""

    def __init__(self, devices: list[WsdDevice], extra_answers: list[bytes] | None = None) -> None:
        self.devices = devices
        self.extra_answers = extra_answers or []
        self.probes = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="wsd-responder")

    @property
    def port(self) -> int:
        """The UDP port to probe."""
        return int(self._sock.getsockname()[1])

    def start(self) -> WsdResponder:
        """Start answering."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and close the socket."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            env = parseSOAPMessage(data, peer[0])
            if env is None or env.getAction() != NS_ACTION_PROBE:
                continue
            self.probes += 1
            for device in self.devices:
                answer = createSOAPMessage(
                    constructProbeMatch([device.service()], env.getMessageId())
                ).encode()
                for _ in range(device.repeat):
                    with contextlib.suppress(OSError):
                        self._sock.sendto(answer, peer)
            for raw in self.extra_answers:
                with contextlib.suppress(OSError):
                    self._sock.sendto(
                        raw.replace(b"{relates_to}", env.getMessageId().encode()), peer
                    )


#: A ProbeMatches whose ProbeMatch lacks its MetadataVersion (required): a sloppy firmware.
BROKEN_PROBE_MATCH = b"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">
<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>
<a:MessageID>urn:uuid:0badc0de-0000-0000-0000-000000000001</a:MessageID>
<a:RelatesTo>{relates_to}</a:RelatesTo></s:Header>
<s:Body><d:ProbeMatches><d:ProbeMatch>
<a:EndpointReference><a:Address>urn:uuid:0badc0de-0000-0000-0000-00000000beef</a:Address></a:EndpointReference>
<d:Types>dn:NetworkVideoTransmitter</d:Types>
</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"""

GARBAGE = b"\x00\x01HTTP/1.1 200 OK\r\n\r\n<html>not a camera</html"
