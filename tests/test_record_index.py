"""The recordings index: built from real segments, rebuilt when lost or corrupt, kept live."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from camwall.capture.events import CameraState, StateEvent
from camwall.detect.messages import TrackEvent
from camwall.record import RetentionPolicy, enforce
from camwall.record.index import INDEX_NAME, RecordedEvent, RecordingIndex
from support.numbered import Recording, record_numbered

T0 = datetime(2026, 11, 26, 2, 14, 0, 250000, tzinfo=UTC).timestamp()


@pytest.fixture
def recording(tmp_path: Path) -> Recording:
    """12 s of 25 fps in 3 s segments (4 files), frame n recorded at T0 + n/25."""
    return record_numbered(tmp_path / "rec", "Front door", T0, seconds=12, segment_seconds=3)


def track(kind: str, t: float, track_id: int = 7, score: float = 0.8) -> TrackEvent:
    return TrackEvent(
        kind=kind,  # type: ignore[arg-type]
        camera="Front door",
        label="person",
        track_id=track_id,
        time=t,
        capture_ns=0,
        seq=1,
        box=(0, 0, 10, 10),
        best_score=score,
        snapshot="snap.jpg" if kind == "appeared" else None,
    )


def test_index_holds_every_segment_with_its_exact_wall_clock_span(recording: Recording) -> None:
    """Start and end come from the segments' own timestamps (sub-second start tag)."""
    with RecordingIndex.open(recording.root) as index:
        assert index.rebuilt
        segs = index.segments("Front door")
        assert index.cameras() == ["front_door"]
    assert [s.path for s in segs] == [e.path for e in recording.segments]
    for k, seg in enumerate(segs):
        assert seg.start == pytest.approx(T0 + 3 * k, abs=1e-3)
        assert seg.end == pytest.approx(T0 + 3 * (k + 1), abs=1e-3)
        assert (seg.codec, seg.width, seg.height) == ("h264", 320, 180)
        assert seg.frames == 75 and seg.keyframes == 3
        assert seg.size == seg.path.stat().st_size
    assert segs[0].start % 1 == pytest.approx(0.25, abs=1e-3), "start lost its fraction"


def test_queries_by_time(recording: Recording) -> None:
    """segment_at / after / before, overlapping ranges, and merged spans for a timeline."""
    with RecordingIndex.open(recording.root) as index:
        at = index.segment_at("front_door", T0 + 4.0)
        assert at is not None and at.start == pytest.approx(T0 + 3)
        assert index.segment_at("front_door", T0 - 1) is None
        assert index.segment_at("front_door", T0 + 12.5) is None
        nxt = index.segment_after("Front door", T0 + 3)
        assert nxt is not None and nxt.start == pytest.approx(T0 + 6)
        prev = index.segment_before("Front door", T0 + 3)
        assert prev is not None and prev.start == pytest.approx(T0)
        assert len(index.segments(start=T0 + 2.9, end=T0 + 6.1)) == 3
        spans = index.spans("Front door")
        assert len(spans) == 1
        assert spans[0] == pytest.approx((T0, T0 + 12), abs=1e-3)


def test_a_deleted_index_is_rebuilt_with_its_events(recording: Recording) -> None:
    """The files are the truth: segments come back from the folder, events from journals."""
    with RecordingIndex.open(recording.root) as index:
        index.track_event(track("appeared", T0 + 1))
        index.track_event(track("left", T0 + 5, score=0.9))
        index.state_event(StateEvent("Front door", CameraState.LOST, "stream lost", at=T0 + 8))
        before = index.events()
    assert [e.kind for e in before] == ["detection", "state"]
    assert before[0].end == pytest.approx(T0 + 5) and before[0].score == pytest.approx(0.9)
    db = recording.root / INDEX_NAME
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with RecordingIndex.open(recording.root) as index:
        assert index.rebuilt
        assert len(index.segments()) == 4
        after = index.events()
    assert [(e.kind, e.label, e.start, e.end, e.score, e.snapshot) for e in after] == [
        (e.kind, e.label, e.start, e.end, e.score, e.snapshot) for e in before
    ]


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_corrupt_index_is_moved_aside_and_rebuilt(recording: Recording, damage: str) -> None:
    with RecordingIndex.open(recording.root) as index:
        index.add_event(RecordedEvent("Front door", "detection", "car", T0 + 2, T0 + 3, 0.7))
        # Enough rows that the database spans several pages, so cutting it loses some.
        for i in range(200):
            index.add_event(RecordedEvent("Front door", "state", "streaming", T0 + i, T0 + i))
    db = recording.root / INDEX_NAME
    # Fold the write-ahead log into the file first, so the damage hits the real data.
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"\x00garbage" * 999)
    with RecordingIndex.open(recording.root) as index:
        assert index.rebuilt and index.moved_aside is not None
        assert index.moved_aside.exists() and index.moved_aside.name.startswith(INDEX_NAME)
        assert len(index.segments()) == 4
        events = index.events()
    assert len(events) == 201
    assert [e.label for e in events if e.kind == "detection"] == ["car"]


