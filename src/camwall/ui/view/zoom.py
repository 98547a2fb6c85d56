"""Digital zoom for a VideoView: the wheel zooms about the cursor, a drag pans, ``0`` resets.

:class:`ZoomController` attaches to any :class:`~camwall.ui.view.video_view.VideoView` (every wall
tile has one) and keeps a :class:`camwall.control.DigitalZoom`, which does the geometry in
fractions of the frame. The view keeps receiving whole frames and paints only the visible
region, ``drawImage(target, image, source_rect)`` straight from shared memory: no crop, no
copy. Because the region is stored in fractions, it survives the camera switching between
its substream and main stream, or the wall asking the worker for larger frames.

Mouse and keys (on the view):

* wheel: zoom in/out about the cursor; the point under the cursor stays put (near the
  frame's edges the region is pushed back inside the frame instead);
* left-drag while zoomed: pan, the picture follows the pointer;
* ``0`` or ``Home``: back to the whole frame (also :meth:`ZoomController.reset`, the tile
  menu's *Reset zoom*, and the control panel's button).

A double-click is left alone (the wall uses it to let a camera fill the window).
"""

from __future__ import annotations

import logging
import math

from qtpy.QtCore import QEvent, QObject, QPointF, QRect, QRectF, QSize, Qt
from qtpy.QtGui import QKeyEvent, QMouseEvent, QPainter, QWheelEvent

from camwall.control.digital_zoom import DigitalZoom
from camwall.ui.qt_compat import Signal
from camwall.ui.view.video_view import VideoView
from camwall.ui.view.view_painting import fit_rect, paint_label

log = logging.getLogger(__name__)

#: Magnification per wheel notch (120 eighths of a degree): four notches double it.
WHEEL_STEP = 2.0**0.25
#: The most a view can be magnified.
MAX_FACTOR = 16.0
#: Keys that show the whole frame again.
RESET_KEYS = (Qt.Key.Key_0, Qt.Key.Key_Home)
#: A magnification this close to 1 counts as 1 (wheel steps in and out again add up).
_SNAP = 1e-6


