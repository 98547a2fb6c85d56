"""The capture supervisor and workers with synthetic cameras, in thread and process mode."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from camwall.capture import (
    BackoffPolicy,
    CameraSpec,
    CameraState,
    CaptureSupervisor,
    RingEvent,
    fit_size,
)
from camwall.frames import FrameRing
from camwall.sources import SourceSettings
from camwall.sources.synthetic import BAR_COLORS_BGRA, LOWER_GREY
from support.events import EventLog

FAST = BackoffPolicy(initial_s=0.1, factor=2.0, max_s=0.4, jitter=0.1, failed_s=0.5, healthy_s=5.0)


def spec(name: str, query: str = "width=320&height=180&fps=50", **kw: object) -> CameraSpec:
    return CameraSpec(
        name=name,
        source=SourceSettings(url=f"synthetic://{name}?{query}"),
        backoff=kw.pop("backoff", FAST),  # type: ignore[arg-type]
        initial_frame=kw.pop("initial_frame", (640, 360)),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["thread", "process"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def supervisor(mode: str, events: EventLog) -> CaptureSupervisor:
    sup = CaptureSupervisor(events, mode=mode, stop_deadline_s=2.0)  # type: ignore[arg-type]
    yield sup
    assert sup.close(timeout=10.0)


def check_bars(array: np.ndarray) -> None:
    """The synthetic picture: eight bars in the top two thirds, grey below."""
    h, w = array.shape[:2]
    for i, color in enumerate(BAR_COLORS_BGRA):
        x = int((i + 0.5) * w / len(BAR_COLORS_BGRA))
        assert tuple(array[h // 10, x]) == color, f"bar {i} at x={x}"
    assert tuple(array[h - 2, 1][:3]) == (LOWER_GREY,) * 3


def test_frames_reach_the_ring(supervisor: CaptureSupervisor, events: EventLog, mode: str) -> None:
    supervisor.start(spec("cam1"))
    ring_event = events.ring("cam1")
    events.wait_state("cam1", CameraState.STREAMING, 20)
    ring = FrameRing.attach(ring_event.ring_name)
    try:
        seq0 = ring.latest_seq
        time.sleep(1.0)
        frames = ring.latest_seq - seq0
        assert 25 <= frames <= 60, f"{frames} frames in 1 s from a 50 fps camera"
        frame = ring.read_latest()
        assert frame is not None and (frame.width, frame.height) == (320, 180)
        check_bars(frame.array)
        assert 0 < time.monotonic_ns() - frame.capture_ns < 1e9
        stats = events.stats("cam1")
        assert stats.width == 320 and stats.fps_published > 0
        assert supervisor.ring_name("cam1") == ring.name
        assert supervisor.state("cam1") is CameraState.STREAMING
    finally:
        ring.close()
    assert events.states("cam1")[:2] == [CameraState.CONNECTING, CameraState.STREAMING]


def test_stop_returns_at_once_and_cleans_up(
    supervisor: CaptureSupervisor, events: EventLog
) -> None:
    supervisor.start(spec("cam1"))
    ring_name = events.ring("cam1").ring_name
    events.wait_state("cam1", CameraState.STREAMING, 20)
    t0 = time.perf_counter()
    supervisor.stop("cam1")
    assert time.perf_counter() - t0 < 0.1
    events.wait_state("cam1", CameraState.STOPPED, 10)
    deadline = time.monotonic() + 5
    while (Path("/dev/shm") / ring_name).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not (Path("/dev/shm") / ring_name).exists()
    assert supervisor.cameras() == []


def test_stop_while_stalled(supervisor: CaptureSupervisor, events: EventLog) -> None:
    """A worker blocked in a silent stream stops promptly (the read is interrupted)."""
    supervisor.start(spec("cam1", "width=320&height=180&fps=50&stall_after=1"))
    events.wait_state("cam1", CameraState.STREAMING, 20)
    time.sleep(0.2)  # now blocked waiting for frame 2
    n = len(events)
    t0 = time.perf_counter()
    supervisor.stop("cam1")
    assert time.perf_counter() - t0 < 0.1
    events.wait_state("cam1", CameraState.STOPPED, 10, after=n)
    assert time.perf_counter() - t0 < 1.5, (
        "stop waited for the stall timeout instead of interrupting"
    )


def test_lost_backoff_reconnect_cycle(supervisor: CaptureSupervisor, events: EventLog) -> None:
    supervisor.start(spec("cam1", "width=320&height=180&fps=50&fail_after=10"))
    for _ in range(3):
        n = len(events)
        lost = events.wait_state("cam1", CameraState.LOST, 20, after=n)
        assert "fail_after" in lost.reason and lost.error == "StreamLostError"
        backoff = events.wait_state("cam1", CameraState.BACKOFF, 5, after=n)
        assert backoff.retry_in_s is not None and 0 < backoff.retry_in_s <= FAST.max_s * 1.2
        events.wait_state("cam1", CameraState.STREAMING, 20, after=n)


def test_stall_detected_as_lost(supervisor: CaptureSupervisor, events: EventLog) -> None:
    cam = CameraSpec(
        name="cam1",
        source=SourceSettings(
            url="synthetic://cam1?width=320&height=180&fps=50&stall_after=5", stall_timeout_s=0.5
        ),
        backoff=FAST,
        initial_frame=(640, 360),
    )
    supervisor.start(cam)
    lost = events.wait_state("cam1", CameraState.LOST, 20)
    assert "stalled" in lost.reason


def test_permanent_error_is_failed_and_retried_slowly(
    supervisor: CaptureSupervisor, events: EventLog
) -> None:
    supervisor.start(spec("cam1", "width=320&height=180&bogus=1"))
    failed = events.wait_state("cam1", CameraState.FAILED, 20)
    assert "unknown parameter" in failed.reason and "bogus" in failed.reason
    assert failed.retry_in_s is not None and failed.retry_in_s >= FAST.failed_s * 0.8
    assert failed.error == "InvalidSourceError"
    n = len(events)
    again = events.wait_state("cam1", CameraState.FAILED, 10, after=n)  # retried
    assert again.attempt > failed.attempt


def test_resolution_change_recreates_ring(supervisor: CaptureSupervisor, events: EventLog) -> None:
    cam = spec(
        "cam1",
        "width=320&height=180&fps=50&resize_at=20&resize_to=800x450",
        initial_frame=(320, 180),
    )
    supervisor.start(cam)
    first = events.ring("cam1").ring_name
    events.wait_state("cam1", CameraState.STREAMING, 20)
    old = FrameRing.attach(first)
    try:
        second = events.wait_for(lambda e: isinstance(e, RingEvent) and e.ring_name != first, 20)
        assert isinstance(second, RingEvent) and (second.width, second.height) == (800, 450)
        assert old.successor == second.ring_name
        new = FrameRing.attach(second.ring_name)
        try:
            seq = new.latest_seq
            time.sleep(0.5)
            assert new.latest_seq > seq
            frame = new.read_latest()
            assert frame is not None and (frame.width, frame.height) == (800, 450)
            check_bars(frame.array)
        finally:
            new.close()
        assert not (Path("/dev/shm") / first).exists()  # the old ring is unlinked...
        assert old.read_latest() is not None  # ...but readers still attached keep it mapped
    finally:
        old.close()


def test_max_size_publishes_smaller_frames(supervisor: CaptureSupervisor, events: EventLog) -> None:
    cam = spec(
        "cam1", "width=1280&height=720&fps=25", max_size=(320, 180), initial_frame=(1280, 720)
    )
    supervisor.start(cam)
    ring_name = events.ring("cam1").ring_name
    events.wait_state("cam1", CameraState.STREAMING, 20)
    ring = FrameRing.attach(ring_name)
    try:
        time.sleep(0.3)
        frame = ring.read_latest()
        assert frame is not None and (frame.width, frame.height) == (320, 180)
        check_bars(frame.array)
        supervisor.set_max_size("cam1", None)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            info = ring.latest_info()
            if info is not None and info.width == 1280:
                break
            time.sleep(0.05)
        assert info is not None and (info.width, info.height) == (1280, 720)
    finally:
        ring.close()


def test_reconnect_request(supervisor: CaptureSupervisor, events: EventLog) -> None:
    supervisor.start(spec("cam1"))
    events.wait_state("cam1", CameraState.STREAMING, 20)
    n = len(events)
    supervisor.reconnect("cam1")
    lost = events.wait_state("cam1", CameraState.LOST, 10, after=n)
    assert lost.reason == "reconnect requested"
    events.wait_state("cam1", CameraState.STREAMING, 10, after=n)


def test_restart_same_name_while_stopping(supervisor: CaptureSupervisor, events: EventLog) -> None:
    supervisor.start(spec("cam1"))
    events.wait_state("cam1", CameraState.STREAMING, 20)
    supervisor.stop("cam1")
    n = len(events)
    supervisor.start(spec("cam1"))
    events.wait_state("cam1", CameraState.STREAMING, 20, after=n)
    time.sleep(1.0)
    assert supervisor.state("cam1") is CameraState.STREAMING


def test_duplicate_name_rejected(supervisor: CaptureSupervisor) -> None:
    supervisor.start(spec("cam1"))
    with pytest.raises(ValueError, match="already running"):
        supervisor.start(spec("cam1"))


def test_many_cameras_and_close(mode: str, events: EventLog) -> None:
    sup = CaptureSupervisor(events, mode=mode)  # type: ignore[arg-type]
    names = [f"cam{i}" for i in range(4)]
    for name in names:
        sup.start(spec(name, "width=160&height=90&fps=25"))
    for name in names:
        events.wait_state(name, CameraState.STREAMING, 30)
    t0 = time.perf_counter()
    assert sup.close(timeout=10.0)
    assert time.perf_counter() - t0 < 5.0
    assert all(events.states(n)[-1] is CameraState.STOPPED for n in names)


def test_killed_worker_is_restarted(events: EventLog) -> None:
    """A worker process SIGKILLed mid-stream is restarted with the same ring; nothing leaks."""
    sup = CaptureSupervisor(events, mode="process")
    try:
        sup.start(spec("cam1"))
        ring_name = events.ring("cam1").ring_name
        events.wait_state("cam1", CameraState.STREAMING, 20)
        import psutil

        workers = [
            p
            for p in psutil.Process().children()
            if "resource_tracker" not in " ".join(p.cmdline())
        ]
        assert len(workers) == 1
        n = len(events)
        os.kill(workers[0].pid, signal.SIGKILL)
        lost = events.wait_state("cam1", CameraState.LOST, 10, after=n)
        assert "SIGKILL" in lost.reason and lost.error == "WorkerDiedError"
        events.wait_state("cam1", CameraState.STREAMING, 20, after=n)
        assert sup.ring_name("cam1") == ring_name
        ring = FrameRing.attach(ring_name)
        try:
            seq = ring.latest_seq
            time.sleep(0.5)
            assert ring.latest_seq > seq
        finally:
            ring.close()
    finally:
        assert sup.close(timeout=10.0)
    assert not (Path("/dev/shm") / ring_name).exists()


def test_fit_size() -> None:
    assert fit_size(2560, 1440, None) == (2560, 1440)
    assert fit_size(2560, 1440, (960, 540)) == (960, 540)
    assert fit_size(1920, 1080, (1600, 1000)) == (
        1920,
        1080,
    )  # less than 1.5× larger: paint-time scaling
    assert fit_size(2560, 1440, (480, 480)) == (480, 270)


def test_backoff_policy() -> None:
    import random

    policy = BackoffPolicy(initial_s=1, factor=2, max_s=8, jitter=0.0, failed_s=30)
    assert [policy.delay(a) for a in range(1, 6)] == [1, 2, 4, 8, 8]
    assert policy.delay(3, failed=True) == 30
    jittery = BackoffPolicy(initial_s=1, jitter=0.2)
    rng = random.Random(1)
    delays = [jittery.delay(1, rng=rng) for _ in range(200)]
    assert min(delays) >= 0.8 and max(delays) <= 1.2 and len(set(delays)) > 100


def test_workers_do_not_outlive_a_killed_owner() -> None:
    """SIGKILL the app that owns the supervisor: its workers stop; the next start reclaims the ring."""
    import subprocess
    import sys
    import textwrap

    import psutil

    from camwall.frames import reclaim_stale

    script = textwrap.dedent(
        """
        import time
        from camwall.capture import CameraSpec, CameraState, CaptureSupervisor, StateEvent
        from camwall.sources import SourceSettings

        def on_event(event):
            if isinstance(event, StateEvent) and event.state is CameraState.STREAMING:
                print("STREAMING", flush=True)

        if __name__ == "__main__":
            sup = CaptureSupervisor(on_event, mode="process")
            sup.start(CameraSpec("cam1", SourceSettings("synthetic://cam1?width=160&height=90"),
                                 initial_frame=(320, 180)))
            time.sleep(120)
        """
    )
    app = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None
        assert app.stdout.readline().strip() == "STREAMING"
        workers = [
            p
            for p in psutil.Process(app.pid).children()
            if "resource_tracker" not in " ".join(p.cmdline())
        ]
        assert len(workers) == 1
        segments = [
            p.name for p in Path("/dev/shm").iterdir() if p.name.startswith(f"camwall-{app.pid}-")
        ]
        assert len(segments) == 1
        app.kill()
        app.wait(10)
        _, alive = psutil.wait_procs(workers, timeout=5)
        assert not alive, "the capture worker outlived its supervisor"
        reclaimed = reclaim_stale("camwall")
        # /dev/shm is shared: another camwall run on this machine may reclaim the dead ring
        # first (and this call may reclaim other dead runs' rings too).
        assert all(name in reclaimed or not (Path("/dev/shm") / name).exists() for name in segments)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
        if app.stdout is not None:
            app.stdout.close()


def test_frame_notifications(supervisor: CaptureSupervisor, events: EventLog) -> None:
    """Every published frame makes the notification descriptor readable; draining empties it."""
    import select

    fd = supervisor.frame_notify_fd
    supervisor.start(spec("cam1", "width=160&height=90&fps=25"))
    ring_name = events.ring("cam1").ring_name
    events.wait_state("cam1", CameraState.STREAMING, 20)
    supervisor.drain_frame_notifications()
    ring = FrameRing.attach(ring_name)
    try:
        seq0 = ring.latest_seq
        ready, _, _ = select.select([fd], [], [], 2.0)
        assert ready == [fd]
        time.sleep(0.5)
        got = supervisor.drain_frame_notifications()
        published = ring.latest_seq - seq0
        assert published >= 5 and abs(got - published) <= 2, (got, published)
        assert supervisor.drain_frame_notifications() == 0  # drained: nothing until the next frame
    finally:
        ring.close()
