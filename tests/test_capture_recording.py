"""Recording inside capture: the worker feeds its source's packets to a SegmentRecorder.

Real parts only: a looping H.264 file and the GStreamer RTSP server as cameras, real
capture workers (threads and processes), segment files played back with PyAV.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import TypeVar

import av
import psutil
import pytest

from camwall.capture import CameraSpec, CameraState, CaptureSupervisor, event_to_dict
from camwall.capture.events import RecordingEvent
from camwall.capture.spec import BackoffPolicy, RecordingSpec
from camwall.frames import FrameRing
from camwall.record import RecordingFailed, SegmentClosed, SegmentOpened
from camwall.sources import SourceSettings
from fixtures.rtsp import RtspServer
from support.events import EventLog
from support.h264clip import Clip

R = TypeVar("R", SegmentOpened, SegmentClosed, RecordingFailed)
FAST = BackoffPolicy(initial_s=0.2, factor=2.0, max_s=1.0, jitter=0.1, failed_s=1.0)


def file_camera(name: str, clip: Path, recording: RecordingSpec | None) -> CameraSpec:
    """A camera that plays ``clip`` forever at its own rate, like a live camera."""
    return CameraSpec(
        name=name,
        source=SourceSettings(str(clip), loop=True),
        backoff=FAST,
        initial_frame=(320, 180),
        stats_interval_s=0.5,
        recording=recording,
    )


def recordings(events: EventLog, camera: str) -> list[object]:
    """The recorder events of ``camera`` so far, in order."""
    return [
        e.record
        for e in list(events.events)
        if isinstance(e, RecordingEvent) and e.camera == camera
    ]


def wait_records(
    events: EventLog, camera: str, kind: type[R], count: int, timeout: float
) -> list[R]:
    """Wait until ``camera``'s recorder reported ``count`` events of ``kind``; return them."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in recordings(events, camera) if isinstance(r, kind)]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(found)} {kind.__name__} in {timeout} s: {recordings(events, camera)}"
            )
        time.sleep(0.05)


def wait_closed(events: EventLog, camera: str, count: int, timeout: float) -> list[SegmentClosed]:
    """Wait until ``camera`` closed ``count`` segments; return them."""
    return wait_records(events, camera, SegmentClosed, count, timeout)


