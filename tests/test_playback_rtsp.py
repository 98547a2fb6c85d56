"""End to end: a real RTSP camera whose picture shows its frame number, recorded by real
capture workers (two cameras on the same stream), indexed live, played back by real
playback workers."""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

import pytest

from camwall.capture import CameraSpec, CameraState, CaptureSupervisor
from camwall.capture.events import CaptureEvent, RecordingEvent
from camwall.capture.spec import BackoffPolicy, RecordingSpec
from camwall.frames import FrameRing
from camwall.playback import Playback, PlaybackGroup, frame_time
from camwall.record import SegmentClosed
from camwall.record.index import RecordingIndex
from camwall.sources import SourceSettings
from fixtures.rtsp import ServerFactory
from support.events import EventLog
from support.numbered import read_number

FPS = 15
FAST = BackoffPolicy(initial_s=0.2, factor=2.0, max_s=1.0, jitter=0.1, failed_s=1.0)


def shown(ring: FrameRing) -> tuple[int, float, int]:
    """(number in the picture, recorded time, ring seq) of the newest frame."""
    frame = ring.read_latest()
    assert frame is not None
    t = frame_time(frame.pts)
    assert t is not None
    return read_number(frame.array), t, frame.seq


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_recorded_rtsp_cameras_play_back_frame_exact_and_in_sync(
    tmp_path: Path, rtsp_server_factory: ServerFactory
) -> None:
    server = rtsp_server_factory((f"count:width=320,height=180,fps={FPS},pattern=counter",))
    root = tmp_path / "rec"
    index = RecordingIndex.open(root)
    log = EventLog()
    closed: list[SegmentClosed] = []

    def on_event(event: CaptureEvent) -> None:
        # What the runtime does with every finished segment: index it at once.
        if isinstance(event, RecordingEvent) and isinstance(event.record, SegmentClosed):
            index.segment_closed(event.record)
            closed.append(event.record)
        log(event)

    sup = CaptureSupervisor(on_event, mode="process")
    try:
        for name in ("a", "b"):
            sup.start(
                CameraSpec(
                    name=name,
                    source=SourceSettings(server.url("count")),
                    backoff=FAST,
                    initial_frame=(320, 180),
                    recording=RecordingSpec(root, segment_seconds=2.0),
                )
            )
        for name in ("a", "b"):
            log.wait_state(name, CameraState.STREAMING, 60)
        deadline = time.monotonic() + 60
        while min(sum(c.camera == n for c in closed) for n in ("a", "b")) < 4:
            assert time.monotonic() < deadline, f"segments closed: {closed}"
            time.sleep(0.1)
    finally:
        assert sup.close(timeout=15)
    try:
        # Every segment reached the index live (the ones closed at the stop included).
        assert index.refresh().added == 0
        segs = index.segments("a")
        assert len(segs) >= 4
        for prev, nxt in itertools.pairwise(segs):
            assert abs(nxt.start - prev.end) < 0.2, "segments of one connection are contiguous"
    finally:
        index.close()
    last = segs[-1]

    with Playback(root, "a") as pb:
        ring = FrameRing.attach(pb.ring_name)
        try:
            # The reference: a frame of the last segment, whose start the recorder's wall
            # clock estimated from the most packets (camwall.record.wallclock).
            pb.wait(pb.seek(last.start + 0.001))
            n0, t0, _ = shown(ring)
            rng = random.Random(7)
            for t in [s.start + 0.001 for s in segs[1:]] + [
                rng.uniform(segs[1].start, last.end - 0.2) for _ in range(10)
            ]:
                pb.wait(pb.seek(t))
                number, when, _ = shown(ring)
                expected = n0 + int((t - t0) * FPS + 1e-6)
                assert abs(number - expected) <= 1, (t - t0, number, expected)
                assert when <= t + 1e-3
            # Across a boundary at 1×: each published frame is the next one.
            boundary = segs[2].start
            pb.wait(pb.seek(boundary - 0.5))
            n_start, _, seq_start = shown(ring)
            seen: dict[int, int] = {}
            pb.play(1.0)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                number, when, seq = shown(ring)
                seen[seq] = number
                if when > boundary + 0.5:
                    break
                time.sleep(0.005)
            paused = pb.wait(pb.pause())
            n_end, _, seq_end = shown(ring)
        finally:
            ring.close()
    assert len(seen) >= 8 and paused is not None
    # Each published frame is the next one, bar frames reported late (none when idle).
    assert n_end - n_start == (seq_end - seq_start) + paused.dropped
    assert paused.dropped <= 3
    if paused.dropped == 0:
        for seq, number in seen.items():
            assert number - n_start == seq - seq_start, seen

    with PlaybackGroup(root, ["a", "b"]) as group:
        rings = {n: FrameRing.attach(p.ring_name) for n, p in group.players.items()}
        try:
            for k in range(6):
                t = segs[1].start + 0.5 + k * (last.end - segs[1].start - 1.0) / 5
                positions = group.seek(t, wait=10)
                assert all(p is not None for p in positions.values())
                (na, ta, _), (nb, tb, _) = shown(rings["a"]), shown(rings["b"])
                assert abs(ta - tb) <= 1 / FPS + 1e-3, (ta - tb, na, nb)
                assert abs(na - nb) <= 1
        finally:
            for ring in rings.values():
                ring.close()
