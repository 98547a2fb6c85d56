"""Playback of real recordings into a FrameRing by a real worker process.

The recordings are made by the real SegmentRecorder from a clip whose pictures show their
frame number (tests/support/numbered.py); frame n was recorded at T0 + n/25 s, so every
frame a player publishes can be checked: right picture, right recorded time.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from camwall.errors import RecordError
from camwall.frames import Frame, FrameRing
from camwall.playback import (
    NoRecording,
    Playback,
    PlaybackEvent,
    PlaybackGroup,
    PlaybackState,
    frame_time,
)
from camwall.record.index import RecordingIndex
from support.numbered import Recording, read_number, record_numbered

T0 = datetime(2026, 11, 26, 2, 14, 0, 100000, tzinfo=UTC).timestamp()
FPS = 25


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """12 s at 25 fps in 3 s segments: boundaries at T0+3, +6, +9 (frames 75, 150, 225)."""
    root = tmp_path_factory.mktemp("playback") / "rec"
    rec = record_numbered(root, "door", T0, seconds=12, segment_seconds=3)
    RecordingIndex.open(root).close()
    return rec


def latest(ring: FrameRing) -> Frame:
    frame = ring.read_latest()
    assert frame is not None, "nothing published"
    return frame


def shown(ring: FrameRing) -> tuple[int, float]:
    """(frame number in the picture, recorded time from the slot) of the newest frame."""
    frame = latest(ring)
    t = frame_time(frame.pts)
    assert t is not None
    return read_number(frame.array), t


class Events:
    """Collects a playback's events (called on the playback's reader thread)."""

    def __init__(self) -> None:
        self.items: list[PlaybackEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: PlaybackEvent) -> None:
        with self._lock:
            self.items.append(event)

    def no_recording(self) -> list[NoRecording]:
        with self._lock:
            return [e for e in self.items if isinstance(e, NoRecording)]


def test_seeking_shows_the_frame_recorded_at_that_instant(recorded: Recording) -> None:
    """Random instants, segment starts and ends: the picture and the slot time agree with
    the instant (the last frame at or before it, ±1 frame)."""
    rng = random.Random(15)
    instants = [recorded.time_of(n) + 0.001 for n in (0, 74, 75, 150, 299)]
    instants += [T0 + rng.uniform(0, 11.95) for _ in range(12)]
    with Playback(recorded.root, "door") as pb:
        ring = FrameRing.attach(pb.ring_name)
        try:
            for t in instants:
                pos = pb.wait(pb.seek(t))
                assert pos is not None and pos.state is PlaybackState.PAUSED
                number, when = shown(ring)
                expected = int((t - T0) * FPS)
                assert abs(number - expected) <= 1, (t - T0, number, expected)
                assert when == pytest.approx(recorded.time_of(number), abs=1e-3)
                assert pos.t == pytest.approx(when, abs=1e-6)
        finally:
            ring.close()


def test_playing_across_segment_boundaries_misses_and_repeats_nothing(
    recorded: Recording,
) -> None:
    """From 0.6 s before the first boundary to past the second at 2×: every published frame
    is the next frame of the recording (the ring's sequence and the picture advance together)."""
    with Playback(recorded.root, "door") as pb:
        ring = FrameRing.attach(pb.ring_name)
        try:
            pos = pb.wait(pb.seek(recorded.time_of(60)))
            assert pos is not None
            start_seq = latest(ring).seq
            seen: dict[int, tuple[int, float]] = {}
            pb.play(2.0)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                frame = ring.read_latest()
                if frame is not None and frame.seq not in seen:
                    seen[frame.seq] = (read_number(frame.array), frame_time(frame.pts) or 0.0)
                    if seen[frame.seq][0] >= 160:
                        break
                time.sleep(0.004)
            paused = pb.wait(pb.pause())
            end = latest(ring)
        finally:
            ring.close()
    assert paused is not None
    assert max(n for n, _ in seen.values()) >= 160, "playback did not reach frame 160"
    # Every frame of the recording from 60 on was published once, in order, across the
    # boundaries at frames 75 and 150 -- except frames the worker reports it decoded but did
    # not show because it ran late (none on an idle machine): k-th published = frame 60 + k.
    assert read_number(end.array) - 60 == (end.seq - start_seq) + paused.dropped
    assert paused.dropped <= 5, f"{paused.dropped} frames late"
    previous = (start_seq, 60)
    for seq, (number, when) in sorted(seen.items()):
        if seq == start_seq:
            continue  # the frame of the seek, shown before playing
        assert number - previous[1] >= seq - previous[0] >= 1, (previous, seq, number)
        if paused.dropped == 0:
            assert number == 60 + (seq - start_seq), (seq, number)
        assert when == pytest.approx(recorded.time_of(number), abs=1e-3)
        previous = (seq, number)
    assert len(seen) > 30, f"saw only {len(seen)} of the frames"


def test_stepping_one_frame_crosses_a_segment_boundary_both_ways(recorded: Recording) -> None:
    with Playback(recorded.root, "door") as pb:
        ring = FrameRing.attach(pb.ring_name)
        try:
            # The second segment's file is left open mid-way (the worker keeps readers)...
            pb.wait(pb.seek(recorded.time_of(110) + 0.001))
            assert shown(ring)[0] == 110
            pb.wait(pb.seek(recorded.time_of(74) + 0.001))
            assert shown(ring)[0] == 74
            # ...and stepping into it still starts at its first frame.
            pb.wait(pb.step(1))
            assert shown(ring)[0] == 75  # first frame of the second segment
            pb.wait(pb.step(1))
            assert shown(ring)[0] == 76
            pb.wait(pb.step(-1))
            pb.wait(pb.step(-1))
            assert shown(ring)[0] == 74  # back in the first segment
            pos = pb.wait(pb.step(-1))
            assert shown(ring)[0] == 73
            assert pos is not None and pos.state is PlaybackState.PAUSED
        finally:
            ring.close()


def test_no_recording_before_after_and_in_a_missing_or_corrupt_segment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Spans without a playable segment are NoRecording events and a state, never an
    exception; playing runs through them and goes on with the next segment."""
    root = tmp_path / "rec"
    rec = record_numbered(root, "yard", T0, seconds=12, segment_seconds=3)
    RecordingIndex.open(root).close()
    # The index still lists them: deleted, and overwritten with garbage behind its back.
    rec.segments[1].path.unlink()
    rec.segments[2].path.write_bytes(b"\x00" * 5000)
    events = Events()
    with Playback(root, "yard", on_event=events) as pb:
        ring = FrameRing.attach(pb.ring_name)
        try:
            for t, reason in ((T0 - 5, "before"), (T0 + 20, "after")):
                pos = pb.wait(pb.seek(t))
                assert pos is not None and pos.state is PlaybackState.NO_RECORDING
                assert events.no_recording()[-1].reason == reason
            pos = pb.wait(pb.seek(T0 + 4.0))
            assert pos is not None and pos.state is PlaybackState.NO_RECORDING
            missing = events.no_recording()[-1]
            assert missing.reason == "missing"
            assert (missing.start, missing.end) == pytest.approx((T0 + 3, T0 + 6), abs=1e-3)
            pos = pb.wait(pb.seek(T0 + 7.0))
            assert pos is not None and pos.state is PlaybackState.NO_RECORDING
            assert events.no_recording()[-1].reason == "corrupt"
            # Play from the end of the first segment at 16×: through both dead segments
            # into the fourth.
            pb.wait(pb.seek(rec.time_of(70)))
            pb.play(16.0)
            deadline = time.monotonic() + 20
            while shown(ring)[0] < 230:
                assert time.monotonic() < deadline, f"stuck at {shown(ring)}, {events.items[-5:]}"
                time.sleep(0.02)
            pb.wait(pb.pause())
            assert shown(ring)[0] >= 225  # frames of the fourth segment
            # Stepping skips the dead segments too, both ways.
            pb.wait(pb.seek(rec.time_of(74) + 0.001))
            pos = pb.wait(pb.step(1))
            assert shown(ring)[0] == 225
            assert pos is not None and pos.state is PlaybackState.PAUSED
            pb.wait(pb.step(-1))
            assert shown(ring)[0] == 74
        finally:
            ring.close()
    reasons = [e.reason for e in events.no_recording()]
    assert reasons.count("missing") >= 2 and reasons.count("corrupt") >= 2, reasons
    # The worker's warnings reach this process's logging (through camwall.childproc).
    assert any("cannot play" in r.getMessage() for r in caplog.records), caplog.records


def test_two_cameras_at_one_instant_show_frames_within_one_frame_interval(
    tmp_path: Path,
) -> None:
    """Two cameras whose frames fall at different instants (0.37 s apart in phase): seeking
    the group shows, on each, the frame of that instant; played together they stay in step."""
    root = tmp_path / "rec"
    a = record_numbered(root, "a", T0, seconds=8, segment_seconds=2)
    b = record_numbered(root, "b", T0 + 0.37, seconds=8, segment_seconds=2, clip_dir=tmp_path)
    RecordingIndex.open(root).close()
    with PlaybackGroup(root, ["a", "b"]) as group:
        rings = {n: FrameRing.attach(p.ring_name) for n, p in group.players.items()}
        try:
            for t in (T0 + 1.0, T0 + 2.013, T0 + 5.5):
                positions = group.seek(t, wait=10)
                assert all(p is not None for p in positions.values())
                (na, ta), (nb, tb) = shown(rings["a"]), shown(rings["b"])
                assert abs(ta - tb) <= 1 / FPS + 1e-3
                assert ta == pytest.approx(a.time_of(na)) and tb == pytest.approx(b.time_of(nb))
                assert t - 1 / FPS - 1e-3 <= min(ta, tb) and max(ta, tb) <= t + 1e-3
            # A step moves the cursor one recorded frame (25 fps, from the index).
            group.seek(a.time_of(25), wait=10)
            positions = group.step(1, wait=10)
            assert all(p is not None for p in positions.values())
            assert shown(rings["a"])[0] == 26
            group.seek(T0 + 2.5, wait=10)
            group.play(1.0)
            deadline = time.monotonic() + 20
            while min(shown(r)[1] for r in rings.values()) < T0 + 3.0:
                assert time.monotonic() < deadline, "the group did not play"
                time.sleep(0.02)
            positions = group.pause(wait=10)
            assert all(p is not None for p in positions.values())
            (na, ta), (nb, tb) = shown(rings["a"]), shown(rings["b"])
            assert ta > T0 + 2.9 and tb > T0 + 2.9, "the group did not play"
            assert abs(ta - tb) <= 1 / FPS + 1e-3
            at = group.position
            assert at is not None and max(ta, tb) <= at + 1e-3
        finally:
            for ring in rings.values():
                ring.close()


def test_a_folder_without_an_index_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match=r"RecordingIndex\.open"):
        Playback(tmp_path, "door").start()


def test_a_killed_worker_is_reported_and_waits_end(recorded: Recording) -> None:
    """SIGKILL the worker: the state becomes FAILED with a reason, wait() returns at once,
    and close() still releases everything (the leak check proves it)."""
    events = Events()
    with Playback(recorded.root, "door", on_event=events) as pb:
        assert pb.wait(pb.seek(T0 + 1)) is not None
        assert pb.pid is not None
        os.kill(pb.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pb.state is not PlaybackState.FAILED:
            assert time.monotonic() < deadline, pb.state
            time.sleep(0.02)
        started = time.monotonic()
        assert pb.wait(pb.seek(T0 + 2), timeout=5) is None
        assert time.monotonic() - started < 1
    failed = [e for e in events.items if getattr(e, "state", None) is PlaybackState.FAILED]
    assert failed and "exited unexpectedly" in getattr(failed[-1], "reason", "")


def test_the_live_edge_a_segment_still_being_written(tmp_path: Path) -> None:
    """observe(SegmentOpened) + refresh_open(): the open segment is reviewable up to its last
    complete fragment, and further as it grows."""
    import av

    from camwall.record import SegmentOpened, SegmentRecorder
    from support.numbered import encode_numbered

    root = tmp_path / "rec"
    clip = encode_numbered(tmp_path / "live.mp4", frames=150)
    index = RecordingIndex.open(root)
    opened: list[object] = []
    try:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            now = [T0]
            recorder = SegmentRecorder(
                "live", root, 60, stream, on_event=opened.append, clock=lambda: now[0]
            )
            packets = (p for p in container.demux(stream) if p.size)

            def feed(count: int) -> None:
                for _ in range(count):
                    packet = next(packets)
                    now[0] = T0 + float(packet.pts * stream.time_base)
                    recorder.write(packet)

            feed(76)  # frames 0-75: the fragments of frames 0-74 are complete on disk
            for event in opened:
                index.observe(event)
            assert any(isinstance(e, SegmentOpened) for e in opened)
            assert index.refresh_open() == 1
            (seg,) = index.segments("live")
            assert seg.end == pytest.approx(T0 + 3.0, abs=1e-3)
            with Playback(root, "live") as pb:
                ring = FrameRing.attach(pb.ring_name)
                try:
                    pb.wait(pb.seek(T0 + 1.5))
                    assert shown(ring)[0] == 37
                    feed(50)  # frames 76-125
                    index.refresh_open()
                    (seg,) = index.segments("live")
                    assert seg.end == pytest.approx(T0 + 5.0, abs=1e-3)
                    pos = pb.wait(pb.seek(T0 + 4.5))
                    assert pos is not None and pos.state is PlaybackState.PAUSED
                    assert shown(ring)[0] == 112  # read from the grown file
                finally:
                    ring.close()
            recorder.close()
        for event in opened:
            index.observe(event)  # SegmentClosed: indexed in full, no longer "open"
        assert index.refresh_open() == 0
        (seg,) = index.segments("live")
        assert seg.end == pytest.approx(T0 + 126 / FPS, abs=1e-3)
    finally:
        index.close()


def test_the_runtime_keeps_the_live_edge_only_while_a_face_watches(tmp_path: Path) -> None:
    """IndexKeeper re-reads segments being written only while someone reviews: re-reading
    opens the whole growing file, which cost more than recording itself when done always."""
    import av

    from camwall.record import SegmentRecorder
    from camwall.runtime.indexes import IndexKeeper
    from support.numbered import encode_numbered

    root = tmp_path / "rec"
    clip = encode_numbered(tmp_path / "live.mp4", frames=100)
    keeper = IndexKeeper(refresh_open_s=0.05)
    try:
        index = keeper.index(root).result(timeout=30)
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            recorder = SegmentRecorder(
                "live", root, 60, stream, on_event=keeper.observe, clock=lambda: T0
            )
            for packet in container.demux(stream):
                if packet.size and packet.pts is not None and packet.pts * stream.time_base < 3:
                    recorder.write(packet)
            # Many refresh periods pass with nobody watching: the open segment stays unread
            # (the SegmentOpened event itself has been handled once the next payload is).
            done = threading.Event()
            keeper.observe(object())  # a payload no index cares about, queued behind
            keeper.index(root).add_done_callback(lambda _: done.set())
            assert done.wait(10)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                assert index.segments("live") == []
                time.sleep(0.05)
            keeper.watch_live_edge(True)  # review opens: indexed at once, then kept up
            deadline = time.monotonic() + 30
            while not index.segments("live"):
                assert time.monotonic() < deadline, "the watched open segment was not indexed"
                time.sleep(0.02)
            keeper.watch_live_edge(False)
            recorder.close()
    finally:
        keeper.close()