def playback(path: Path) -> tuple[str, float, int]:
    """(codec, duration in s, decoded frames) of a segment file, read with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        duration = (container.duration or 0) / 1e6
        frames = sum(len(packet.decode()) for packet in container.demux(stream))
    return codec, duration, frames


@pytest.fixture
def events() -> EventLog:
    return EventLog()


def test_file_camera_records_segments_that_play(
    tmp_path: Path, h264_clip_7s: Clip, events: EventLog
) -> None:
    """Segments of 2 s appear while the camera streams, and each plays back as H.264."""
    rec = RecordingSpec(tmp_path / "rec", segment_seconds=2.0)
    sup = CaptureSupervisor(events, mode="thread")
    try:
        sup.start(file_camera("door", h264_clip_7s.path, rec))
        events.wait_state("door", CameraState.STREAMING, 20)
        closed = wait_closed(events, "door", 2, timeout=20)
    finally:
        assert sup.close(timeout=10)
    opened = [r for r in recordings(events, "door") if isinstance(r, SegmentOpened)]
    assert len(opened) >= 2 and opened[0].path == closed[0].path
    for seg in closed[:2]:
        assert seg.path.is_file() and seg.path.is_relative_to(tmp_path / "rec" / "door")
        codec, duration, frames = playback(seg.path)
        assert codec == "h264"
        assert duration == pytest.approx(2.0, abs=1.0)
        assert seg.duration_s == pytest.approx(2.0, abs=1.0)
        assert frames == seg.packets > 0
    # The segment open at the stop was finished by the worker on its way out: it plays too.
    files = sorted((tmp_path / "rec" / "door").rglob("*.mp4"))
    assert len(files) >= 3
    codec, _, frames = playback(files[-1])
    assert codec == "h264" and frames > 0


def test_reconnect_ends_the_segment_and_records_on(
    tmp_path: Path, h264_clip_7s: Clip, events: EventLog
) -> None:
    """A reconnect closes the segment at once and recording resumes on the new connection."""
    sup = CaptureSupervisor(events, mode="thread")
    try:
        sup.start(file_camera("yard", h264_clip_7s.path, RecordingSpec(tmp_path, 60.0)))
        events.wait_state("yard", CameraState.STREAMING, 20)
        deadline = time.monotonic() + 10
        while not any(isinstance(r, SegmentOpened) for r in recordings(events, "yard")):
            assert time.monotonic() < deadline, "no segment opened"
            time.sleep(0.05)
        time.sleep(1.0)
        mark = len(events)
        sup.reconnect("yard")
        events.wait_state("yard", CameraState.STREAMING, 20, after=mark)
        closed = wait_closed(events, "yard", 1, timeout=10)
        deadline = time.monotonic() + 10
        while sum(isinstance(r, SegmentOpened) for r in recordings(events, "yard")) < 2:
            assert time.monotonic() < deadline, f"no second segment: {recordings(events, 'yard')}"
            time.sleep(0.05)
    finally:
        assert sup.close(timeout=10)
    # 60 s segments: only the reconnect can have ended the first one, after about a second.
    assert closed[0].duration_s < 10
    assert playback(closed[0].path)[0] == "h264"


def test_unwritable_folder_reports_and_capture_keeps_streaming(
    tmp_path: Path, h264_clip_7s: Clip, events: EventLog
) -> None:
    """A folder that cannot be created: RecordingFailed (storage), and frames keep coming."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the recording folder should be")
    rec = RecordingSpec(blocker / "rec", segment_seconds=2.0, retry_seconds=0.5)
    sup = CaptureSupervisor(events, mode="thread")
    try:
        sup.start(file_camera("gate", h264_clip_7s.path, rec))
        events.wait_state("gate", CameraState.STREAMING, 20)
        failure = events.wait_for(
            lambda e: isinstance(e, RecordingEvent) and isinstance(e.record, RecordingFailed),
            timeout=10,
        )
        assert isinstance(failure, RecordingEvent) and isinstance(failure.record, RecordingFailed)
        assert failure.record.storage and "not-a-folder" in failure.record.message
        mark = len(events)
        stats = events.stats("gate", timeout=10, after=mark)
        later = events.stats("gate", timeout=10, after=events.events.index(stats) + 1)
        ring = FrameRing.attach(sup.ring_name("gate") or "")
        try:
            seq = ring.latest_seq
            time.sleep(0.5)
            assert ring.latest_seq > seq, "capture stopped publishing frames"
        finally:
            ring.close()
    finally:
        assert sup.close(timeout=10)
    assert later.fps_published > 5
    states = events.states("gate")
    assert CameraState.LOST not in states and CameraState.FAILED not in states, states
    assert not any(blocker.parent.rglob("*.mp4"))
    data = json.loads(json.dumps(event_to_dict(failure)))
    assert data["type"] == "recording" and data["event"] == "recording_failed"
    assert data["camera"] == "gate" and data["storage"] is True


def test_a_synthetic_camera_streams_but_does_not_record(
    tmp_path: Path, events: EventLog, caplog: pytest.LogCaptureFixture
) -> None:
    """No packets to remux: capture runs, one warning says why nothing is recorded."""
    spec = CameraSpec(
        name="syn",
        source=SourceSettings("synthetic://syn?width=64&height=48&fps=30"),
        initial_frame=(64, 48),
        recording=RecordingSpec(tmp_path, segment_seconds=1.0),
    )
    sup = CaptureSupervisor(events, mode="thread")
    try:
        sup.start(spec)
        events.wait_state("syn", CameraState.STREAMING, 20)
        events.stats("syn", timeout=10)
    finally:
        assert sup.close(timeout=10)
    # Thread mode: the worker logs straight into this process's logging.
    warnings = [r for r in caplog.records if "not recording" in r.getMessage()]
    assert len(warnings) == 1 and "synthetic" in warnings[0].getMessage()
    assert not [e for e in events.events if isinstance(e, RecordingEvent)]
    assert not list(tmp_path.rglob("*.mp4"))


