"""An ONVIF camera that misbehaves on purpose, like real firmware and third-party emulators.

:class:`MisbehavingOnvifSimulator` is the conforming :class:`~support.onvif_sim.OnvifSimulator`
whose replies to chosen operations are spoiled on the wire (real HTTP on 127.0.0.1, real
SOAP that the client really parses):

* ``UNDECLARED_PREFIX`` — the ``tt:`` and ``tns:`` prefixes are used but never declared (the emulator that
  made lxml's XMLSyntaxError escape camwall's error mapping);
* ``TRUNCATED`` — the reply stops half-way, mid-element;
* ``HTTP_500`` — an HTML error page with status 500, as embedded web servers send;
* ``SLOW`` — the right answer, but only after ``slow_s``;
* ``WRONG_TYPES`` — well-formed XML whose numbers, booleans and QNames are words;
* ``NOT_SOAP`` — well-formed XML that is no SOAP envelope.

The misbehaviour can be switched while serving (:meth:`misbehave`), so a test can let a
camera connect and then break it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

from lxml import etree

from support.onvif_sim import OnvifSimulator
from support.onvif_sim_parts import SimConfig


class Misbehaviour(enum.Enum):
    """How replies are spoiled."""

    UNDECLARED_PREFIX = "undeclared-prefix"
    TRUNCATED = "truncated"
    HTTP_500 = "http-500"
    SLOW = "slow"
    WRONG_TYPES = "wrong-types"
    NOT_SOAP = "not-soap"


# The schema and operation prefixes; the envelope's own (env:) stays declared.
_DECLARATION = re.compile(r' xmlns:(?:tt|tns)="[^"]*"')
_NUMBER = re.compile(r">-?\d+(?:\.\d+)?<")
_NUMBER_ATTR = re.compile(r'(\s[xy])="-?\d+(?:\.\d+)?"')
_BOOL = re.compile(r">(?:true|false)<")


def spoil(kind: Misbehaviour, status: int, reply: str) -> tuple[int, str]:
    """The reply as a camera with ``kind`` of bug would send it."""
    if kind is Misbehaviour.UNDECLARED_PREFIX:
        return status, _DECLARATION.sub("", reply)
    if kind is Misbehaviour.TRUNCATED:
        return status, reply[: max(1, len(reply) // 2)]
    if kind is Misbehaviour.HTTP_500:
        return 500, "<html><body><h1>500 Internal Server Error</h1></body></html>"
    if kind is Misbehaviour.WRONG_TYPES:
        reply = _NUMBER.sub(">lots<", reply)
        reply = _NUMBER_ATTR.sub(r'\1="left"', reply)
        return status, _BOOL.sub(">perhaps<", reply)
    if kind is Misbehaviour.NOT_SOAP:
        return 200, '<?xml version="1.0"?><status><ok>camera busy</ok></status>'
    return status, reply


class MisbehavingOnvifSimulator(OnvifSimulator):
    """The simulator with spoiled replies to ``operations`` (None: every operation)."""

    def __init__(
        self,
        kind: Misbehaviour | None = None,
        operations: Iterable[str] | None = None,
        *,
        slow_s: float = 30.0,
        config: SimConfig | None = None,
    ) -> None:
        super().__init__(config)
        self.kind = kind
        self.spoil_operations = None if operations is None else frozenset(operations)
        self.slow_s = slow_s
        self.spoiled = 0

    def misbehave(self, kind: Misbehaviour | None, operations: Iterable[str] | None = None) -> None:
        """Switch the misbehaviour (None: conform again) while serving."""
        with self._lock:
            self.kind = kind
            self.spoil_operations = None if operations is None else frozenset(operations)

    def handle(self, path: str, body: bytes) -> tuple[int, str]:
        """The conforming answer, spoiled when the operation is one of the chosen ones."""
        status, reply = super().handle(path, body)
        with self._lock:
            kind, chosen = self.kind, self.spoil_operations
        if kind is None or (chosen is not None and _operation(body) not in chosen):
            return status, reply
        with self._lock:
            self.spoiled += 1
        if kind is Misbehaviour.SLOW:
            self._stopping.wait(self.slow_s)
            return status, reply
        return spoil(kind, status, reply)


def _operation(body: bytes) -> str | None:
    """Local name of the SOAP request's operation, or None if the request is not SOAP."""
    try:
        doc = etree.fromstring(body)
    except etree.XMLSyntaxError:
        return None
    for el in doc.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname == "Body":
            return etree.QName(el[0]).localname if len(el) else None
    return None