def test_segments_removed_added_or_cut_behind_its_back(
    recording: Recording, tmp_path: Path
) -> None:
    """A stale index notices (names, sizes, mtimes) and re-reads only what changed."""
    with RecordingIndex.open(recording.root) as index:
        assert len(index.segments()) == 4
    first, second, third = (s.path for s in recording.segments[:3])
    first.unlink()
    # A segment cut short (as a crash leaves it): still indexed, with its shorter span.
    data = third.read_bytes()
    third.write_bytes(data[: len(data) // 2])
    # A file named like a segment that holds garbage: known to the index, never played.
    junk = second.with_name(second.name.replace(".mp4", "-1.mp4"))
    junk.write_bytes(b"not an mp4 at all" * 100)
    with RecordingIndex.open(recording.root) as index:
        assert not index.rebuilt
        segs = index.segments()
        assert [s.path for s in segs] == [second, third, recording.segments[3].path]
        cut = segs[1]
        assert T0 + 6 < cut.end < T0 + 8.5
        assert cut.frames < 75
        again = index.refresh()
        assert (again.added, again.changed, again.removed) == (0, 0, 0)


def test_live_updates_and_retention_remove_rows(tmp_path: Path) -> None:
    """segment_closed as the recorder finishes files; retention's on_deleted drops rows."""
    root = tmp_path / "rec"
    root.mkdir()
    with RecordingIndex.open(root) as index:
        rec = record_numbered(root, "yard", T0, seconds=6, segment_seconds=2)
        assert index.segments() == []  # nothing told it yet
        for event in rec.segments:
            assert index.segment_closed(event) is not None
        assert len(index.segments("yard")) == 3
        result = enforce(
            root,
            RetentionPolicy(max_age_s=3.0),
            now=datetime.fromtimestamp(T0 + 6.5, UTC),
            on_deleted=index.remove,
        )
        assert len(result.deleted) == 2
        left = index.segments("yard")
        assert [s.path for s in left] == [rec.segments[-1].path]


def test_a_track_whose_appearance_was_missed_becomes_a_point_event(tmp_path: Path) -> None:
    with RecordingIndex.open(tmp_path) as index:
        ended = index.track_event(track("left", T0 + 3, track_id=99))
        assert ended is not None and ended.start == ended.end == pytest.approx(T0 + 3)
        assert index.events(labels=["person"]) == [ended]
        assert index.events(labels=["car"]) == []


def test_observe_takes_what_a_runtime_emits(recording: Recording) -> None:
    """The one call a runtime makes for every event payload."""
    from camwall.capture.events import InfoEvent, RecordingEvent

    with RecordingIndex.open(recording.root) as index:
        index.remove([s.path for s in recording.segments])  # as if nothing were indexed yet
        for closed in recording.segments:
            index.observe(RecordingEvent("Front door", closed))
        index.observe(track("appeared", T0 + 1))
        index.observe(track("left", T0 + 2))
        for state, at in (
            (CameraState.STREAMING, 1),
            (CameraState.STREAMING, 2),  # no change: not another marker
            (CameraState.LOST, 3),
            (CameraState.CONNECTING, 4),  # a step of reconnecting: not marked
            (CameraState.BACKOFF, 5),
            (CameraState.LOST, 6),
            (CameraState.STREAMING, 7),
        ):
            index.observe(StateEvent("Front door", state, at=T0 + at))
        index.observe(InfoEvent("Front door", "rtsp://x", "h264", 320, 180, 25.0, None))
        index.observe("not an event")
        assert len(index.segments("Front door")) == 4
        states = [(e.label, e.start - T0) for e in index.events(kind="state")]
        assert states == [("streaming", 1), ("lost", 3), ("streaming", 7)]
        (person,) = index.events(kind="detection")
        assert (person.start - T0, (person.end or 0) - T0) == (1, 2)


def test_what_cameras_report_themselves_is_on_the_timeline(recording: Recording) -> None:
    """ONVIF motion/tamper reported by the camera: a point event per start, kept on rebuild."""
    from camwall.control.onvif.events import CameraEvent, EventKind

    topic = "tns1:RuleEngine/CellMotionDetector/Motion"
    moment = datetime.fromtimestamp(T0 + 3, UTC)
    with RecordingIndex.open(recording.root) as index:
        index.observe(CameraEvent("Front door", topic, EventKind.MOTION, True, time=moment))
        index.observe(CameraEvent("Front door", topic, EventKind.MOTION, False, time=moment))
        events = index.events(kind="camera")
    assert [(e.label, e.start, e.detail) for e in events] == [("motion", T0 + 3, topic)]
    db = recording.root / INDEX_NAME
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with RecordingIndex.open(recording.root) as index:
        assert [e.label for e in index.events(kind="camera")] == ["motion"]