def _capture_worker(timeout: float = 20.0) -> psutil.Process:
    """The one capture worker process among this test's children."""
    deadline = time.monotonic() + timeout
    while True:
        workers = [
            p
            for p in psutil.Process().children()
            if "spawn_main" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE
        ]
        if len(workers) == 1:
            return workers[0]
        assert time.monotonic() < deadline, f"capture workers: {workers}"
        time.sleep(0.05)


@pytest.mark.rtsp
@pytest.mark.slow
def test_rtsp_camera_records_in_a_worker_process(
    tmp_path: Path, rtsp_server: RtspServer, events: EventLog
) -> None:
    """Process mode against the real RTSP server: a 2 s segment that plays; SIGTERM to the
    worker finishes its segment before it exits (and the supervisor restarts it)."""
    spec = CameraSpec(
        name="door",
        source=SourceSettings(rtsp_server.url("cam")),
        backoff=FAST,
        initial_frame=(320, 180),
        recording=RecordingSpec(tmp_path, segment_seconds=2.0),
    )
    sup = CaptureSupervisor(events, mode="process", stop_deadline_s=5.0)
    try:
        sup.start(spec)
        events.wait_state("door", CameraState.STREAMING, 30)
        closed = wait_closed(events, "door", 1, timeout=20)
        codec, duration, frames = playback(closed[0].path)
        assert codec == "h264" and duration == pytest.approx(2.0, abs=1.0) and frames > 10
        # SIGTERM to the worker alone (as a group-wide SIGTERM would also send): it stops
        # cleanly, closing its segment, instead of dying with the segment open.
        before = len(closed)
        mark = len(events)
        os.kill(_capture_worker().pid, signal.SIGTERM)
        wait_closed(events, "door", before + 1, timeout=10)
        events.wait_state("door", CameraState.STREAMING, 30, after=mark)
    finally:
        assert sup.close(timeout=15)


@pytest.mark.slow
def test_a_worker_killed_while_stopping_does_not_hang_the_supervisor(events: EventLog) -> None:
    """SIGKILL a worker and stop it at once: stopping must not wait for the dead process."""
    spec = CameraSpec(
        name="k",
        source=SourceSettings("synthetic://k?width=64&height=48&fps=20"),
        initial_frame=(64, 48),
        backoff=FAST,
    )
    sup = CaptureSupervisor(events, mode="process", stop_deadline_s=2.0)
    try:
        sup.start(spec)
        events.wait_state("k", CameraState.STREAMING, 30)
        worker = _capture_worker()
        worker.kill()
        sup.stop("k")
    finally:
        started = time.monotonic()
        assert sup.close(timeout=10)
    assert time.monotonic() - started < 8
    assert events.states("k")[-1] is CameraState.STOPPED


