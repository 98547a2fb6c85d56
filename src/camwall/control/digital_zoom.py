"""DigitalZoom: which part of a frame a video view shows, as pure geometry (no Qt).

The view keeps one :class:`DigitalZoom` per tile, feeds it wheel and drag events and paints
``source_rect(frame_w, frame_h)`` of each frame into its target rectangle. Coordinates:

* *view* coordinates ``(u, v)`` are fractions of the displayed image: (0, 0) its top-left
  corner, (1, 1) its bottom-right — the view divides the cursor position by the painted
  image's size (after any letterboxing);
* *frame* coordinates ``(x, y)`` are fractions of the whole frame, independent of resolution,
  so the zoom survives a camera switching between main and sub stream.

The visible region always has the frame's aspect ratio and stays inside the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FrameRect:
    """A rectangle in frame pixels (floats: sub-pixel precision for smooth zooming)."""

    x: float
    y: float
    width: float
    height: float

    def rounded(self) -> tuple[int, int, int, int]:
        """The smallest whole-pixel rectangle (x, y, w, h) that covers this one."""
        x0, y0 = math.floor(self.x + 1e-9), math.floor(self.y + 1e-9)
        x1, y1 = math.ceil(self.x + self.width - 1e-9), math.ceil(self.y + self.height - 1e-9)
        return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _finite(name: str, value: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))


class DigitalZoom:
    """Zoom factor and visible region of one view; mutated from the UI thread only."""

    def __init__(self, max_factor: float = 16.0) -> None:
        if _finite("max_factor", max_factor) < 1.0:
            raise ValueError(f"max_factor must be at least 1, got {max_factor!r}")
        self.max_factor = float(max_factor)
        self._factor = 1.0
        self._x0 = 0.0
        self._y0 = 0.0

    @property
    def factor(self) -> float:
        """Magnification: 1 shows the whole frame, 2 a quarter of its area."""
        return self._factor

    @property
    def is_zoomed(self) -> bool:
        """True when only part of the frame is shown."""
        return self._factor > 1.0

    def visible(self) -> tuple[float, float, float, float]:
        """The shown region in frame fractions: (x, y, width, height)."""
        size = 1.0 / self._factor
        return self._x0, self._y0, size, size

    def reset(self) -> None:
        """Show the whole frame again."""
        self._factor, self._x0, self._y0 = 1.0, 0.0, 0.0

    def view_to_frame(self, u: float, v: float) -> tuple[float, float]:
        """The frame point (fractions) shown at view point (u, v)."""
        size = 1.0 / self._factor
        return self._x0 + _finite("u", u) * size, self._y0 + _finite("v", v) * size

    def frame_to_view(self, x: float, y: float) -> tuple[float, float]:
        """Where frame point (x, y) appears in the view (outside [0, 1] if not visible)."""
        return (
            (_finite("x", x) - self._x0) * self._factor,
            (_finite("y", y) - self._y0) * self._factor,
        )

    def _clamp(self) -> None:
        limit = 1.0 - 1.0 / self._factor
        self._x0 = min(limit, max(0.0, self._x0))
        self._y0 = min(limit, max(0.0, self._y0))

    def zoom_to(self, factor: float, anchor: tuple[float, float] = (0.5, 0.5)) -> None:
        """Set the magnification, keeping the frame point under ``anchor`` (view coords) still.

        The anchor is normally the cursor. Near the frame's edges the region is shifted back
        inside the frame, so there the point under the cursor may move. The factor is
        limited to [1, max_factor].
        """
        factor = min(self.max_factor, max(1.0, _finite("factor", factor)))
        u, v = _unit(_finite("anchor u", anchor[0])), _unit(_finite("anchor v", anchor[1]))
        fx, fy = self.view_to_frame(u, v)
        self._factor = factor
        size = 1.0 / factor
        self._x0, self._y0 = fx - u * size, fy - v * size
        self._clamp()
        if factor == 1.0:
            self._x0 = self._y0 = 0.0

    def zoom_by(self, multiplier: float, anchor: tuple[float, float] = (0.5, 0.5)) -> None:
        """Multiply the magnification (a wheel notch: e.g. 1.25 in, 0.8 out) about ``anchor``."""
        if _finite("multiplier", multiplier) <= 0:
            raise ValueError(f"zoom multiplier must be positive, got {multiplier!r}")
        self.zoom_to(self._factor * multiplier, anchor)

    def pan(self, dx: float, dy: float) -> None:
        """Drag the picture by (dx, dy) view fractions; the content follows the pointer.

        A drag by the whole view width (dx = 1) moves the picture by one visible width.
        """
        size = 1.0 / self._factor
        self._x0 -= _finite("dx", dx) * size
        self._y0 -= _finite("dy", dy) * size
        self._clamp()

    def source_rect(self, frame_w: int, frame_h: int) -> FrameRect:
        """The visible region of a ``frame_w`` × ``frame_h`` frame, in its pixels."""
        if frame_w <= 0 or frame_h <= 0:
            raise ValueError(f"frame size must be positive, got {frame_w}x{frame_h}")
        size = 1.0 / self._factor
        return FrameRect(self._x0 * frame_w, self._y0 * frame_h, size * frame_w, size * frame_h)
