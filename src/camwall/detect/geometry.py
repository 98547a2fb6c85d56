"""The detect size: the one resolution a camera's detector sees, whatever the wall shows.

The capture worker scales each decoded frame (main stream or substream, as configured) to
this size for detection, independent of tile size, grid, enlarging and review — so the same
picture gives the same detections on a 1-tile and a 16-tile wall. Zones and masks are stored
normalised and mapped here to the detect size; boxes found at the detect size are mapped back
to the frame size with :meth:`DetectGeometry.to_frame` (e.g. for the overlay and snapshots).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from camwall.detect.masks import Mask
from camwall.detect.zones import Zone

DEFAULT_DETECT_WIDTH = 640


def _even(value: float) -> int:
    """The nearest even integer ≥ 2 (video scalers and YUV formats want even sizes)."""
    return max(2, 2 * round(value / 2))


def detect_size(
    frame_w: int,
    frame_h: int,
    width: int | None = None,
    height: int | None = None,
    *,
    default_width: int = DEFAULT_DETECT_WIDTH,
) -> tuple[int, int]:
    """The (w, h) detection runs at for a frame_w×frame_h source; even numbers.

    ``width`` and ``height`` are the camera's ``detect.width`` / ``detect.height``: both
    given, they are used as they are (rounded to even); one given, the other keeps the
    frame's aspect; neither, the frame is scaled to ``default_width`` wide keeping its aspect,
    but never enlarged (a 480-wide substream is detected at 480).
    """
    if frame_w <= 0 or frame_h <= 0:
        raise ValueError(f"frame size must be positive, not {frame_w}×{frame_h}")
    for name, v in (("detect width", width), ("detect height", height)):
        if v is not None and v < 2:
            raise ValueError(f"{name} must be at least 2 pixels, not {v}")
    aspect = frame_h / frame_w
    if width is not None and height is not None:
        return _even(width), _even(height)
    if width is not None:
        return _even(width), _even(width * aspect)
    if height is not None:
        return _even(height / aspect), _even(height)
    w = min(frame_w, default_width)
    return _even(w), _even(w * aspect)


@dataclass(frozen=True, slots=True)
class DetectGeometry:
    """A frame size and the detect size derived from it, with the mappings between them."""

    frame_size: tuple[int, int]
    size: tuple[int, int]

    @classmethod
    def for_frame(
        cls,
        frame_w: int,
        frame_h: int,
        width: int | None = None,
        height: int | None = None,
        *,
        default_width: int = DEFAULT_DETECT_WIDTH,
    ) -> DetectGeometry:
        """The geometry of :func:`detect_size` for this frame and camera settings."""
        size = detect_size(frame_w, frame_h, width, height, default_width=default_width)
        return cls((frame_w, frame_h), size)

    @property
    def scale(self) -> tuple[float, float]:
        """(sx, sy) from detect pixels to frame pixels."""
        return self.frame_size[0] / self.size[0], self.frame_size[1] / self.size[1]

    def to_frame(self, boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """N×4 xyxy boxes in detect pixels → frame pixels."""
        sx, sy = self.scale
        out: npt.NDArray[np.float32] = (
            np.asarray(boxes, np.float32) * np.array([sx, sy, sx, sy], np.float32)
        ).astype(np.float32)
        return out

    def zone_polygon(self, zone: Zone) -> npt.NDArray[np.float32]:
        """``zone``'s polygon in detect pixels."""
        return zone.polygon(*self.size)

    def mask(self, mask: Mask) -> Mask:
        """``mask`` as pixel polygons of the detect size (normalised or pixel form alike)."""
        return mask.for_size(*self.size)