class ZoomController(QObject):
    """Digital zoom and pan of one view; see the module docstring."""

    #: The magnification or the visible region changed (the new magnification).
    changed = Signal(float)

    def __init__(self, view: VideoView, *, max_factor: float = MAX_FACTOR) -> None:
        """Attach to ``view``: its wheel, drag and reset keys now zoom and pan it."""
        super().__init__(view)
        self._view = view
        self.zoom = DigitalZoom(max_factor)
        self._drag_from: QPointF | None = None
        self._dragging = False
        view.set_source_rect_provider(self.source_rect)
        view.add_overlay(self._paint_badge)
        view.installEventFilter(self)

    # -- state --------------------------------------------------------------------------------

    @property
    def factor(self) -> float:
        """Magnification: 1 shows the whole frame."""
        return self.zoom.factor

    @property
    def is_zoomed(self) -> bool:
        """True when only part of the frame is shown."""
        return self.zoom.is_zoomed

    def visible(self) -> tuple[float, float, float, float]:
        """The shown region in frame fractions: (x, y, width, height)."""
        return self.zoom.visible()

    def source_rect(self, frame_w: int, frame_h: int) -> tuple[float, float, float, float]:
        """The visible region of a ``frame_w`` × ``frame_h`` frame, in its pixels (x, y, w, h)."""
        r = self.zoom.source_rect(frame_w, frame_h)
        return r.x, r.y, r.width, r.height

    def frame_size(self) -> tuple[int, int] | None:
        """Width and height of the view's newest frame (None: no frame yet)."""
        ring = self._view.ring
        info = ring.latest_info() if ring is not None else None
        return (info.width, info.height) if info is not None else None

    def image_rect(self) -> QRect:
        """Where the view paints the picture (inside any letterbox bars), in view pixels.

        Mirrors the view's own fitting; without a frame yet, the whole view.
        """
        size = self.frame_size()
        if size is None:
            return self._view.rect()
        r = self.zoom.source_rect(*size)
        return fit_rect(r.width, r.height, self._view.rect())

    def view_to_frame(self, pos: QPointF) -> tuple[float, float]:
        """The frame point (fractions) painted at view pixel ``pos`` (clamped into the picture)."""
        u, v = self._to_unit(pos)
        return self.zoom.view_to_frame(u, v)

    def _to_unit(self, pos: QPointF) -> tuple[float, float]:
        rect = self.image_rect()
        if rect.width() <= 0 or rect.height() <= 0:
            return 0.5, 0.5
        u = (pos.x() - rect.x()) / rect.width()
        v = (pos.y() - rect.y()) / rect.height()
        return min(1.0, max(0.0, u)), min(1.0, max(0.0, v))

    # -- actions ------------------------------------------------------------------------------

    def zoom_by(self, multiplier: float, at: QPointF | None = None) -> None:
        """Multiply the magnification about view pixel ``at`` (None: the picture's centre)."""
        anchor = (0.5, 0.5) if at is None else self._to_unit(at)
        before = (self.zoom.factor, self.zoom.visible())
        self.zoom.zoom_by(multiplier, anchor)
        if abs(self.zoom.factor - 1.0) < _SNAP:
            self.zoom.reset()
        self._after_change(before)

    def zoom_to(self, factor: float, at: QPointF | None = None) -> None:
        """Set the magnification about view pixel ``at`` (None: the picture's centre)."""
        self.zoom_by(factor / self.zoom.factor, at)

    def pan_pixels(self, dx: float, dy: float) -> None:
        """Drag the picture by (dx, dy) view pixels; the content follows the pointer."""
        rect = self.image_rect()
        if rect.width() <= 0 or rect.height() <= 0 or not self.zoom.is_zoomed:
            return
        before = (self.zoom.factor, self.zoom.visible())
        self.zoom.pan(dx / rect.width(), dy / rect.height())
        self._after_change(before)

    def reset(self) -> None:
        """Show the whole frame again."""
        before = (self.zoom.factor, self.zoom.visible())
        self.zoom.reset()
        self._drag_from = None
        self._after_change(before)

    def _after_change(self, before: tuple[float, tuple[float, float, float, float]]) -> None:
        if (self.zoom.factor, self.zoom.visible()) == before:
            return
        if self.zoom.is_zoomed:
            self._view.setCursor(
                Qt.CursorShape.ClosedHandCursor if self._dragging else Qt.CursorShape.OpenHandCursor
            )
        else:
            self._view.unsetCursor()
        self._view.update()
        self.changed.emit(self.zoom.factor)

    def _paint_badge(
        self, painter: QPainter, target: QRect, source: QRectF, frame_size: QSize
    ) -> None:
        """While zoomed, the magnification in the picture's bottom-right corner."""
        if self.zoom.is_zoomed:
            pixels = max(10, min(16, target.height() // 24))
            paint_label(
                painter, target, f"{self.zoom.factor:.1f}×", left=False, top=False, pixels=pixels
            )

    # -- events -------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        """Wheel, drag and reset keys on the view; every other event passes through."""
        if watched is not self._view or event is None:
            return False
        kind = event.type()
        if kind == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            return self._on_wheel(event)
        if kind in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseMove,
            QEvent.Type.MouseButtonRelease,
        ) and isinstance(event, QMouseEvent):
            return self._on_mouse(kind, event)
        if (
            kind == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in RESET_KEYS
            and not event.modifiers() & _MODIFIERS
        ):
            self.reset()
            event.accept()
            return True
        return False

    def _on_wheel(self, event: QWheelEvent) -> bool:
        delta = event.angleDelta()
        steps = (delta.y() or delta.x()) / 120.0
        if steps == 0.0 or not math.isfinite(steps):
            return False
        self.zoom_by(WHEEL_STEP**steps, event.position())
        event.accept()
        return True

    def _on_mouse(self, kind: QEvent.Type, event: QMouseEvent) -> bool:
        pos: QPointF = event.position()  # type: ignore[attr-defined]  # qtpy adds it on Qt5
        if kind == QEvent.Type.MouseButtonPress:
            if event.button() == Qt.MouseButton.LeftButton:
                self._drag_from = QPointF(pos)
            return False  # the tile still selects the camera on a click
        if kind == QEvent.Type.MouseButtonRelease:
            if event.button() == Qt.MouseButton.LeftButton:
                self._drag_from = None
                if self._dragging:
                    self._dragging = False
                    if self.zoom.is_zoomed:
                        self._view.setCursor(Qt.CursorShape.OpenHandCursor)
            return False
        start = self._drag_from
        if start is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return False
        if not self.zoom.is_zoomed:
            return False
        self._dragging = True
        self._drag_from = QPointF(pos)
        self.pan_pixels(pos.x() - start.x(), pos.y() - start.y())
        event.accept()
        return True


_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
