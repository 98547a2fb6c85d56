"""Camera events over ONVIF PullPoint, against the simulator's event service (real SOAP)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from camwall.backoff import BackoffPolicy
from camwall.control import OnvifSettings
from camwall.control.onvif.events import (
    CameraEvent,
    CameraEvents,
    EventKind,
    EventsState,
    EventsStatus,
    classify,
)
from support.onvif_sim import OnvifSimulator
from support.onvif_sim_faults import MisbehavingOnvifSimulator, Misbehaviour

WAIT = 20.0
FAST = BackoffPolicy(initial_s=0.2, factor=2.0, max_s=0.5, jitter=0.0)


class Heard:
    """What the callbacks received (they run on the events thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[CameraEvent] = []
        self.states: list[EventsStatus] = []

    def event(self, event: CameraEvent) -> None:
        with self.lock:
            self.events.append(event)

    def state(self, status: EventsStatus) -> None:
        with self.lock:
            self.states.append(status)

    def wait(self, predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate():
                    return True
            time.sleep(0.02)
        return False

    def subscribed(self, times: int = 1) -> bool:
        return self.wait(
            lambda: sum(s.state is EventsState.SUBSCRIBED for s in self.states) >= times
        )


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def events(heard: Heard) -> Iterator[CameraEvents]:
    service = CameraEvents(
        heard.event, heard.state, termination_s=2.0, pull_timeout_s=0.5, backoff=FAST
    ).start()
    yield service
    service.stop()


def settings(sim: OnvifSimulator) -> OnvifSettings:
    return OnvifSettings(sim.host, sim.port, sim.config.user, sim.config.password)


def test_motion_and_tamper_on_and_off(
    events: CameraEvents, heard: Heard, onvif_sim: OnvifSimulator
) -> None:
    events.add("door", settings(onvif_sim)).result(WAIT)
    assert heard.subscribed()
    onvif_sim.events.emit("motion", True)
    onvif_sim.events.emit("tamper", True)
    onvif_sim.events.emit("motion", False)
    assert heard.wait(lambda: len(heard.events) == 3)
    first, tamper, last = heard.events
    assert (first.camera, first.kind, first.active) == ("door", EventKind.MOTION, True)
    assert first.topic == "tns1:RuleEngine/CellMotionDetector/Motion"  # as the camera said
    assert first.source == {"VideoSourceConfigurationToken": "vsc0"}
    assert first.data == {"IsMotion": "true"} and first.operation == "Changed"
    assert first.time is not None and first.time.tzinfo is not None
    assert (tamper.kind, tamper.active) == (EventKind.TAMPER, True)
    assert (last.kind, last.active) == (EventKind.MOTION, False)


def test_subscription_is_renewed_before_it_expires(
    events: CameraEvents, heard: Heard, onvif_sim: OnvifSimulator
) -> None:
    events.add("door", settings(onvif_sim)).result(WAIT)
    assert heard.subscribed()
    # Three renewals of a 2 s subscription: it outlived its first termination time.
    assert heard.wait(lambda: onvif_sim.events.renewed >= 3)
    assert onvif_sim.events.created == 1 and onvif_sim.events.live() == 1
    onvif_sim.events.emit("motion", True)
    assert heard.wait(lambda: len(heard.events) == 1)


def test_renewal_failure_subscribes_again(
    events: CameraEvents, heard: Heard, onvif_sim: OnvifSimulator
) -> None:
    events.add("door", settings(onvif_sim)).result(WAIT)
    assert heard.subscribed()
    onvif_sim.events.fail_renew = True
    assert heard.wait(
        lambda: (
            any("renewing failed" in s.reason for s in heard.states)
            and onvif_sim.events.created >= 2
        )
    )
    onvif_sim.events.fail_renew = False
    assert heard.subscribed(2)
    onvif_sim.events.emit("motion", True)
    assert heard.wait(lambda: any(e.active for e in heard.events))


def test_camera_restart_subscribes_again(
    events: CameraEvents, heard: Heard, onvif_sim: OnvifSimulator
) -> None:
    events.add("door", settings(onvif_sim)).result(WAIT)
    assert heard.subscribed()
    onvif_sim.events.restart()  # the camera forgot every subscription
    assert heard.subscribed(2)
    assert any("lost the subscription" in s.reason for s in heard.states)
    onvif_sim.events.emit("tamper", True)
    assert heard.wait(lambda: [e.kind for e in heard.events] == [EventKind.TAMPER])


def test_camera_without_event_service_is_unsupported_once(
    events: CameraEvents, heard: Heard, make_onvif_sim: Callable[..., OnvifSimulator]
) -> None:
    sim = make_onvif_sim(has_events=False)
    events.add("old", settings(sim)).result(WAIT)
    assert heard.wait(lambda: not events.following("old") and bool(heard.states))
    assert [s.state for s in heard.states] == [EventsState.UNSUPPORTED]
    assert "has no ONVIF event service" in heard.states[0].reason
    assert events.state("old") is EventsState.UNSUPPORTED
    assert "events" not in {r.service for r in sim.requests}


def test_stop_unsubscribes(heard: Heard, onvif_sim: OnvifSimulator) -> None:
    service = CameraEvents(heard.event, heard.state, termination_s=30, pull_timeout_s=5).start()
    try:
        service.add("door", settings(onvif_sim)).result(WAIT)
        assert heard.subscribed()
        t0 = time.monotonic()
    finally:
        service.stop()
    assert time.monotonic() - t0 < 5  # a pending long poll does not hold it up
    assert onvif_sim.events.unsubscribed == 1 and onvif_sim.events.live() == 0
    assert heard.states[-1].state is EventsState.STOPPED


def test_remove_one_camera_keeps_the_others(
    events: CameraEvents, heard: Heard, make_onvif_sim: Callable[..., OnvifSimulator]
) -> None:
    a, b = make_onvif_sim(), make_onvif_sim()
    events.add("a", settings(a)).result(WAIT)
    events.add("b", settings(b)).result(WAIT)
    assert heard.subscribed(2)
    events.remove("a").result(WAIT)
    assert a.events.unsubscribed == 1 and not events.following("a")
    b.events.emit("motion", True)
    assert heard.wait(lambda: [e.camera for e in heard.events] == ["b"])


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("tns1:RuleEngine/CellMotionDetector/Motion", EventKind.MOTION),
        ("tns1:VideoSource/MotionAlarm", EventKind.MOTION),
        ("tns1:VideoSource/GlobalSceneChange/ImagingService", EventKind.TAMPER),
        ("tns1:RuleEngine/TamperDetector/Tamper", EventKind.TAMPER),
        ("tns1:Device/Trigger/DigitalInput", EventKind.INPUT),
        ("tns1:RuleEngine/LineDetector/Crossed", EventKind.LINE),
        ("tns1:RuleEngine/FieldDetector/ObjectsInside", EventKind.FIELD),
        ("tns1:Monitoring/ProcessorUsage", EventKind.OTHER),
    ],
)
def test_topics_are_classified(topic: str, kind: EventKind) -> None:
    assert classify(topic) is kind