@pytest.mark.rtsp
@pytest.mark.slow
def test_recording_toggled_at_run_time_over_rtsp(
    tmp_path: Path, rtsp_server: RtspServer, events: EventLog
) -> None:
    """set_recording on, off, on again in a worker process: a segment appears, the one closed
    plays with the duration it reports, a new one follows; the camera never reconnects and
    frames keep reaching the ring all along."""
    spec = CameraSpec(
        name="door",
        source=SourceSettings(rtsp_server.url("cam")),
        backoff=FAST,
        initial_frame=(320, 180),
    )
    rec = RecordingSpec(tmp_path, segment_seconds=60.0)
    seqs: list[int] = []

    def frames_flow(ring: FrameRing, frames: int, timeout: float = 20.0) -> None:
        """Wait until ``frames`` more frames were published since the last check."""
        start = seqs[-1] if seqs else ring.latest_seq
        deadline = time.monotonic() + timeout
        # A slot's sequence number is twice the frame's count (odd while being written).
        while ring.latest_seq < start + 2 * frames:
            assert time.monotonic() < deadline, f"frames stopped at {ring.latest_seq}: {seqs}"
            time.sleep(0.02)
        seqs.append(ring.latest_seq)

    sup = CaptureSupervisor(events, mode="process", stop_deadline_s=5.0)
    try:
        sup.start(spec)
        events.wait_state("door", CameraState.STREAMING, 30)
        ring = FrameRing.attach(sup.ring_name("door") or "")
        try:
            frames_flow(ring, 1)
            assert not list(tmp_path.rglob("*.mp4"))  # nothing recorded until asked
            sup.set_recording("door", rec)
            (first,) = wait_records(events, "door", SegmentOpened, 1, timeout=15)
            frames_flow(ring, 30)  # two seconds at 15 fps
            sup.set_recording("door", None)
            (closed,) = wait_closed(events, "door", 1, timeout=15)
            frames_flow(ring, 5)
            assert len(wait_records(events, "door", SegmentOpened, 1, timeout=0)) == 1
            sup.set_recording("door", rec)
            second = wait_records(events, "door", SegmentOpened, 2, timeout=15)[1]
            frames_flow(ring, 15)
        finally:
            ring.close()
    finally:
        assert sup.close(timeout=15)
    assert seqs == sorted(set(seqs)), "the ring's sequence must keep increasing"
    # One connection from start to stop: toggling never reconnected the camera.
    assert events.states("door") == [
        CameraState.CONNECTING,
        CameraState.STREAMING,
        CameraState.STOPPED,
    ]
    assert closed.path == first.path and second.path != first.path
    codec, duration, frames = playback(closed.path)
    assert codec == "h264" and frames == closed.packets
    assert duration == pytest.approx(closed.duration_s, abs=0.15)
    assert duration == pytest.approx(frames / 15, abs=0.15)
    assert 1.5 <= duration <= 15, duration  # at least the two seconds waited for
    # The second segment was finished by the worker on its way out: it plays too.
    last = wait_closed(events, "door", 2, timeout=0)[1]
    assert last.path == second.path
    assert playback(second.path)[0] == "h264" and last.packets > 0


@pytest.mark.slow
def test_a_restarted_worker_records_as_set_recording_last_said(
    tmp_path: Path, h264_clip_7s: Clip, events: EventLog
) -> None:
    """Recording switched on at run time survives a worker crash: the restarted worker
    records again (the supervisor remembers the choice), and the killed segment plays."""
    sup = CaptureSupervisor(events, mode="process", stop_deadline_s=5.0)
    try:
        sup.start(file_camera("door", h264_clip_7s.path, None))
        events.wait_state("door", CameraState.STREAMING, 30)
        sup.set_recording("door", RecordingSpec(tmp_path, segment_seconds=60.0))
        (opened,) = wait_records(events, "door", SegmentOpened, 1, timeout=15)
        deadline = time.monotonic() + 15
        while b"moof" not in opened.path.read_bytes():  # a first fragment is on disk
            assert time.monotonic() < deadline, "no fragment written"
            time.sleep(0.05)
        mark = len(events)
        _capture_worker().kill()
        events.wait_state("door", CameraState.BACKOFF, 15, after=mark)
        events.wait_state("door", CameraState.STREAMING, 30, after=mark)
        wait_records(events, "door", SegmentOpened, 2, timeout=15)
    finally:
        assert sup.close(timeout=15)
    segments = sorted(tmp_path.rglob("*.mp4"))
    assert len(segments) == 2
    for path in segments:
        codec, _, frames = playback(path)
        assert codec == "h264" and frames > 0
