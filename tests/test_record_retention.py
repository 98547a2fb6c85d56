"""Retention: oldest segments go first, by age and by total size; the one being written never."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from camwall.config import RecordingConfig
from camwall.record import (
    RecordEvent,
    RetentionPolicy,
    RetentionResult,
    RetentionService,
    SegmentClosed,
    SegmentRecorder,
    enforce,
    iter_segments,
    segment_filename,
)
from camwall.record.naming import segment_dir
from support.h264clip import Clip

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def make_segment(root: Path, camera: str, minutes_ago: float, size: int, n: int = 0) -> Path:
    """A segment file of ``size`` bytes that started ``minutes_ago`` before NOW."""
    start = NOW - timedelta(minutes=minutes_ago)
    folder = segment_dir(root, camera, start)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / segment_filename(camera, start, n)
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def names(paths: object) -> list[str]:
    return sorted(Path(p).name for p in paths)  # type: ignore[attr-defined]


def test_size_limit_deletes_oldest_first_across_cameras(tmp_path: Path) -> None:
    """Over the size limit, segments go oldest first whatever the camera, until it fits."""
    a1 = make_segment(tmp_path, "front", 50, 100)
    b1 = make_segment(tmp_path, "back", 40, 100)
    a2 = make_segment(tmp_path, "front", 30, 100)
    b2 = make_segment(tmp_path, "back", 20, 100)
    a3 = make_segment(tmp_path, "front", 10, 100)
    result = enforce(tmp_path, RetentionPolicy(max_total_bytes=250), now=NOW)
    assert names(result.deleted) == names([a1, b1, a2])
    assert result.freed_bytes == 300 and result.kept_bytes == 200 and result.kept_segments == 2
    assert {s.path for s in iter_segments(tmp_path)} == {b2, a3}


def test_age_limit(tmp_path: Path) -> None:
    """Segments that started before now - max_age are deleted; newer ones stay."""
    old = make_segment(tmp_path, "front", 3 * 24 * 60, 10)
    older = make_segment(tmp_path, "front", 9 * 24 * 60, 10)
    fresh = make_segment(tmp_path, "front", 60, 10)
    result = enforce(tmp_path, RetentionPolicy(max_age_s=2 * 86400), now=NOW)
    assert names(result.deleted) == names([older, old])
    assert fresh.exists()
    # Emptied day folders are removed; the camera folder stays.
    assert not older.parent.exists() and not old.parent.exists()
    assert fresh.parent.exists()


def test_same_second_segments_order_by_suffix(tmp_path: Path) -> None:
    """frontdoor_…Z.mp4 is older than frontdoor_…Z-1.mp4 from the same second."""
    first = make_segment(tmp_path, "front", 5, 100, n=0)
    second = make_segment(tmp_path, "front", 5, 100, n=1)
    result = enforce(tmp_path, RetentionPolicy(max_total_bytes=150), now=NOW)
    assert result.deleted == (first,)
    assert second.exists()


def test_other_files_are_never_touched(tmp_path: Path) -> None:
    """Only files in camwall's exact layout count: pointing dir at a folder holding other
    videos cannot delete them."""
    seg = make_segment(tmp_path, "front", 500, 100)
    foreign = [
        tmp_path / "holiday.mp4",
        tmp_path / "front" / "front_20200101T000000Z.mp4",  # not in a day folder
        seg.parent / "back_20200101T000000Z.mp4",  # another camera's name in front's folder
        seg.parent / "notes.txt",
        tmp_path / "x" / "2020-01-01" / "x_2020-01-01.mp4",
    ]
    for path in foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 1000)
    result = enforce(tmp_path, RetentionPolicy(max_total_bytes=0, max_age_s=1), now=NOW)
    assert result.deleted == (seg,)
    assert all(p.exists() for p in foreign)


def test_no_limits_does_nothing(tmp_path: Path) -> None:
    """max_age_days = 0 and max_total_gb = 0 mean keep everything."""
    seg = make_segment(tmp_path, "front", 10**6, 100)
    policy = RetentionPolicy.from_config(RecordingConfig(max_age_days=0, max_total_gb=0))
    assert policy == RetentionPolicy(None, None)
    assert enforce(tmp_path, policy, now=NOW).deleted == ()
    assert seg.exists()


def test_segment_being_written_is_never_deleted(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """The open segment is the oldest and everything is over the limit: all others go, it
    stays (its lock is held), and the recorder finishes it intact."""
    old = [make_segment(tmp_path, "other", m, 5000) for m in (3, 2, 1)]
    events: list[RecordEvent] = []
    with av.open(str(h264_clip_7s.path)) as container:
        stream = container.streams.video[0]
        recorder = SegmentRecorder(
            "cam",
            tmp_path,
            60,
            stream,
            on_event=events.append,
            clock=lambda: (NOW - timedelta(days=30)).timestamp(),
        )
        packets = [p for p in container.demux(stream) if p.size]
        for packet in packets[:60]:
            recorder.write(packet)
        current = recorder.current_path
        assert current is not None
        result = enforce(tmp_path, RetentionPolicy(max_total_bytes=0, max_age_s=60), now=NOW)
        assert names(result.deleted) == names(old)
        assert result.in_use == 1
        assert current.exists()
        for packet in packets[60:]:
            recorder.write(packet)
        recorder.close()
    closed = [e for e in events if isinstance(e, SegmentClosed)]
    assert [e.path for e in closed] == [current]
    assert closed[0].packets == h264_clip_7s.frames
    # Once closed, it is an ordinary old segment.
    assert enforce(tmp_path, RetentionPolicy(max_total_bytes=0), now=NOW).deleted == (current,)


def test_service_runs_after_each_segment_and_stops_cleanly(
    h264_clip_7s: Clip, tmp_path: Path
) -> None:
    """A recorder with a RetentionService triggers a pass after each segment: the folder
    stays under its limit while recording goes on, and stop() leaves no thread."""
    limit = 60_000  # a bit more than two 2 s segments of this clip
    results: list[int] = []
    with RetentionService(
        tmp_path,
        RetentionPolicy(max_total_bytes=limit),
        interval_s=3600,
        on_result=lambda r: results.append(len(r.deleted)),
    ) as service:
        with av.open(str(h264_clip_7s.path)) as container:
            stream = container.streams.video[0]
            recorder = SegmentRecorder("cam", tmp_path, 2, stream, retention=service)
            for packet in container.demux(stream):
                recorder.write(packet)
            recorder.close()
        final = service.run_now()
        assert final is not None
    assert service.passes >= 2
    segments = sorted(iter_segments(tmp_path))
    assert sum(s.size for s in segments) <= limit
    assert segments[-1].path.name.endswith(".mp4") and len(segments) >= 2
    assert sum(results) == 4 - len(segments)


def test_unwritable_root_is_harmless(tmp_path: Path) -> None:
    """A missing or file-blocked root is an empty recording folder, not a crash."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert enforce(blocker, RetentionPolicy(max_total_bytes=0)).deleted == ()
    assert enforce(tmp_path / "missing", RetentionPolicy(max_total_bytes=0)).deleted == ()
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_only_files_camwall_could_have_written_are_deleted(tmp_path: Path) -> None:
    """Look-alikes that camwall never writes survive: a camera folder that is no safe name,
    a segment filed under another day, a "-0" or "-007" suffix, upper case."""
    root = tmp_path / "rec"
    seg = make_segment(root, "front", 500, 100)
    day = seg.parent.name
    look_alikes = [
        root / "Front" / day / "Front_20261126T034000Z.mp4",
        root / "front door" / day / "front door_20261126T034000Z.mp4",
        root / "front" / "2026-11-20" / "front_20261126T034000Z.mp4",  # wrong day folder
        seg.parent / "front_20261126T034000Z-0.mp4",
        seg.parent / "front_20261126T034000Z-007.mp4",
        seg.parent / "FRONT_20261126T034000Z.mp4",
    ]
    for path in look_alikes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)
    result = enforce(root, RetentionPolicy(max_total_bytes=0, max_age_s=1), now=NOW)
    assert result.deleted == (seg,)
    assert all(p.exists() for p in look_alikes)


