"""Motion-gated detection: run the object detector only when, and only where, something moves.

The union of the motion boxes, grown by a margin and to at least ``min_crop`` pixels, is cut
out of the frame (a view, no copy) and given to the object detector; its boxes are shifted
back into frame pixels. A crop smaller than the network input is *upscaled* by the
letterbox, so small distant objects get more pixels than in a full-frame pass. When the
motion covers most of the picture the whole frame is used. Every ``refresh_s`` seconds a
full-frame pass runs even without motion, so an object that stopped moving is still seen
(and one that left while nothing moved is noticed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from camwall.detect.base import Detector, StagedDetector
from camwall.detect.detections import Detections, Image
from camwall.detect.motion import MotionDetector, MotionPrepared

Region = tuple[int, int, int, int]


@dataclass(frozen=True)
class GateConfig:
    """How the crop around motion is made."""

    margin: float = 0.25
    min_margin: int = 16
    min_crop: int = 320
    full_frame_fraction: float = 0.5
    refresh_s: float = 10.0

    def __post_init__(self) -> None:
        """Reject values that cannot work."""
        if self.margin < 0 or self.min_margin < 0 or self.min_crop < 1:
            raise ValueError("gate margin, min_margin and min_crop must not be negative")
        if not 0.0 < self.full_frame_fraction <= 1.0:
            raise ValueError("gate full_frame_fraction must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class GatedPrepared:
    """Motion against the background plus, if there was any, the detector's prepared crop."""

    motion: MotionPrepared
    region: Region | None
    inner: Any
    staged: bool


@dataclass(frozen=True, slots=True)
class GatedResult:
    """What one gated pass found and where it looked (``region`` None: nowhere)."""

    detections: Detections
    motion: Detections
    region: Region | None


def crop_region(motion: Detections, width: int, height: int, config: GateConfig) -> Region:
    """The frame area (x0, y0, x1, y1) the object detector should look at for these motion boxes."""
    b = motion.boxes
    x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
    x1, y1 = float(b[:, 2].max()), float(b[:, 3].max())
    mx = max(config.min_margin, config.margin * (x1 - x0))
    my = max(config.min_margin, config.margin * (y1 - y0))
    x0, y0, x1, y1 = x0 - mx, y0 - my, x1 + mx, y1 + my
    # Grow small crops around their centre: a detector needs context around a moving hand.
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w = min(width, max(x1 - x0, config.min_crop))
    h = min(height, max(y1 - y0, config.min_crop))
    x0 = min(max(0.0, cx - w / 2), width - w)
    y0 = min(max(0.0, cy - h / 2), height - h)
    region = (int(x0), int(y0), min(width, int(np.ceil(x0 + w))), min(height, int(np.ceil(y0 + h))))
    area = (region[2] - region[0]) * (region[3] - region[1])
    if area >= config.full_frame_fraction * width * height:
        return (0, 0, width, height)
    return region


class MotionGatedDetector:
    """A StagedDetector: ``motion`` decides when and where ``detector`` runs. One per camera."""

    def __init__(
        self,
        detector: Detector,
        motion: MotionDetector,
        config: GateConfig | None = None,
        *,
        clock: Any = time.monotonic,
    ) -> None:
        """Gate ``detector`` (shared between cameras is fine) with this camera's ``motion``."""
        self.detector = detector
        self.motion = motion
        self.config = config or GateConfig()
        self._clock = clock
        self._last_full = -float("inf")
        self.last: GatedResult = GatedResult(Detections.empty(), Detections.empty(), None)

    @property
    def name(self) -> str:
        """``<detector>+motion``."""
        return f"{self.detector.name}+motion"

    def warm_up(self) -> None:
        """Warm up the object detector."""
        self.detector.warm_up()

    def prepare(self, image: Image) -> GatedPrepared:
        """Find motion; if any (or a refresh is due), prepare the detector's input for the crop."""
        motion = self.motion.prepare(image)
        h, w = image.shape[:2]
        region: Region | None = None
        now = self._clock()
        if len(motion.detections):
            region = crop_region(motion.detections, w, h, self.config)
        elif now - self._last_full >= self.config.refresh_s:
            region = (0, 0, w, h)
        if region is None:
            return GatedPrepared(motion, None, None, False)
        if region == (0, 0, w, h):
            self._last_full = now
        crop = image[region[1] : region[3], region[0] : region[2]]
        if isinstance(self.detector, StagedDetector):
            return GatedPrepared(motion, region, self.detector.prepare(crop), True)
        # A plain detector cannot be split: it runs here, on the caller's (possibly shared) view.
        return GatedPrepared(motion, region, self.detector.detect(crop), False)

    def infer_full(self, prepared: GatedPrepared) -> GatedResult:
        """Commit the motion background and run the detector on the prepared crop, if any."""
        motion = self.motion.infer(prepared.motion)
        if prepared.region is None:
            self.last = GatedResult(Detections.empty(), motion, None)
            return self.last
        if prepared.staged:
            assert isinstance(self.detector, StagedDetector)
            found = self.detector.infer(prepared.inner)
        else:
            found = prepared.inner
        x0, y0 = prepared.region[:2]
        self.last = GatedResult(found.translate(x0, y0), motion, prepared.region)
        return self.last

    def infer(self, prepared: GatedPrepared) -> Detections:
        """Object detections in frame pixels (empty when nothing moved)."""
        return self.infer_full(prepared).detections

    def detect(self, image: Image) -> Detections:
        """Object detections of ``image`` where it moves."""
        return self.infer(self.prepare(image))
