"""The capture supervisor against a real RTSP server: rate, faults, reconnects, stop, secrecy.

The source-level behaviour is in tests/test_sources_*.py; these tests check that it reaches
the user through the supervisor: the right states with readable reasons, frames in the
ring, and a caller that is never blocked.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import psutil
import pytest

from camwall.capture import (
    BackoffPolicy,
    CameraSpec,
    CameraState,
    CaptureSupervisor,
    RingEvent,
    event_to_dict,
)
from camwall.frames import FrameRing
from camwall.sources import SourceSettings
from fixtures.rtsp import PASSWORD, RtspServer, ServerFactory
from support.events import EventLog
from support.faultservers import GarbageServer, SilentServer

pytestmark = pytest.mark.rtsp

FAST = BackoffPolicy(initial_s=0.2, factor=2.0, max_s=1.0, jitter=0.1, failed_s=2.0, healthy_s=30.0)


def camera(
    url: str, name: str = "cam", initial_frame: tuple[int, int] = (640, 360), **kw: object
) -> CameraSpec:
    return CameraSpec(
        name=name,
        source=SourceSettings(url, **kw),  # type: ignore[arg-type]
        backoff=FAST,
        initial_frame=initial_frame,
    )


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture(params=["process"])
def supervisor(request: pytest.FixtureRequest, events: EventLog) -> CaptureSupervisor:
    sup = CaptureSupervisor(events, mode=request.param, stop_deadline_s=3.0)
    yield sup
    t0 = time.monotonic()
    assert sup.close(timeout=15.0)
    assert time.monotonic() - t0 < 10, "closing the supervisor hung"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_1440p_frames_land_in_the_ring_at_the_stream_rate(
    rtsp_server_factory: ServerFactory, supervisor: CaptureSupervisor, events: EventLog
) -> None:
    server = rtsp_server_factory(("big:width=2560,height=1440,fps=15,pattern=smpte",), None)
    supervisor.start(camera(server.url("big"), initial_frame=(2560, 1440)))
    ring_name = events.ring("cam").ring_name
    events.wait_state("cam", CameraState.STREAMING, 30)
    ring = FrameRing.attach(ring_name)
    try:
        # Past the first-frame burst, then the time 60 more frames take (a wait on the
        # ring, not a sleep: a busy machine only makes it longer).
        deadline = time.monotonic() + 60
        while ring.latest_seq < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        seq0, t0 = ring.latest_seq, time.monotonic()
        while ring.latest_seq < seq0 + 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        rate = (ring.latest_seq - seq0) / (time.monotonic() - t0)
        frame = ring.read_latest()
    finally:
        ring.close()
    assert frame is not None and (frame.width, frame.height) == (2560, 1440)
    # Neither throttled nor doubled; a loaded machine may catch up in bursts (≤ +25 %).
    assert 10 <= rate <= 15 * 1.25, f"{rate:.1f} frames/s published from a 15 fps stream"
    # SMPTE bars, top left is grey-white, then yellow: the picture is really decoded.
    assert frame.array[100, 100, :3].min() > 150
    b, g, r = frame.array[100, 2560 // 7 + 100, :3]
    assert r > 150 and g > 150 and b < 80, (b, g, r)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_server_killed_and_back_ten_times(
    rtsp_server: RtspServer, supervisor: CaptureSupervisor, events: EventLog
) -> None:
    supervisor.start(camera(rtsp_server.url("cam")))
    ring_name = events.ring("cam").ring_name
    events.wait_state("cam", CameraState.STREAMING, 30)
    worker = next(p for p in psutil.Process().children() if "spawn_main" in " ".join(p.cmdline()))
    fds0 = worker.num_fds()
    for cycle in range(10):
        n = len(events)
        rtsp_server.stop()
        t_kill = time.monotonic()
        lost = events.wait_state("cam", CameraState.LOST, 10, after=n)
        assert time.monotonic() - t_kill < 3.0, (
            f"cycle {cycle}: lost noticed after {time.monotonic() - t_kill:.1f} s"
        )
        assert lost.reason and lost.error, lost
        n = len(events)
        rtsp_server.start()
        t_back = time.monotonic()
        events.wait_state("cam", CameraState.STREAMING, 15, after=n)
        # Backoff is capped at 1 s (+10 % jitter); add the time to reconnect and decode.
        assert time.monotonic() - t_back < FAST.max_s * 1.1 + 3.0, f"cycle {cycle}"
    assert supervisor.ring_name("cam") == ring_name  # the same ring throughout
    assert worker.is_running()  # the same worker: failures are handled, not crashes
    assert worker.num_fds() <= fds0 + 4, f"file descriptors grew from {fds0} to {worker.num_fds()}"


@pytest.mark.parametrize(
    ("case", "state", "error", "words"),
    [
        ("404", CameraState.FAILED, "StreamNotFoundError", ["404", "/nosuchstream"]),
        (
            "401",
            CameraState.FAILED,
            "SourceAuthError",
            ["401", "rejected the user name or password"],
        ),
        ("refused", CameraState.LOST, "SourceRefusedError", ["refused the connection"]),
        ("unreachable", CameraState.LOST, "SourceTimeoutError", ["no answer within"]),
        ("silent", CameraState.LOST, "SourceTimeoutError", ["no answer within"]),
        ("audio", CameraState.FAILED, "UnsupportedStreamError", ["no video"]),
        ("garbage", CameraState.FAILED, "UnsupportedStreamError", ["did not speak RTSP"]),
    ],
)
def test_faults_reach_the_user_with_their_reason(
    case: str,
    state: CameraState,
    error: str,
    words: list[str],
    rtsp_shared: RtspServer,
    free_port: int,
    unreachable_port: int,
    silent_server: SilentServer,
    garbage_server: GarbageServer,
    events: EventLog,
) -> None:
    url = {
        "404": rtsp_shared.url("nosuchstream"),
        "401": rtsp_shared.url("secure", "user", "wrong"),
        "refused": f"rtsp://127.0.0.1:{free_port}/stream",
        "unreachable": f"rtsp://127.0.0.1:{unreachable_port}/stream",
        "silent": silent_server.url("rtsp"),
        "audio": rtsp_shared.url("audio"),
        "garbage": garbage_server.url("rtsp"),
    }[case]
    # Thread mode: the same worker code, without a process start per case.
    sup = CaptureSupervisor(events, mode="thread", stop_deadline_s=3.0)
    try:
        sup.start(camera(url))
        got = events.wait_state("cam", state, 15)
        assert got.error == error, got
        for word in words:
            assert word in got.reason, got.reason
        assert got.retry_in_s is not None or state is CameraState.LOST
        if state is CameraState.LOST:
            backoff = events.wait_state("cam", CameraState.BACKOFF, 5)
            assert backoff.reason == got.reason and backoff.retry_in_s is not None
    finally:
        t0 = time.monotonic()
        assert sup.close(timeout=15.0)
        assert time.monotonic() - t0 < 6, "a fault hung the supervisor's close"


def test_truncated_file_streams_then_is_lost(damaged_clip: Path, events: EventLog) -> None:
    sup = CaptureSupervisor(events, mode="thread")
    try:
        sup.start(camera(str(damaged_clip), realtime=False))
        events.wait_state("cam", CameraState.STREAMING, 15)
        lost = events.wait_state("cam", CameraState.LOST, 30)
        assert lost.error == "StreamLostError" and "end of stream" in lost.reason
    finally:
        assert sup.close(timeout=15.0)


@pytest.mark.slow
def test_resolution_change_over_rtsp_recreates_the_ring(
    rtsp_server: RtspServer, events: EventLog
) -> None:
    sup = CaptureSupervisor(events, mode="process")
    try:
        spec = CameraSpec(
            "cam", SourceSettings(rtsp_server.url("cam")), backoff=FAST, initial_frame=(320, 180)
        )
        sup.start(spec)
        first = events.ring("cam").ring_name
        events.wait_state("cam", CameraState.STREAMING, 30)
        rtsp_server.set_resolution("cam", 640, 360)
        second = events.wait_for(lambda e: isinstance(e, RingEvent) and e.ring_name != first, 20)
        assert isinstance(second, RingEvent) and (second.width, second.height) == (640, 360)
        ring = FrameRing.attach(second.ring_name)
        try:
            seq = ring.latest_seq
            time.sleep(1.0)
            assert ring.latest_seq > seq + 5, "frames stopped after the resolution change"
            frame = ring.read_latest()
            assert frame is not None and (frame.width, frame.height) == (640, 360)
        finally:
            ring.close()
        assert sup.state("cam") is CameraState.STREAMING
    finally:
        assert sup.close(timeout=15.0)


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_stop_returns_at_once_while_opening_a_dead_host(
    mode: str, silent_server: SilentServer, events: EventLog
) -> None:
    sup = CaptureSupervisor(events, mode=mode)  # type: ignore[arg-type]
    try:
        sup.start(camera(silent_server.url("rtsp"), open_timeout_s=30.0, read_timeout_s=30.0))
        events.wait_state("cam", CameraState.CONNECTING, 15)
        time.sleep(1.0)  # the worker is now blocked inside FFmpeg's open
        n = len(events)
        t0 = time.perf_counter()
        sup.stop("cam")
        took_ms = (time.perf_counter() - t0) * 1000
        assert took_ms < 100, f"stop() took {took_ms:.1f} ms"
        events.wait_state("cam", CameraState.STOPPED, 10, after=n)
        assert time.perf_counter() - t0 < 3.0, "the blocked open was not interrupted"
    finally:
        assert sup.close(timeout=15.0)


def test_credentials_never_appear_in_events_or_logs(
    rtsp_shared: RtspServer, events: EventLog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sup = CaptureSupervisor(events, mode="process")
    try:
        sup.start(camera(rtsp_shared.url("secure", "user", PASSWORD), name="good"))
        sup.start(camera(rtsp_shared.url("secure", "user", "hunter2-wrong"), name="bad"))
        events.wait_state("good", CameraState.STREAMING, 30)
        events.stats("good", 10)
        events.wait_state("bad", CameraState.FAILED, 30)
    finally:
        assert sup.close(timeout=15.0)
    dumped = json.dumps([event_to_dict(e) for e in events.events], default=str)
    assert "user:" not in dumped and PASSWORD not in dumped and "hunter2" not in dumped
    assert "***@127.0.0.1" in dumped  # the URLs are there, masked
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert PASSWORD not in text and "hunter2" not in text, text
