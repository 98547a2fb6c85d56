"""A detect-only capture worker (no picture painted) and the detect output's own cost in stats.

Real parts: the supervisor with synthetic cameras, workers in threads and processes, the
shared-memory rings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from camwall.capture import CameraSpec, CameraState, CaptureSupervisor, StatsEvent
from camwall.capture.spec import DetectOutput
from camwall.frames import FrameRing
from camwall.sources import SourceSettings
from support.events import EventLog


def spec(name: str, **kw: object) -> CameraSpec:
    return CameraSpec(
        name=name,
        source=SourceSettings(url=f"synthetic://{name}?width=1280&height=720&fps=25"),
        initial_frame=(1280, 720),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["thread", "process"])
def supervisor(request: pytest.FixtureRequest, events: EventLog) -> Iterator[CaptureSupervisor]:
    sup = CaptureSupervisor(events, mode=request.param, stop_deadline_s=2.0)
    yield sup
    assert sup.close(timeout=10.0)


@pytest.fixture
def events() -> EventLog:
    return EventLog()


def frames_in(ring_name: str) -> int:
    ring = FrameRing.attach(ring_name)
    try:
        return ring.latest_seq
    finally:
        ring.close()


def stats_after(events: EventLog, camera: str, after: int, timeout: float = 20) -> StatsEvent:
    event = events.wait_for(
        lambda e: isinstance(e, StatsEvent) and e.camera == camera, timeout, after
    )
    assert isinstance(event, StatsEvent)
    return event


def test_a_detect_only_worker_feeds_the_detect_ring_and_paints_nothing(
    supervisor: CaptureSupervisor, events: EventLog
) -> None:
    supervisor.start(spec("det", view=False, detect=DetectOutput(fps=10)))
    view = events.ring("det")
    detect = events.wait_for(lambda e: getattr(e, "role", "") == "detect", 10)
    events.wait_state("det", CameraState.STREAMING, 20)
    stats = stats_after(events, "det", len(events.events))
    # The detect output alone: ~10 detect frames a second, its own cost, no view frames.
    assert stats.fps_published == 0 and stats.fps_detect > 5 and stats.detect_ms > 0
    assert frames_in(view.ring_name) == 0 and frames_in(detect.ring_name) > 0
    ring = FrameRing.attach(detect.ring_name)
    try:
        frame = ring.read_latest()
        assert frame is not None and (frame.width, frame.height) == (640, 360)
    finally:
        ring.close()

    # Painting again (the picture came back to this stream): view frames, cost apart.
    supervisor.set_view("det", True)
    deadline = time.monotonic() + 20
    while frames_in(view.ring_name) == 0:
        assert time.monotonic() < deadline, "no view frame after set_view(True)"
        time.sleep(0.05)
    stats = stats_after(events, "det", len(events.events))
    assert stats.fps_published > 0 and stats.convert_ms > 0 and stats.fps_detect > 0


def test_a_worker_without_detection_reports_no_detect_cost(
    supervisor: CaptureSupervisor, events: EventLog
) -> None:
    supervisor.start(spec("plain"))
    events.wait_state("plain", CameraState.STREAMING, 20)
    stats = stats_after(events, "plain", len(events.events))
    assert stats.fps_published > 0 and stats.detect_ms == 0 and stats.fps_detect == 0


def test_streaming_is_said_once_a_frame_is_in_the_ring(
    supervisor: CaptureSupervisor, events: EventLog
) -> None:
    """A stream switch follows STREAMING: the new ring must already hold a picture."""
    supervisor.start(spec("first"))
    view = events.ring("first")
    events.wait_state("first", CameraState.STREAMING, 20)
    assert frames_in(view.ring_name) >= 1
