"""Detectors that ship inside OpenCV 4.x (no download): HOG people and the Haar frontal face.

Both run on a downscaled grey copy and map their boxes back to frame pixels. OpenCV 5 drops
them, hence the ``opencv-python-headless<5`` pin. Their scores are the classifier margins
squashed to 0..1 (see :func:`camwall.detect.base.squash`), not probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from camwall.detect.base import small_gray, squash
from camwall.detect.detections import Detections, Image
from camwall.errors import ModelLoadError

FACE_CASCADE = "haarcascade_frontalface_default.xml"
# Present in opencv-python(-headless) 4.x, missing from OpenCV's type stubs.
_HAAR_DIR: str = cv2.data.haarcascades  # type: ignore[attr-defined]


def _people_svm() -> Any:
    return cv2.HOGDescriptor_getDefaultPeopleDetector()  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class GrayPrepared:
    """A small grey copy and the factor back to frame pixels."""

    gray: Image
    factor: float
    frame_size: tuple[int, int]


def _to_frame(rects: np.ndarray, weights: np.ndarray, prep: GrayPrepared, label: str) -> Detections:
    if len(rects) == 0:
        return Detections.empty()
    r = np.asarray(rects, np.float32).reshape(-1, 4)
    boxes = np.concatenate([r[:, :2], r[:, :2] + r[:, 2:]], axis=1) * np.float32(prep.factor)
    fw, fh = prep.frame_size
    np.clip(boxes, 0, np.array([fw, fh, fw, fh], np.float32), out=boxes)
    n = len(boxes)
    return Detections(boxes, squash(weights), np.zeros(n, np.int32), (label,) * n)


class HaarFaceDetector:
    """Frontal faces with OpenCV's Haar cascade; a StagedDetector."""

    def __init__(
        self,
        *,
        work_width: int = 640,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 24,
        cascade: str | None = None,
    ) -> None:
        """Load the cascade (OpenCV's own frontal-face file unless ``cascade`` names another)."""
        path = Path(cascade) if cascade else Path(_HAAR_DIR) / FACE_CASCADE
        if not path.is_file():
            raise ModelLoadError(f"Haar cascade file not found: {path}")
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelLoadError(f"cannot load Haar cascade {path}: not a cascade XML file")
        self.work_width = work_width
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size

    @property
    def name(self) -> str:
        """Detector name."""
        return "haar-face"

    def warm_up(self) -> None:
        """Run once on a blank image."""
        self.detect(np.zeros((240, 320, 3), np.uint8))

    def prepare(self, image: Image) -> GrayPrepared:
        """Downscaled grey copy.

        No histogram equalisation: over a whole camera frame the background dominates the
        histogram and equalising it flattens the contrast of the faces instead.
        """
        gray, factor = small_gray(image, self.work_width)
        return GrayPrepared(gray, factor, (image.shape[1], image.shape[0]))

    def infer(self, prepared: GrayPrepared) -> Detections:
        """Faces in frame pixels."""
        rects, _levels, weights = self._cascade.detectMultiScale3(
            prepared.gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
            outputRejectLevels=True,
        )
        return _to_frame(np.asarray(rects), np.asarray(weights), prepared, "face")

    def detect(self, image: Image) -> Detections:
        """Faces in ``image``."""
        return self.infer(self.prepare(image))


class HogPeopleDetector:
    """Upright people with OpenCV's HOG + linear SVM; a StagedDetector."""

    def __init__(
        self,
        *,
        work_width: int = 640,
        scale: float = 1.05,
        win_stride: int = 8,
        hit_threshold: float = 0.0,
        nms_threshold: float = 0.45,
    ) -> None:
        """Set up the default people detector (64×128 window)."""
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(_people_svm())
        self.work_width = work_width
        self.scale = scale
        self.win_stride = win_stride
        self.hit_threshold = hit_threshold
        self.nms_threshold = nms_threshold

    @property
    def name(self) -> str:
        """Detector name."""
        return "hog-people"

    def warm_up(self) -> None:
        """Run once on a blank image."""
        self.detect(np.zeros((256, 256, 3), np.uint8))

    def prepare(self, image: Image) -> GrayPrepared:
        """Downscaled grey copy."""
        gray, factor = small_gray(image, self.work_width)
        return GrayPrepared(gray, factor, (image.shape[1], image.shape[0]))

    def infer(self, prepared: GrayPrepared) -> Detections:
        """People in frame pixels, overlapping windows merged by NMS."""
        g = prepared.gray
        if g.shape[0] < 128 or g.shape[1] < 64:
            return Detections.empty()
        rects, weights = self._hog.detectMultiScale(
            g,
            hitThreshold=self.hit_threshold,
            winStride=(self.win_stride, self.win_stride),
            padding=(8, 8),
            scale=self.scale,
        )
        dets = _to_frame(np.asarray(rects), np.asarray(weights), prepared, "person")
        if len(dets) > 1:
            xywh = np.concatenate([dets.boxes[:, :2], dets.boxes[:, 2:] - dets.boxes[:, :2]], 1)
            keep = cv2.dnn.NMSBoxes(
                cast(Any, xywh.astype(np.float64)), cast(Any, dets.scores), 0.0, self.nms_threshold
            )
            dets = dets.filter(np.asarray(keep, np.intp).reshape(-1))
        return dets

    def detect(self, image: Image) -> Detections:
        """People in ``image``."""
        return self.infer(self.prepare(image))
