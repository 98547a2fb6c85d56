"""The simulated camera's ONVIF event service: PullPoint subscriptions, motion and tamper.

Tests drive it: :meth:`SimEvents.emit` raises or clears motion or tamper (every live
subscription gets the message), :meth:`SimEvents.restart` forgets every subscription as a
rebooting camera does, ``fail_renew`` makes Renew answer a fault. Subscriptions expire at
their termination time like a camera's do, and PullMessages waits (long-polls) up to its
Timeout for a message.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from lxml import etree

from support.onvif_sim_parts import SimFault, envelope, fault_envelope, parse_duration, xml_anytext

TEV = "http://www.onvif.org/ver10/events/wsdl"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
WSA = "http://www.w3.org/2005/08/addressing"
TNS1 = "http://www.onvif.org/ver10/topics"

#: Topic and data item of each event kind the simulator emits.
TOPICS = {
    "motion": ("tns1:RuleEngine/CellMotionDetector/Motion", "IsMotion"),
    "tamper": ("tns1:VideoSource/GlobalSceneChange/ImagingService", "State"),
}


@dataclass
class SimSubscription:
    """One PullPoint subscription."""

    id: int
    expires: float
    pending: list[str] = field(default_factory=list)


class SimEvents:
    """Event service state; thread-safe (requests arrive on the HTTP server's threads)."""

    def __init__(self, base_url: str, stopping: threading.Event) -> None:
        self.base_url = base_url
        self.fail_renew = False
        self.max_termination_s = 3600.0
        self._stopping = stopping
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self.subscriptions: dict[int, SimSubscription] = {}
        self.created = 0
        self.renewed = 0
        self.unsubscribed = 0
        self.restarts = 0

    # driven by tests -----------------------------------------------------------------
    def emit(self, kind: str, active: bool, source: str = "vsc0") -> None:
        """Raise (``active``) or clear motion or tamper; every live subscription gets it."""
        topic, item = TOPICS[kind]
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        message = (
            "<wsnt:NotificationMessage>"
            f'<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">{topic}</wsnt:Topic>'
            f'<wsnt:Message><tt:Message UtcTime="{now}" PropertyOperation="Changed">'
            f'<tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value={quoteattr(source)}/></tt:Source>'
            f'<tt:Data><tt:SimpleItem Name="{item}" Value="{"true" if active else "false"}"/></tt:Data>'
            "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
        )
        with self._cond:
            self._expire()
            for sub in self.subscriptions.values():
                sub.pending.append(message)
            self._cond.notify_all()

    def restart(self) -> None:
        """Forget every subscription, as a camera does when it reboots."""
        with self._cond:
            self.subscriptions.clear()
            self.restarts += 1
            self._cond.notify_all()

    def live(self) -> int:
        """How many subscriptions are alive."""
        with self._cond:
            self._expire()
            return len(self.subscriptions)

    # SOAP ------------------------------------------------------------------------------
    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [s.id for s in self.subscriptions.values() if s.expires <= now]:
            del self.subscriptions[sid]

    def _termination(self, text: str | None, default: float) -> float:
        seconds = parse_duration(text) if text and text.startswith("P") else default
        return min(seconds, self.max_termination_s)

    @staticmethod
    def _times(expires: float) -> str:
        now = dt.datetime.now(dt.UTC)
        end = now + dt.timedelta(seconds=max(0.0, expires - time.monotonic()))
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
        return (
            f"<wsnt:CurrentTime>{now.strftime(fmt)}</wsnt:CurrentTime>"
            f"<wsnt:TerminationTime>{end.strftime(fmt)}</wsnt:TerminationTime>"
        )

    def handle(
        self, service: str, operation: str, request: etree._Element, sub_id: int | None
    ) -> tuple[int, str]:
        """Answer one events or subscription request: (HTTP status, envelope)."""
        try:
            if service == "events":
                return 200, self._events(operation, request)
            return 200, self._subscription(operation, request, sub_id)
        except SimFault as fault:
            return fault.status, fault_envelope(fault)

    def _events(self, operation: str, request: etree._Element) -> str:
        if operation == "CreatePullPointSubscription":
            seconds = self._termination(xml_anytext(request, "InitialTerminationTime"), 60.0)
            with self._cond:
                sub = SimSubscription(next(self._ids), time.monotonic() + seconds)
                self.subscriptions[sub.id] = sub
                self.created += 1
            return _wrap(
                "tev:CreatePullPointSubscriptionResponse",
                f"<tev:SubscriptionReference><wsa:Address>{self.base_url}/onvif/subscription_{sub.id}"
                f"</wsa:Address></tev:SubscriptionReference>{self._times(sub.expires)}",
            )
        if operation == "GetServiceCapabilities":
            return _wrap(
                "tev:GetServiceCapabilitiesResponse",
                '<tev:Capabilities WSSubscriptionPolicySupport="false" '
                'WSPausableSubscriptionManagerInterfaceSupport="false" MaxPullPoints="8"/>',
            )
        raise SimFault(f"{operation} is not supported", "ter:ActionNotSupported", code="Receiver")

    def _subscription(self, operation: str, request: etree._Element, sub_id: int | None) -> str:
        with self._cond:
            self._expire()
            sub = self.subscriptions.get(sub_id) if sub_id is not None else None
            if sub is None:
                raise SimFault(
                    f"no subscription {sub_id} (expired, unsubscribed or the camera restarted)",
                    "ter:InvalidArgVal",
                    subsubcode="ter:ResourceUnknown",
                )
            if operation == "Renew":
                if self.fail_renew:
                    raise SimFault(
                        "Renew refused", "ter:InvalidArgVal", code="Receiver", status=500
                    )
                seconds = self._termination(xml_anytext(request, "TerminationTime"), 60.0)
                sub.expires = time.monotonic() + seconds
                self.renewed += 1
                return _wrap("wsnt:RenewResponse", self._times(sub.expires))
            if operation == "Unsubscribe":
                del self.subscriptions[sub.id]
                self.unsubscribed += 1
                self._cond.notify_all()
                return _wrap("wsnt:UnsubscribeResponse", "")
            if operation == "SetSynchronizationPoint":
                return _wrap("tev:SetSynchronizationPointResponse", "")
            if operation != "PullMessages":
                raise SimFault(f"{operation} is not supported", "ter:ActionNotSupported")
            wait = parse_duration(xml_anytext(request, "Timeout") or "PT1S")
            limit = int(xml_anytext(request, "MessageLimit") or "100")
            deadline = time.monotonic() + wait
            while not sub.pending and not self._stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0 or self.subscriptions.get(sub.id) is not sub:
                    break
                self._cond.wait(min(left, 0.05))
            messages, sub.pending = sub.pending[:limit], sub.pending[limit:]
            return _wrap(
                "tev:PullMessagesResponse",
                self._times(sub.expires).replace("wsnt:", "tev:") + "".join(messages),
            )


def _wrap(element: str, inner: str) -> str:
    return envelope(
        f'<{element} xmlns:tev="{TEV}" xmlns:wsnt="{WSNT}" xmlns:wsa="{WSA}" '
        f'xmlns:tns1="{TNS1}">{inner}</{element}>'
    )
