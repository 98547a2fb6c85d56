"""What a recorder reports: small picklable messages (for a pipe to the app, or a callback)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class SegmentOpened:
    """A new segment file was created and recording into it began."""

    camera: str
    path: Path
    start: datetime

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON lines."""
        return {"event": "segment_opened", **_plain(asdict(self))}


@dataclass(frozen=True, slots=True)
class SegmentClosed:
    """A segment is complete: ``duration_s`` of media in ``bytes`` bytes."""

    camera: str
    path: Path
    start: datetime
    duration_s: float
    bytes: int
    packets: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON lines."""
        return {"event": "segment_closed", **_plain(asdict(self))}


@dataclass(frozen=True, slots=True)
class RecordingFailed:
    """Recording stopped; ``message`` says why (no credentials), ``retry_s`` when it tries again.

    ``storage`` is True for disk problems (full, unwritable) and False for stream problems.
    """

    camera: str
    path: Path | None
    message: str
    storage: bool
    retry_s: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON lines."""
        return {"event": "recording_failed", **_plain(asdict(self))}


RecordEvent = SegmentOpened | SegmentClosed | RecordingFailed


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Path):
            out[key] = str(value)
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
