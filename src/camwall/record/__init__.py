"""Recording and snapshots: fixed-length MP4 segments by remuxing, retention, still images;
the recordings index and clip export (review: see also :mod:`camwall.playback`).

See docs/recording.md. Nothing here imports Qt.
"""

from __future__ import annotations

from camwall.record.events import RecordEvent, RecordingFailed, SegmentClosed, SegmentOpened
from camwall.record.export import ExportResult, export_clip
from camwall.record.index import RecordingIndex
from camwall.record.naming import SegmentInfo, iter_segments, parse_segment_name, segment_filename
from camwall.record.recorder import MP4_OPTIONS, RecorderStats, SegmentRecorder
from camwall.record.records import RecordedEvent, RefreshResult, SegmentRecord
from camwall.record.retention import RetentionPolicy, RetentionResult, RetentionService, enforce
from camwall.record.snapshot import save_snapshot, snapshot_filename
from camwall.record.storage import ensure_writable

__all__ = [
    "MP4_OPTIONS",
    "ExportResult",
    "RecordEvent",
    "RecordedEvent",
    "RecorderStats",
    "RecordingFailed",
    "RecordingIndex",
    "RefreshResult",
    "RetentionPolicy",
    "RetentionResult",
    "RetentionService",
    "SegmentClosed",
    "SegmentInfo",
    "SegmentOpened",
    "SegmentRecord",
    "SegmentRecorder",
    "enforce",
    "ensure_writable",
    "export_clip",
    "iter_segments",
    "parse_segment_name",
    "save_snapshot",
    "segment_filename",
    "snapshot_filename",
]
