"""The detector protocols every backend implements, and image helpers they share."""

from __future__ import annotations

from typing import Any, Protocol, cast, runtime_checkable

import cv2
import numpy as np

from camwall.detect.detections import Detections, Image


@runtime_checkable
class Detector(Protocol):
    """Finds objects in one H×W×4 BGRA (what rings carry) or H×W×3 BGR uint8 image."""

    @property
    def name(self) -> str:
        """Short name for logs and stats (e.g. ``yolov8n``, ``haar-face``)."""
        ...

    def detect(self, image: Image) -> Detections:
        """Detections in ``image``'s pixel coordinates."""
        ...

    def warm_up(self) -> None:
        """Run once on a blank image so the first real frame is not slow."""
        ...


@runtime_checkable
class StagedDetector(Detector, Protocol):
    """A detector split at the point where it stops reading the source pixels.

    ``prepare`` reads the image (resize, colour conversion) into memory of its own and
    returns an opaque object; ``infer`` does the expensive part on that object only. The
    detection worker runs ``prepare`` on a zero-copy view of shared memory, checks that the
    writer did not overwrite the slot meanwhile, and only then spends time on ``infer`` — so a
    torn frame costs a cheap re-``prepare``, not a second inference.
    """

    def prepare(self, image: Image) -> Any:
        """Everything that reads ``image``; the result must not reference ``image``'s memory."""
        ...

    def infer(self, prepared: Any) -> Detections:
        """Detections from a :meth:`prepare` result, in the prepared image's pixel coordinates."""
        ...


def check_image(image: Image) -> None:
    """Raise ValueError unless ``image`` is an H×W×3 or H×W×4 uint8 array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError(f"detectors take uint8 images, not {getattr(image, 'dtype', image)}")
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"detectors take H×W×3 BGR or H×W×4 BGRA images, not {image.shape}")


def small_gray(image: Image, max_width: int) -> tuple[Image, float]:
    """A grey copy no wider than ``max_width`` and the factor that maps its pixels to ``image``'s.

    Downscale first (area interpolation reads every source pixel once), then convert the
    small copy: far cheaper than converting a 1440p frame to grey.
    """
    check_image(image)
    h, w = image.shape[:2]
    factor = 1.0
    src = image
    if w > max_width:
        factor = w / max_width
        size = (max_width, max(1, round(h / factor)))
        src = cast(Image, cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        factor = w / size[0]
    code = cv2.COLOR_BGRA2GRAY if src.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    gray = cast(Image, cv2.cvtColor(src, code))
    return gray, factor


def squash(margin: np.ndarray[Any, np.dtype[Any]]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Map classifier margins (HOG/Haar weights, any real) onto 0..1 scores, monotonically.

    A logistic curve: margin 0 (the decision boundary) is 0.5. Not a calibrated probability,
    but it orders detections and lets one score threshold serve every detector.
    """
    m = np.asarray(margin, np.float64).reshape(-1)
    return (1.0 / (1.0 + np.exp(-m))).astype(np.float32)
