"""Hear cameras: ONVIF events (motion, tamper, inputs, line/field crossing) over PullPoint.

:class:`CameraEvents` follows any number of cameras, each with its own task on one event loop
in one thread the service owns (a :class:`~camwall.control.service.ControlService`, its own
or a shared one). Per camera:

* log in, ``CreatePullPointSubscription`` with a termination time (``termination_s``);
* ``PullMessages`` in a loop (a long poll of up to ``pull_timeout_s``), each message
  normalised to a :class:`CameraEvent` and handed to ``on_event``;
* ``Renew`` when 80 % of the termination time has passed; a refused renewal, a pull-point
  the camera no longer knows (it rebooted) or a lost connection → a new subscription, after
  the one :class:`~camwall.backoff.BackoffPolicy` delay if the last one failed too;
* a camera without an event service, or one refusing the login, is reported once
  (``on_state``: "unsupported" / "failed") and not asked again — no retry storm;
* :meth:`CameraEvents.remove` and :meth:`CameraEvents.stop` Unsubscribe cleanly.

Callbacks run on the service's thread: a Qt face hands them to its thread with a signal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from camwall.backoff import BackoffPolicy
from camwall.control.model import OnvifSettings
from camwall.control.onvif.client import EVENTS_NS, OnvifCameraControl
from camwall.control.onvif.probe import attr
from camwall.control.service import ControlService, connect_backoff
from camwall.errors import ControlAuthError, ControlError, ControlUnsupportedError

log = logging.getLogger(__name__)

#: Renew when this fraction of the subscription's time has passed.
RENEW_AT = 0.8


class EventKind(enum.Enum):
    """What a camera event is about, from its topic (the topic itself is kept as reported)."""

    MOTION = "motion"
    TAMPER = "tamper"
    INPUT = "input"
    LINE = "line"
    FIELD = "field"
    OTHER = "other"


# Topic fragments by kind, most specific first (lower case). Vendors vary the topic tree;
# these cover the ONVIF profile topics and the common vendor ones.
_KINDS = (
    (EventKind.LINE, ("linedetector", "linecross", "crossed", "tripwire")),
    (EventKind.FIELD, ("fielddetector", "objectsinside", "intrusion", "regionentrance")),
    (EventKind.TAMPER, ("tamper", "globalscenechange", "imagetoo", "signalloss")),
    (EventKind.MOTION, ("motion",)),
    (EventKind.INPUT, ("digitalinput", "logicalstate", "trigger/relay", "io/port")),
)
# Data items that carry an event's state, by preference.
_STATE_ITEMS = ("State", "IsMotion", "IsTamper", "LogicalState", "IsInside", "Value")
_TRUE = {"true", "1", "on", "active", "yes"}
_FALSE = {"false", "0", "off", "inactive", "no"}


@dataclass(frozen=True)
class CameraEvent:
    """One event a camera reported, normalised; ``topic`` is the camera's own."""

    camera: str
    topic: str
    kind: EventKind
    #: On/off events: the new state. Pulses (a line crossed) are True.
    active: bool
    source: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    #: The camera's time of the event (UTC), if it said.
    time: dt.datetime | None = None
    #: "Initialized" (the state when the subscription began), "Changed" or "Deleted".
    operation: str | None = None
    type: str = field(default="camera_event", init=False)


class EventsState(enum.Enum):
    """Where a camera's event subscription stands."""

    SUBSCRIBED = "subscribed"
    RETRYING = "retrying"
    UNSUPPORTED = "unsupported"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class EventsStatus:
    """A change of a camera's subscription state, with the reason a person can act on."""

    camera: str
    state: EventsState
    reason: str = ""
    type: str = field(default="camera_events_state", init=False)


def classify(topic: str) -> EventKind:
    """The kind of event a topic names."""
    low = topic.lower()
    for kind, fragments in _KINDS:
        if any(f in low for f in fragments):
            return kind
    return EventKind.OTHER


def _simple_items(obj: Any, part: str) -> dict[str, str]:
    """Name → value of the SimpleItems under ``part`` (Source, Data) of a tt:Message."""
    out: dict[str, str] = {}
    if hasattr(obj, "iter") and hasattr(obj, "tag"):  # an lxml element (xsd:any, unparsed)
        for el in obj.iter():
            if isinstance(el.tag, str) and el.tag.endswith("}" + part):
                for item in el.iter():
                    if isinstance(item.tag, str) and item.tag.endswith("}SimpleItem"):
                        out[str(item.get("Name"))] = str(item.get("Value"))
        return out
    items = attr(obj, part, "SimpleItem") or []
    for item in items if isinstance(items, list) else [items]:
        name, value = attr(item, "Name"), attr(item, "Value")
        if name is not None:
            out[str(name)] = "" if value is None else str(value)
    return out