def test_symlinks_are_never_followed_or_deleted(tmp_path: Path) -> None:
    """A symlink named like a segment, a symlinked day folder and a symlinked camera folder
    are left alone, and so is everything they point to."""
    root = tmp_path / "rec"
    outside = tmp_path / "precious"
    outside.mkdir()
    target = outside / "front_20261126T034000Z.mp4"
    target.write_bytes(b"keep me")
    seg = make_segment(root, "front", 500, 100)
    link = seg.parent / "front_20261126T034100Z.mp4"
    link.symlink_to(target)
    day_dir = outside / "2026-11-26"
    day_dir.mkdir()
    (day_dir / "back_20261126T034000Z.mp4").write_bytes(b"keep")
    (root / "back").mkdir()
    (root / "back" / "2026-11-26").symlink_to(day_dir)
    (root / "yard").symlink_to(outside)
    foreign = root / "front" / "notes.txt"
    foreign.write_text("mine")
    result = enforce(root, RetentionPolicy(max_total_bytes=0, max_age_s=1), now=NOW)
    assert result.deleted == (seg,)
    assert link.is_symlink() and target.read_bytes() == b"keep me"
    assert (day_dir / "back_20261126T034000Z.mp4").exists()
    assert (root / "yard").is_symlink() and foreign.exists()


def test_a_huge_age_limit_keeps_everything_and_the_service_lives(tmp_path: Path) -> None:
    """max_age_days = 1e6 reaches before year 1: no overflow, nothing deleted, thread alive."""
    seg = make_segment(tmp_path, "front", 10**6, 100)
    policy = RetentionPolicy.from_config(RecordingConfig(max_age_days=1e6, max_total_gb=1e308))
    assert policy.max_total_bytes is None
    assert enforce(tmp_path, policy, now=NOW).deleted == ()
    with RetentionService(tmp_path, policy, interval_s=3600) as service:
        assert service.run_now(timeout=10) is not None
        assert service.run_now(timeout=10) is not None
    assert seg.exists() and service.failures == 0


def test_the_service_logs_and_survives_any_exception(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A pass that raises (here: the result callback) is logged with its traceback and the
    service keeps running passes."""
    calls: list[int] = []

    def flaky(result: RetentionResult) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom in a callback")

    make_segment(tmp_path, "front", 10, 100)
    with (
        caplog.at_level(logging.ERROR, logger="camwall.record.retention"),
        RetentionService(
            tmp_path, RetentionPolicy(max_total_bytes=10**9), interval_s=3600, on_result=flaky
        ) as service,
    ):
        # The first pass runs on start; whichever pass is the second one raises.
        results = [service.run_now(timeout=10) for _ in range(3)]
        assert results[-1] is not None  # passes go on after the failure
    assert service.failures == 1 and len(calls) >= 3
    failed = [r for r in caplog.records if "retention pass over" in r.getMessage()]
    assert failed and failed[0].exc_info is not None
    assert "boom in a callback" in caplog.text
