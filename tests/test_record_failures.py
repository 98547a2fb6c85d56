"""Disk trouble while recording: clear StorageErrors naming the path, and the capture loop
(the caller of ``write``) never sees an exception. Tests run as root here, where chmod does
not stop writes, so unwritable places are made from paths blocked by regular files, full
disks from RLIMIT_FSIZE (EFBIG) and, where user namespaces allow, a tiny private tmpfs (ENOSPC).
"""

from __future__ import annotations

import errno
import json
import multiprocessing as mp
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from camwall.errors import StorageError
from camwall.record import (
    RecordEvent,
    RecordingFailed,
    SegmentClosed,
    SegmentOpened,
    SegmentRecorder,
    ensure_writable,
    iter_segments,
)
from support import recordprocs
from support.h264clip import Clip, segment_report

CTX = mp.get_context("spawn")
TESTS_DIR = Path(__file__).parent


def _record_all(clip: Clip, root: Path, events: list[RecordEvent], **kw: object) -> SegmentRecorder:
    with av.open(str(clip.path)) as container:
        stream = container.streams.video[0]
        recorder = SegmentRecorder("cam", root, 2, stream, on_event=events.append, **kw)  # type: ignore[arg-type]
        for packet in container.demux(stream):
            recorder.write(packet)  # must never raise
        recorder.close()
    return recorder


@pytest.mark.parametrize("layout", ["dir-is-a-file", "under-a-file"])
def test_unwritable_directory_is_reported_not_raised(
    h264_clip_7s: Clip, tmp_path: Path, layout: str
) -> None:
    """The recording folder is a regular file, or lies under one: every write() returns, one
    RecordingFailed says which path and why, and ensure_writable raises a StorageError."""
    blocker = tmp_path / "recordings"
    blocker.write_text("not a folder")
    root = blocker if layout == "dir-is-a-file" else blocker / "cams"
    events: list[RecordEvent] = []
    recorder = _record_all(h264_clip_7s, root, events, retry_seconds=3600)
    assert recorder.state == "closed"
    failures = [e for e in events if isinstance(e, RecordingFailed)]
    assert len(failures) == 1 and len(events) == 1
    failure = failures[0]
    assert failure.storage and failure.retry_s == 3600
    assert str(blocker) in failure.message
    assert "Not a directory" in failure.message
    assert failure.message.startswith(f"cannot create the directory {root}/cam/")
    assert recorder.stats.errors == 1 and recorder.stats.packets == 0
    assert recorder.stats.dropped == h264_clip_7s.frames
    with pytest.raises(StorageError) as info:
        ensure_writable(root)
    reason = {
        "dir-is-a-file": (errno.EEXIST, "File exists (a file of that name is in the way)"),
        "under-a-file": (
            errno.ENOTDIR,
            "Not a directory (a part of the path is a file, not a directory)",
        ),
    }[layout]
    assert isinstance(info.value, OSError) and info.value.errno == reason[0]
    assert str(info.value) == f"cannot create the directory {root}: {reason[1]}"


def test_folder_under_proc_is_reported(h264_clip_7s: Clip) -> None:
    """/proc accepts no new folders, even from root: the same clean report, whatever errno
    this kernel picks."""
    root = Path("/proc/camwall-test-recordings")
    events: list[RecordEvent] = []
    recorder = _record_all(h264_clip_7s, root, events, retry_seconds=3600)
    (failure,) = events
    assert isinstance(failure, RecordingFailed)
    assert failure.message.startswith(f"cannot create the directory {root}/cam/")
    assert recorder.stats.packets == 0
    with pytest.raises(StorageError, match=f"^cannot create the directory {root}: "):
        ensure_writable(root)


def test_ensure_writable_creates_the_folder_and_leaves_nothing(tmp_path: Path) -> None:
    """A good folder passes, is created if missing, and keeps no probe file."""
    root = tmp_path / "a" / "b"
    assert ensure_writable(root) == root
    assert list(root.iterdir()) == []


