"""Recording and snapshots: fixed-length MP4 segments by remuxing, retention, still images.

See docs/recording.md. Nothing here imports Qt.
"""

from __future__ import annotations

from camwall.record.events import RecordEvent, RecordingFailed, SegmentClosed, SegmentOpened
from camwall.record.naming import SegmentInfo, iter_segments, parse_segment_name, segment_filename
from camwall.record.recorder import MP4_OPTIONS, RecorderStats, SegmentRecorder
from camwall.record.retention import RetentionPolicy, RetentionResult, RetentionService, enforce
from camwall.record.snapshot import save_snapshot, snapshot_filename
from camwall.record.storage import ensure_writable

__all__ = [
    "MP4_OPTIONS",
    "RecordEvent",
    "RecorderStats",
    "RecordingFailed",
    "RetentionPolicy",
    "RetentionResult",
    "RetentionService",
    "SegmentClosed",
    "SegmentInfo",
    "SegmentOpened",
    "SegmentRecorder",
    "enforce",
    "ensure_writable",
    "iter_segments",
    "parse_segment_name",
    "save_snapshot",
    "segment_filename",
    "snapshot_filename",
]