def _state(data: dict[str, str]) -> bool:
    names = [n for n in _STATE_ITEMS if n in data] + [n for n in data if n not in _STATE_ITEMS]
    for name in names:
        value = data[name].strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    return True  # no state: a pulse


def _utc(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def normalise(camera: str, notification: Any) -> CameraEvent | None:
    """A :class:`CameraEvent` from one wsnt:NotificationMessage (zeep object), or None."""
    topic = attr(notification, "Topic", "_value_1")
    message = attr(notification, "Message", "_value_1")
    if topic is None or message is None:
        return None
    topic = str(topic).strip()
    if hasattr(message, "get") and hasattr(message, "tag"):  # lxml element
        when, operation = message.get("UtcTime"), message.get("PropertyOperation")
    else:
        when, operation = attr(message, "UtcTime"), attr(message, "PropertyOperation")
    data = _simple_items(message, "Data")
    return CameraEvent(
        camera=camera,
        topic=topic,
        kind=classify(topic),
        active=_state(data),
        source=_simple_items(message, "Source"),
        data=data,
        time=_utc(when),
        operation=None if operation is None else str(operation),
    )


def _seconds_left(answer: Any) -> float | None:
    """Seconds from the answer's CurrentTime to its TerminationTime, if it says both."""
    now, end = _utc(attr(answer, "CurrentTime")), _utc(attr(answer, "TerminationTime"))
    if now is None or end is None:
        return None
    return (end - now).total_seconds()


class _Resubscribe(Exception):
    """The subscription is gone (renewal refused, camera restarted): make a new one."""

    def __init__(self, reason: str, *, lost: bool) -> None:
        super().__init__(reason)
        #: The camera no longer knows it: nothing to unsubscribe.
        self.lost = lost


class CameraEvents:
    """Follows cameras' ONVIF events; :meth:`start`, :meth:`add` cameras, :meth:`stop`."""

    def __init__(
        self,
        on_event: Callable[[CameraEvent], object],
        on_state: Callable[[EventsStatus], object] | None = None,
        *,
        service: ControlService | None = None,
        termination_s: float = 60.0,
        pull_timeout_s: float = 5.0,
        backoff: BackoffPolicy | None = None,
    ) -> None:
        if not 0 < pull_timeout_s < termination_s * RENEW_AT:
            raise ValueError("pull_timeout_s must be positive and well under termination_s")
        self._on_event = on_event
        self._on_state = on_state
        self._own_service = service is None
        self._service = service or ControlService(name="camwall-events")
        self.termination_s = termination_s
        self.pull_timeout_s = pull_timeout_s
        self.backoff = backoff or connect_backoff()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._states: dict[str, EventsState] = {}

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> CameraEvents:
        """Start the service's thread (if it owns one)."""
        if self._own_service and not self._service.running:
            self._service.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Unsubscribe every camera and end the thread (if owned); blocks up to ``timeout_s``."""
        if not self._service.running:
            return
        done = self._service.submit(self._cancel_all(), timeout_s=timeout_s)
        try:
            done.result(timeout_s + 1)
        except ControlError as err:
            log.warning("camera events: stopping: %s", err)
        except TimeoutError:  # the loop itself is too busy to time the request out
            log.warning("camera events: stopping took over %.0f s; going on", timeout_s + 1)
        if self._own_service:
            self._service.stop()

    def __enter__(self) -> CameraEvents:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # cameras ---------------------------------------------------------------------------
    def add(self, camera: str, settings: OnvifSettings) -> Future[None]:
        """Follow ``camera``'s events (replacing an earlier follow of that name)."""
        return self._service.submit(self._add(camera, settings))

    def remove(self, camera: str) -> Future[None]:
        """Stop following ``camera``: Unsubscribe, log out."""
        return self._service.submit(self._cancel([camera]))

    def state(self, camera: str) -> EventsState | None:
        """The camera's subscription state (None: never added)."""
        return self._states.get(camera)

    def following(self, camera: str) -> bool:
        """True while a task follows the camera (False after unsupported/failed/removed)."""
        task = self._tasks.get(camera)
        return task is not None and not task.done()

    async def _add(self, camera: str, settings: OnvifSettings) -> None:
        await self._cancel([camera])
        task = asyncio.get_running_loop().create_task(
            self._follow(camera, settings), name=f"camwall-events-{camera}"
        )
        self._tasks[camera] = task

    async def _cancel_all(self) -> None:
        # Listed on the loop, not by the caller: a follow whose add() is still queued
        # has no task yet when stop() is called, and must be stopped all the same.
        await self._cancel(list(self._tasks))

    async def _cancel(self, cameras: list[str]) -> None:
        tasks = [t for c in cameras if (t := self._tasks.pop(c, None)) is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def _report(self, camera: str, state: EventsState, reason: str = "") -> None:
        self._states[camera] = state
        if state in (EventsState.UNSUPPORTED, EventsState.FAILED):
            log.warning("camera events of %s: %s", camera, reason)
        else:
            log.info("camera events of %s: %s %s", camera, state.value, reason)
        if self._on_state is not None:
            asyncio.get_running_loop().call_soon(
                self._on_state, EventsStatus(camera, state, reason)
            )

    # one camera ------------------------------------------------------------------------
    async def _follow(self, camera: str, settings: OnvifSettings) -> None:
        failures = 0
        try:
            while True:
                control = OnvifCameraControl(settings)
                pulls = [0]  # successful PullMessages of this subscription
                try:
                    await self._subscribed(camera, control, pulls)
                except (ControlUnsupportedError, ControlAuthError) as err:
                    # Asking again would not help (and bad logins lock some cameras).
                    state = (
                        EventsState.UNSUPPORTED
                        if isinstance(err, ControlUnsupportedError)
                        else EventsState.FAILED
                    )
                    self._report(camera, state, str(err))
                    return
                except _Resubscribe as why:
                    # At once after a subscription that worked; with backoff when the new
                    # one is lost straight away too (a camera answering 404 to every pull).
                    failures = 0 if pulls[0] else failures + 1
                    delay = self.backoff.delay(failures) if failures else 0.0
                    self._report(
                        camera, EventsState.RETRYING, f"{why}; subscribing again in {delay:.0f} s"
                    )
                    await asyncio.sleep(delay)
                except ControlError as err:
                    failures = 0 if pulls[0] else failures
                    failures += 1
                    delay = self.backoff.delay(failures)
                    self._report(
                        camera, EventsState.RETRYING, f"{err}; subscribing again in {delay:.0f} s"
                    )
                    await asyncio.sleep(delay)
                finally:
                    await control.close()
        finally:
            if self._states.get(camera) not in (EventsState.UNSUPPORTED, EventsState.FAILED):
                self._report(camera, EventsState.STOPPED)

    async def _subscribed(self, camera: str, control: OnvifCameraControl, pulls: list[int]) -> None:
        await control.connect(probe=False)
        if not control.has_service(EVENTS_NS):
            raise ControlUnsupportedError(f"{control.label} has no ONVIF event service")
        events = await control.service("events")
        answer = await control.call(
            events,
            "CreatePullPointSubscription",
            {"InitialTerminationTime": _duration(self.termination_s)},
        )
        address = attr(answer, "SubscriptionReference", "Address", "_value_1")
        if not address:
            raise ControlError(f"{control.label} created a subscription without an address")
        manager, puller = await control.pullpoint(str(address))
        renew_at = self._renew_at(answer)
        self._report(camera, EventsState.SUBSCRIBED, str(address))
        lost = False
        try:
            while True:
                if time.monotonic() >= renew_at:
                    try:
                        renewed = await control.call(
                            manager, "Renew", {"TerminationTime": _duration(self.termination_s)}
                        )
                    except ControlError as err:
                        raise _Resubscribe(f"renewing failed ({err})", lost=False) from err
                    renew_at = self._renew_at(renewed)
                wait = max(0.1, min(self.pull_timeout_s, renew_at - time.monotonic()))
                try:
                    pulled = await control.call(
                        puller,
                        "PullMessages",
                        {"Timeout": dt.timedelta(seconds=wait), "MessageLimit": 100},
                        timeout_s=wait + control.settings.call_timeout_s,
                    )
                except ControlError as err:
                    # A rebooted camera answers a fault (wsrf ResourceUnknown) or HTTP 404
                    # (ControlUnsupportedError) for the pull point it no longer has.
                    if isinstance(err, ControlUnsupportedError) or "ResourceUnknown" in str(err):
                        raise _Resubscribe(
                            f"the camera lost the subscription ({err})", lost=True
                        ) from err
                    raise
                pulls[0] += 1
                loop = asyncio.get_running_loop()
                for event in _events(camera, pulled):
                    # Scheduled, not called: a listener's exception cannot end the follow.
                    loop.call_soon(self._on_event, event)
        except _Resubscribe as why:
            lost = why.lost
            raise
        finally:
            # Removed, stopping or failed: Unsubscribe (bounded by the call timeout), so a
            # camera's few pull points are not used up by subscriptions nobody reads.
            if not lost:
                try:
                    await control.call(manager, "Unsubscribe")
                except ControlError as err:
                    log.debug("camera events of %s: Unsubscribe: %s", camera, err)

    def _renew_at(self, answer: Any) -> float:
        left = _seconds_left(answer)
        if left is None or left <= 0:
            left = self.termination_s
        return time.monotonic() + left * RENEW_AT


def _events(camera: str, pulled: Any) -> Iterator[CameraEvent]:
    messages = attr(pulled, "NotificationMessage") or []
    for message in messages if isinstance(messages, list) else [messages]:
        event = normalise(camera, message)
        if event is not None:
            yield event


def _duration(seconds: float) -> str:
    return f"PT{max(1, round(seconds))}S"