def test_folder_replaced_mid_recording_then_restored(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """The disk goes away between segments: the finished segment stays intact, the next one
    fails with a StorageError event, and recording resumes once the folder is back."""
    root = tmp_path / "rec"
    events: list[RecordEvent] = []
    with av.open(str(h264_clip_7s.path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        recorder = SegmentRecorder("cam", root, 2, stream, on_event=events.append, retry_seconds=0)
        for packet in packets[:50]:
            recorder.write(packet)
        # The USB disk is unplugged: its mount point is now something else entirely.
        shutil.move(root, tmp_path / "unplugged")
        root.write_text("")
        for packet in packets[50:100]:
            recorder.write(packet)
        assert recorder.state == "failed"
        # Plugged in again: recording resumes at the next keyframe.
        root.unlink()
        root.mkdir()
        for packet in packets[100:]:
            recorder.write(packet)
        recorder.close()
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "SegmentOpened"
    # The first segment was still being written when the folder moved (its file descriptor
    # stays valid), so it closes cleanly inside the moved folder.
    first_closed = next(e for e in events if isinstance(e, SegmentClosed))
    moved = tmp_path / "unplugged" / first_closed.path.relative_to(root)
    assert segment_report(moved)["frames"] == 50
    failures = [e for e in events if isinstance(e, RecordingFailed)]
    assert failures and all(e.storage for e in failures)
    assert all(str(root) in e.message for e in failures)
    resumed = [e for e in events if isinstance(e, SegmentOpened) and e.path.is_relative_to(root)]
    assert resumed, kinds
    assert [segment_report(s.path)["frames"] for s in sorted(iter_segments(root))] == [50, 25]


@pytest.mark.timeout(120)
def test_file_size_limit_mid_segment(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """RLIMIT_FSIZE in a child makes writes fail with EFBIG in the middle of segments (what
    a full disk or quota looks like to the writer): nothing escapes write(), every failure
    is reported with its path, and each cut-short segment still plays."""
    parent, child = CTX.Pipe()
    proc = CTX.Process(
        target=recordprocs.file_size_limited,
        args=(str(h264_clip_7s.path), str(tmp_path), 20_000, child),
    )
    proc.start()
    try:
        assert parent.poll(90), "the recording child did not report"
        report = parent.recv()
    finally:
        proc.join(30)
    assert proc.exitcode == 0
    assert report["raised"] == []
    failures = [e for e in report["events"] if e["event"] == "recording_failed"]
    assert failures, report["events"]
    for failure in failures:
        assert failure["storage"] is True
        assert failure["path"] in failure["message"]
        assert "File too large" in failure["message"]
        assert "ulimit -f" in failure["message"]
    files = sorted(iter_segments(tmp_path))
    assert files, "cut-short segments must stay"
    for seg in files:
        assert seg.size <= 20_000
        info = segment_report(seg.path)
        assert info["codec"] == "h264" and info["frames"] >= 1
        assert info["decode_errors"] == 0  # cut back to the last whole fragment


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.timeout(180)
def test_disk_full_enospc_then_space_freed(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """On a real 160 KB tmpfs (private to a child's user+mount namespace) recording runs
    until ENOSPC, reports "No space left on device" naming the file, never raises, keeps
    every file playable, and records again once retention frees space."""
    if not _namespaces_work():
        pytest.skip("user+mount namespaces are not available here (tmpfs ENOSPC test)")
    mount = tmp_path / "disk"
    mount.mkdir()
    script = (
        'mount -t tmpfs -o size=160k tmpfs "$1" && exec "$2" -m support.recordprocs '
        'diskfull "$3" "$1"'
    )
    result = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            script,
            "sh",
            str(mount),
            sys.executable,
            str(h264_clip_7s.path),
        ],
        capture_output=True,
        text=True,
        timeout=150,
        cwd=TESTS_DIR,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["raised"] == []
    events = report["events"]
    failures = [e for e in events[: report["failed_at"]] if e["event"] == "recording_failed"]
    assert failures
    assert "No space left on device" in failures[0]["message"]
    assert "the disk is full" in failures[0]["message"]
    assert failures[0]["path"] in failures[0]["message"]
    assert failures[0]["path"].startswith(str(mount))
    assert report["playable_frames"] and min(report["playable_frames"]) >= 1
    assert report["decode_errors"] == 0
    assert report["freed"] >= 1
    after = events[report["failed_at"] :]
    assert any(e["event"] == "segment_closed" for e in after), after