def test_broken_pull_answers_retry_with_backoff_and_recover(
    events: CameraEvents,
    heard: Heard,
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
) -> None:
    sim = make_misbehaving_sim(Misbehaviour.HTTP_500, ["PullMessages"])
    events.add("yard", settings(sim)).result(WAIT)
    assert heard.wait(
        lambda: sum("HTTP error page" in s.reason for s in heard.states) >= 2
    )  # retried, each time with the reason, never stuck
    assert events.following("yard")
    # Each abandoned subscription was unsubscribed: the camera's pull points are not used up.
    assert heard.wait(lambda: sim.events.unsubscribed >= 2)
    sim.misbehave(None)
    created = sim.events.created
    assert heard.wait(lambda: sim.events.created > created)
    sim.events.emit("motion", True)
    assert heard.wait(lambda: any(e.camera == "yard" and e.active for e in heard.events))


def test_subscriptions_lost_at_once_back_off_instead_of_storming(
    events: CameraEvents, heard: Heard, onvif_sim: OnvifSimulator
) -> None:
    onvif_sim.events.max_termination_s = 0.0  # every subscription is gone before its first pull
    events.add("door", settings(onvif_sim)).result(WAIT)
    assert heard.wait(lambda: onvif_sim.events.created >= 4)
    creates = [r.time for r in onvif_sim.received("CreatePullPointSubscription")]
    gaps = [b - a for a, b in itertools.pairwise(creates)]
    # No subscription ever delivered a pull: each new one waits the backoff (0.2 s, 0.4 s…).
    assert all(g >= 0.15 for g in gaps), gaps
    assert events.following("door")
