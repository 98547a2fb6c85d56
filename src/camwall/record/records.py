"""What the recordings index answers with: segment and event records (plain, picklable)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

EventKind = Literal["detection", "state", "camera"]


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """One indexed segment: ``path`` (absolute) of ``camera`` covering [start, end)."""

    path: Path
    camera: str
    start: float
    end: float
    size: int
    codec: str
    width: int
    height: int
    frames: int
    keyframes: int
    #: Frame time = start + (pts - first_pts) × time_base.
    first_pts: int
    time_base: Fraction

    @property
    def duration(self) -> float:
        """Seconds of video."""
        return self.end - self.start

    @property
    def fps(self) -> float:
        """Average frames per second (0 if unknown)."""
        return self.frames / self.duration if self.duration > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        data = asdict(self)
        data["path"] = str(self.path)
        data["time_base"] = str(self.time_base)
        data["start_iso"] = iso(self.start)
        data["end_iso"] = iso(self.end)
        return data


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event on the timeline: a tracked detection or a camera state change."""

    camera: str
    kind: EventKind
    label: str
    start: float
    end: float | None = None
    score: float | None = None
    snapshot: str | None = None
    track_id: int | None = None
    detail: str = ""
    #: The index's row id (None until stored).
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        data = asdict(self)
        data["start_iso"] = iso(self.start)
        data["end_iso"] = None if self.end is None else iso(self.end)
        return data


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What :meth:`RecordingIndex.refresh` changed."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unreadable: int = 0


def iso(t: float) -> str:
    """Epoch seconds as ISO 8601 UTC with milliseconds (``2026-11-26T10:48:00.123Z``)."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
