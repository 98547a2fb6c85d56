"""The small messages the detection worker sends: results, track events, stats, status.

All are frozen dataclasses of plain values (they pickle small) with ``to_dict()`` for JSON
lines; ``type`` names the kind of message in that dict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias, cast

from camwall.detect.detections import Detections

BoxTuple = tuple[float, float, float, float]


class _Message:
    type: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON lines, with a ``type`` key first."""
        # Every subclass is a dataclass; mypy cannot see that through this mixin.
        return {"type": self.type, **dataclasses.asdict(cast(Any, self))}


@dataclass(frozen=True, slots=True)
class DetectionResult(_Message):
    """What the detector found in one frame of one camera.

    ``detections`` are plain dicts (see :meth:`Detections.to_dicts`) in frame pixels of a
    ``width``×``height`` frame; ``motion`` the motion boxes when motion gating is on;
    ``region`` the frame area the object detector examined (None: none, as nothing moved).
    """

    type: ClassVar[str] = "detections"
    camera: str
    seq: int
    capture_ns: int
    width: int
    height: int
    detections: list[dict[str, Any]]
    inference_ms: float
    detector: str
    motion: list[dict[str, Any]] | None = None
    region: tuple[int, int, int, int] | None = None

    def to_detections(self) -> Detections:
        """The detections as a :class:`Detections`."""
        return Detections.from_dicts(self.detections)


@dataclass(frozen=True, slots=True)
class TrackEvent(_Message):
    """An object of ``label`` appeared on, or left, camera ``camera``.

    ``time`` is wall-clock seconds (epoch) when the worker decided; ``capture_ns`` and ``seq``
    identify the frame. ``box`` is the last box in frame pixels, ``best_score`` the highest
    score the track reached, ``snapshot`` the path the snapshot callback returned (appeared
    events only).
    """

    type: ClassVar[str] = "track"
    kind: Literal["appeared", "left"]
    camera: str
    label: str
    track_id: int
    time: float
    capture_ns: int
    seq: int
    box: BoxTuple
    best_score: float
    snapshot: str | None = None


@dataclass(frozen=True, slots=True)
class ZoneEvent(_Message):
    """Track ``track_id`` (``label``) entered or left zone ``zone`` of ``camera``.

    ``time`` is when it happened, on the clock the caller passes (capture time in seconds
    for the worker); ``inside_since`` when its point went into the zone (for ``entered`` it is
    ``time - inside_since ≥ min_seconds``; for ``left`` the stay lasted ``time -
    inside_since``). ``box`` is the track's box in pixels of the frame evaluated.
    """

    type: ClassVar[str] = "zone"
    kind: Literal["entered", "left"]
    camera: str
    zone: str
    label: str
    track_id: int
    time: float
    inside_since: float
    capture_ns: int
    seq: int
    box: BoxTuple


@dataclass(frozen=True, slots=True)
class DetectionStats(_Message):
    """Per-camera detection statistics over the last reporting window (about a second).

    ``skipped`` counts scheduled detections that never ran because the worker was busy (it
    was slower than the camera's target fps); ``torn`` frames that changed under the
    detector and were re-read. Both are totals since the camera was added.
    """

    type: ClassVar[str] = "stats"
    camera: str
    fps: float
    target_fps: float
    inference_ms: float
    inference_ms_max: float
    frames: int
    skipped: int
    torn: int
    #: Turns the model was skipped on purpose (the camera reported no motion), in total.
    gated: int = 0


@dataclass(frozen=True, slots=True)
class CameraStatus(_Message):
    """A camera's detection state changed: ``detecting``, ``waiting`` (no frames) or ``error``."""

    type: ClassVar[str] = "camera"
    camera: str
    state: Literal["detecting", "waiting", "error"]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WorkerStatus(_Message):
    """The detection worker process started, became ready, died, failed for good, or stopped."""

    type: ClassVar[str] = "worker"
    state: Literal["starting", "ready", "died", "failed", "stopped"]
    pid: int | None = None
    detector: str = ""
    reason: str = ""
    restarts: int = 0


Message: TypeAlias = (
    DetectionResult | TrackEvent | DetectionStats | CameraStatus | WorkerStatus | ZoneEvent
)
