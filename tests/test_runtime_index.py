"""The runtime keeps a recordings index per folder: segments as they close, state events."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from camwall.capture.events import RecordingEvent
from camwall.config import loads
from camwall.record import SegmentClosed
from camwall.record.index import RecordingIndex
from camwall.runtime import Runtime
from support.h264clip import Clip
from support.runtime_events import Collector


@pytest.mark.slow
def test_runtime_indexes_what_it_records(tmp_path: Path, h264_clip_7s: Clip) -> None:
    """A file camera recording in 1 s segments: the index lists every closed segment and the
    camera's state changes, without anyone calling the index but the runtime."""
    cfg = loads(
        f"""
version = 1
[recording]
dir = "rec"
segment_seconds = 1
[[camera]]
name = "clip"
url = "{h264_clip_7s.path}"
record = true
""",
        path=tmp_path / "camwall.toml",
    )
    events = Collector()
    rt = Runtime(cfg, events, mode="thread", retention_interval_s=3600)
    try:
        rt.start()
        index = rt.recording_index().result(timeout=30)
        assert index is rt.recording_index(tmp_path / "rec").result(0)  # one per folder
        events.wait_type("state", 30, camera="clip", state="streaming")
        events.wait(lambda i: i["type"] == "recording" and i.get("event") == "segment_closed", 30)
        closed = [
            e.payload.record
            for e in list(events.events)
            if isinstance(e.payload, RecordingEvent) and isinstance(e.payload.record, SegmentClosed)
        ]
        paths = {Path(c.path) for c in closed}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            indexed = {s.path for s in index.segments("clip")}
            if paths <= indexed and index.events("clip", kind="state"):
                break
            time.sleep(0.05)
        assert paths <= indexed, (paths, indexed)
        states = [e.label for e in index.events("clip", kind="state")]
        assert "streaming" in states
        spans = index.spans("clip")
        assert spans and spans[0][1] > spans[0][0]
    finally:
        assert rt.close(timeout=15)
    # Closing the runtime closed the index and stopped its thread (the autouse fixture checks
    # for threads left behind); a second index opened on the folder sees the same segments.
    with RecordingIndex.open_readonly(tmp_path / "rec") as again:
        assert paths <= {s.path for s in again.segments("clip")}


@pytest.mark.slow
def test_retention_removes_the_rows_of_the_files_it_deletes(
    tmp_path: Path, h264_clip_7s: Clip
) -> None:
    """A tiny size cap: retention deletes the oldest segments; the index forgets them."""
    cfg = loads(
        f"""
version = 1
[recording]
dir = "rec"
segment_seconds = 1
max_total_gb = 0.00004
[[camera]]
name = "clip"
url = "{h264_clip_7s.path}"
record = true
""",
        path=tmp_path / "camwall.toml",
    )
    events = Collector()
    rt = Runtime(cfg, events, mode="thread", retention_interval_s=3600)
    try:
        rt.start()
        index = rt.recording_index().result(timeout=30)
        events.wait_type("retention", 30)
        closed = [
            Path(e.payload.record.path)
            for e in list(events.events)
            if isinstance(e.payload, RecordingEvent) and isinstance(e.payload.record, SegmentClosed)
        ]
        gone = [p for p in closed if not p.exists()]
        assert gone
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listed = {s.path for s in index.segments("clip")}
            if not listed & set(gone) and listed:
                break
            time.sleep(0.05)
        assert not listed & set(gone) and listed
    finally:
        assert rt.close(timeout=15)
