"""What the supervisor needs to run one camera: its source, output size and retry policy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

# Re-exported: BackoffPolicy lived here first, and a camera's spec still carries one.
from camwall.backoff import BackoffPolicy
from camwall.sources.base import DecodeMode, SourceSettings


@dataclass(frozen=True, slots=True)
class RecordingSpec:
    """Record the camera's compressed stream into MP4 segments (see camwall.record).

    Only sources that demux compressed packets (network streams, files) can be recorded;
    synthetic cameras and webcams are captured but not recorded.
    """

    #: The recording root; segments go to ``<directory>/<camera>/<UTC date>/``.
    directory: Path
    segment_seconds: float = 60.0
    #: Seconds before recording is tried again after a disk or muxer failure.
    retry_seconds: float = 30.0
    #: The camera name segments are filed under; None: the CameraSpec's name. (A wall that
    #: runs a camera under another key, e.g. while switching streams, keeps one folder.)
    camera: str | None = None
    #: None: record continuously. A number: record only when triggered
    #: (``CaptureSupervisor.trigger_recording``), starting this many seconds before the
    #: trigger from packets kept in memory (camwall.record.triggered), at most
    #: ``pre_roll_max_bytes`` of them.
    pre_roll_s: float | None = None
    pre_roll_max_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.pre_roll_s is not None and not 0 <= self.pre_roll_s <= 3600:
            raise ValueError(f"pre_roll_s must be 0..3600 seconds, not {self.pre_roll_s}")
        if not self.pre_roll_max_bytes > 0:
            raise ValueError(f"pre_roll_max_bytes must be positive, not {self.pre_roll_max_bytes}")
        if not self.segment_seconds > 0 or not math.isfinite(self.segment_seconds):
            raise ValueError(
                f"segment_seconds must be a positive number, not {self.segment_seconds}"
            )
        if not self.retry_seconds >= 0:
            raise ValueError(f"retry_seconds must not be negative, not {self.retry_seconds}")


@dataclass(frozen=True, slots=True)
class DetectOutput:
    """A second output of the same decode, for detection: one fixed size, its own rate.

    The detector then sees the same picture whatever the wall shows (tile size, grid,
    enlarging): ``width``/``height`` as in :func:`camwall.detect.geometry.detect_size`
    (None: 640 wide keeping the aspect, never enlarged), at most ``fps`` frames a second.
    """

    width: int | None = None
    height: int | None = None
    fps: float = 5.0

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and not 16 <= value <= 4096:
                raise ValueError(f"detect {name} must be 16..4096 pixels, not {value}")
        if not 0 < self.fps <= 60 or not math.isfinite(self.fps):
            raise ValueError(f"detect fps must be in (0, 60], not {self.fps}")

    def capacity_size(self) -> tuple[int, int]:
        """A frame size whose ring fits every detect frame this output can make."""
        side = max(self.width or 640, self.height or 640)
        return side, side * 2  # any aspect up to 1:2 portrait


#: Default slot capacity: a 4K BGRA frame. Pages of shared memory are only allocated when
#: written, so a 1440p camera uses 14.7 MB per slot, not 33 MB.
DEFAULT_MAX_FRAME = (3840, 2160)


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """One camera for the capture supervisor."""

    name: str
    source: SourceSettings
    #: Publish frames scaled down to fit in (width, height) — e.g. a grid tile. None: full size.
    max_size: tuple[int, int] | None = None
    slots: int = 3
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    #: Seconds between stats events.
    stats_interval_s: float = 1.0
    #: Frame size the ring is first created for; larger frames re-create it.
    initial_frame: tuple[int, int] = DEFAULT_MAX_FRAME
    #: Logging level inside the worker (records at or above it reach the owner's logging).
    log_level: int = 20
    #: Record the stream while capturing it; None: no recording.
    recording: RecordingSpec | None = None
    #: Decode every frame, keyframes only, or nothing (see camwall.runtime.decode).
    decode: DecodeMode = "full"
    #: Also publish detect-sized frames into a second ring (None: no detection output).
    detect: DetectOutput | None = None
    #: Publish the view ring. False: a detect-only worker (the runtime's second connection
    #: when detection reads another stream than the one shown): only the detect ring is fed.
    view: bool = True

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise ValueError("a camera needs a non-empty name")
        if self.max_size is not None and (self.max_size[0] < 16 or self.max_size[1] < 16):
            raise ValueError(f"max_size {self.max_size} is too small (at least 16×16)")


def fit_size(width: int, height: int, max_size: tuple[int, int] | None) -> tuple[int, int]:
    """The size a ``width``×``height`` frame is published at: scaled down to fit, never up.

    Only scales when the frame is at least ~1.5× larger than the box; small differences are
    cheaper to scale at paint time than to convert twice.
    """
    if max_size is None:
        return width, height
    mw, mh = max_size
    scale = min(mw / width, mh / height)
    if scale > 1 / 1.5:
        return width, height
    # Even sizes keep chroma-subsampled converters and encoders happy.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


__all__ = [
    "DEFAULT_MAX_FRAME",
    "BackoffPolicy",
    "CameraSpec",
    "DetectOutput",
    "RecordingSpec",
    "fit_size",
]
