"""Motion detection without a model: running-average background differencing on a small grey copy.

Each frame is shrunk to ``width`` pixels wide, converted to grey and blurred; pixels that
differ from a slowly adapting background by more than ``threshold`` grey levels count as
moving. Masked areas are cleared, the rest is dilated so the parts of one moving thing join
up, and every remaining blob bigger than ``min_area`` becomes a ``motion`` box in frame pixels.

A running average (rather than OpenCV's MOG2) keeps the comparison read-only: :meth:`prepare`
finds motion against the current background without changing it, and only :meth:`infer`
teaches the background the new frame. The detection worker relies on that split: a frame
found torn after ``prepare`` is dropped without having polluted the background.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from camwall.detect.base import small_gray
from camwall.detect.detections import Detections, Image
from camwall.detect.masks import Mask

MOTION_LABEL = "motion"


@dataclass(frozen=True)
class MotionConfig:
    """Tuning of :class:`MotionDetector`; the defaults suit a 5 fps check of a street camera."""

    width: int = 320
    threshold: int = 25
    learning_rate: float = 0.05
    blur: int = 5
    dilate: int = 2
    min_area: float = 0.0005
    reset_fraction: float = 0.6

    def __post_init__(self) -> None:
        """Reject values that cannot work, naming the field."""
        if not 32 <= self.width <= 4096:
            raise ValueError(f"motion width must be 32..4096 pixels, not {self.width}")
        if not 1 <= self.threshold <= 255:
            raise ValueError(f"motion threshold must be 1..255 grey levels, not {self.threshold}")
        if not 0.0 < self.learning_rate <= 1.0:
            raise ValueError(f"motion learning_rate must be in (0, 1], not {self.learning_rate}")
        if self.blur < 0 or self.dilate < 0:
            raise ValueError("motion blur and dilate must not be negative")
        if not 0.0 <= self.min_area < 1.0:
            raise ValueError(
                f"motion min_area is a fraction of the picture (0..1), not {self.min_area}"
            )
        if not 0.0 < self.reset_fraction <= 1.0:
            raise ValueError(f"motion reset_fraction must be in (0, 1], not {self.reset_fraction}")


@dataclass(frozen=True, slots=True)
class MotionPrepared:
    """One frame's small grey copy and the motion found in it against the current background."""

    gray: npt.NDArray[np.uint8]
    detections: Detections
    frame_size: tuple[int, int]
    changed_fraction: float
    reset: bool


class MotionDetector:
    """A :class:`~camwall.detect.base.StagedDetector` whose boxes are the moving areas.

    Stateful (it owns one camera's background): use one instance per camera.
    """

    def __init__(self, config: MotionConfig | None = None, mask: Mask | None = None) -> None:
        """Detect motion as ``config`` says, ignoring the areas of ``mask``."""
        self.config = config or MotionConfig()
        self.mask = mask or Mask()
        self._background: npt.NDArray[np.float32] | None = None
        self._mask_key: tuple[int, int, int, int] | None = None
        self._keep: npt.NDArray[np.uint8] | None = None
        k = 2 * (self.config.blur // 2) + 1
        self._blur = (k, k)
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

    @property
    def name(self) -> str:
        """Detector name."""
        return MOTION_LABEL

    def warm_up(self) -> None:
        """Nothing to load; present to satisfy the Detector protocol."""

    def reset(self) -> None:
        """Forget the background (the next frame becomes it)."""
        self._background = None

    def _keep_mask(self, fw: int, fh: int, w: int, h: int) -> npt.NDArray[np.uint8] | None:
        if not self.mask:
            return None
        key = (fw, fh, w, h)
        if key != self._mask_key:
            self._keep = cast(Image, cv2.bitwise_not(self.mask.raster(fw, fh, (w, h))))
            self._mask_key = key
        return self._keep

    def prepare(self, image: Image) -> MotionPrepared:
        """Find motion in ``image`` against the background, without changing the background."""
        fh, fw = image.shape[:2]
        gray, factor = small_gray(image, self.config.width)
        if self.config.blur > 1:
            gray = cast(Image, cv2.GaussianBlur(gray, self._blur, 0))
        h, w = gray.shape
        bg = self._background
        if bg is None or bg.shape != gray.shape:
            return MotionPrepared(gray, Detections.empty(), (fw, fh), 0.0, reset=True)
        diff = cv2.absdiff(gray, cv2.convertScaleAbs(bg))
        _, moving = cv2.threshold(diff, self.config.threshold, 255, cv2.THRESH_BINARY)
        keep = self._keep_mask(fw, fh, w, h)
        if keep is not None:
            moving = cv2.bitwise_and(moving, keep)
        changed = cv2.countNonZero(moving) / float(w * h)
        if changed >= self.config.reset_fraction:
            # Lights switched, camera moved or the iris jumped: report the whole picture once
            # (so a gated detector looks everywhere) and start a fresh background.
            box = np.array([[0, 0, fw, fh]], np.float32)
            dets = Detections.build(box, [1.0], [0], [MOTION_LABEL])
            return MotionPrepared(gray, dets, (fw, fh), changed, reset=True)
        if self.config.dilate:
            moving = cv2.dilate(moving, self._kernel, iterations=self.config.dilate)
        contours, _ = cv2.findContours(moving, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = self.config.min_area * w * h
        boxes, scores = [], []
        for c in contours:
            x, y, bw, bh = cv2.boundingRect(c)
            if bw * bh < min_area or cv2.contourArea(c) < min_area:
                continue
            boxes.append((x, y, x + bw, y + bh))
            # Score: how much of the box really changed (dilation fills the rest).
            inside = cv2.countNonZero(moving[y : y + bh, x : x + bw]) / float(bw * bh)
            scores.append(min(1.0, inside))
        if not boxes:
            return MotionPrepared(gray, Detections.empty(), (fw, fh), changed, reset=False)
        arr = np.asarray(boxes, np.float32) * np.float32(factor)
        np.clip(arr, 0, [fw, fh, fw, fh], out=arr)
        dets = Detections.build(arr, scores, [0] * len(boxes), [MOTION_LABEL] * len(boxes))
        return MotionPrepared(gray, dets, (fw, fh), changed, reset=False)

    def infer(self, prepared: MotionPrepared) -> Detections:
        """Teach the background this frame and return its motion boxes."""
        if prepared.reset or self._background is None:
            self._background = prepared.gray.astype(np.float32)
        else:
            cv2.accumulateWeighted(prepared.gray, self._background, self.config.learning_rate)
        return prepared.detections

    def detect(self, image: Image) -> Detections:
        """Motion boxes of ``image`` (and update the background)."""
        return self.infer(self.prepare(image))
