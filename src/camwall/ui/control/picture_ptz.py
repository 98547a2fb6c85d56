"""Pan and tilt on the picture: drag from the centre of a PTZ camera's tile, or click a point.

The farther the pointer is from where it was pressed, the faster the camera turns that way
(like a joystick); letting go stops it. The move is held the way the dock's buttons hold
theirs (:class:`~camwall.ui.control.hold_control.HoldController`: a lease the camera drops
by itself if the wall goes away), and it only applies where the camera can pan and tilt
continuously and the tile is not digitally zoomed (then a drag pans the picture). Elsewhere
a drag keeps its other meaning (picking the tile up to reorder it).

A click without a drag on the picture of a camera that can centre (``pan_tilt_centre``: ONVIF
relative moves in field-of-view units) turns the camera so the clicked point comes to the
centre. The point is read through the tile's digital zoom and letterbox (a click on the bars
does nothing), and sent once the double-click interval has passed without a second click (a
double click toggles the tile's size, it does not move the camera). On a camera without it a
click only selects; failures are logged and disable the feature like other requests.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from qtpy.QtCore import QEvent, QObject, QPointF, Qt, QTimer
from qtpy.QtGui import QMouseEvent
from qtpy.QtWidgets import QApplication

from camwall.control.model import Velocity

if TYPE_CHECKING:
    from camwall.ui.control.control_hub import ControlHub
    from camwall.ui.control.hold_control import HoldController
    from camwall.ui.wall.tile import CameraTile

__all__ = ["PicturePtz", "drag_velocity", "picture_point"]

log = logging.getLogger(__name__)

#: A press counts as "at the centre" within this fraction of the tile's half size.
CENTRE = 0.35
#: Movement (fraction of the half size) before the camera starts to turn.
DEAD_ZONE = 0.06
#: Speeds are rounded to steps of this size: a new command only when the step changes.
STEP = 0.25
#: A click this close to the centre (in picture half-sizes) needs no move.
CENTRED = 0.02


def picture_point(fx: float, fy: float) -> tuple[float, float]:
    """Frame fractions (0..1, y down) as a field-of-view point: -1..1 from the centre, y up."""
    return 2.0 * fx - 1.0, 1.0 - 2.0 * fy


def drag_velocity(dx: float, dy: float, half_w: float, half_h: float) -> Velocity:
    """The pan/tilt speed for a drag of (dx, dy) pixels on a tile of half size (w, h)."""

    def axis(offset: float, half: float) -> float:
        fraction = max(-1.0, min(1.0, offset / max(1.0, half)))
        if abs(fraction) < DEAD_ZONE:
            return 0.0
        stepped = round(fraction / STEP) * STEP
        return max(-1.0, min(1.0, stepped if stepped else STEP * (1 if fraction > 0 else -1)))

    # Screen y grows downwards; positive tilt is up.
    return Velocity(pan=axis(dx, half_w), tilt=-axis(dy, half_h))


class PicturePtz(QObject):
    """Turns drags on a PTZ camera's tile into held pan/tilt moves, and clicks into centring."""

    def __init__(self, tile: CameraTile, hub: ControlHub, holds: HoldController) -> None:
        """Watch ``tile``'s mouse; moves go through ``holds``."""
        super().__init__(tile)
        self._tile = tile
        self._hub = hub
        self._holds = holds
        self._from: QPointF | None = None
        self._velocity = Velocity()
        self._click_at: QPointF | None = None
        self._pending: tuple[float, float] | None = None
        self._click_timer = QTimer(self)
        self._click_timer.setSingleShot(True)
        self._click_timer.timeout.connect(self._send_centre)
        tile.installEventFilter(self)

    @property
    def pending_click(self) -> tuple[float, float] | None:
        """The picture point a click will centre on once no double click follows (or None)."""
        return self._pending

    def can_centre(self) -> bool:
        """True if the tile's camera can turn a picture point to the centre now."""
        state = self._hub.state(self._tile.camera)
        return state is not None and state.feature("pan_tilt_centre").available

    def available(self) -> bool:
        """True if the tile's camera can pan and tilt now and the picture is not zoomed."""
        state = self._hub.state(self._tile.camera)
        if state is None or self._tile.zoom.is_zoomed:
            return False
        return state.feature("pan_tilt_continuous").available

    def _at_centre(self, pos: QPointF) -> bool:
        w, h = self._tile.width() / 2, self._tile.height() / 2
        return abs(pos.x() - w) <= CENTRE * w and abs(pos.y() - h) <= CENTRE * h

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        """Press at the centre, drag, release; every other event passes."""
        if watched is not self._tile or not isinstance(event, QMouseEvent):
            return False
        kind = event.type()
        pos = QPointF(event.position())  # type: ignore[attr-defined]  # qtpy adds it on Qt5
        self._track_click(kind, event, pos)
        if kind == QEvent.Type.MouseButtonPress:
            if (
                event.button() == Qt.MouseButton.LeftButton
                and self._at_centre(pos)
                and self.available()
            ):
                self._from = pos
                self._velocity = Velocity()
            return False  # the tile still selects its camera
        if kind == QEvent.Type.MouseButtonRelease:
            if self._from is not None and event.button() == Qt.MouseButton.LeftButton:
                self._from = None
                self._holds.end_if(self, "let go of the picture")
                self._tile.unsetCursor()
            return False
        if kind == QEvent.Type.MouseMove and self._from is not None:
            delta = pos - self._from
            velocity = drag_velocity(
                delta.x(), delta.y(), self._tile.width() / 2, self._tile.height() / 2
            )
            if velocity != self._velocity:
                self._velocity = velocity
                if velocity.axes:
                    self._tile.setCursor(Qt.CursorShape.SizeAllCursor)
                    what = f"pan {velocity.pan:+.2f} tilt {velocity.tilt:+.2f} (picture)"
                    self._holds.begin(
                        self._tile.camera, velocity, what, source=self, window=self._tile.window()
                    )
                else:
                    self._holds.end_if(self, "back at the centre")
            return True  # not a tile drag
        return False

    # -- click to centre ------------------------------------------------------------------------

    def _track_click(self, kind: QEvent.Type, event: QMouseEvent, pos: QPointF) -> None:
        """Follow press → release without a drag; a double click cancels the pending one."""
        left = event.button() == Qt.MouseButton.LeftButton
        if kind == QEvent.Type.MouseButtonDblClick:
            self._click_at = None
            self._cancel_click()
        elif kind == QEvent.Type.MouseButtonPress:
            plain = event.modifiers() == Qt.KeyboardModifier.NoModifier
            self._click_at = pos if left and plain and self.can_centre() else None
        elif kind == QEvent.Type.MouseMove and self._click_at is not None:
            if (pos - self._click_at).manhattanLength() >= QApplication.startDragDistance():
                self._click_at = None  # a drag, not a click
        elif kind == QEvent.Type.MouseButtonRelease and left and self._click_at is not None:
            self._click_at = None
            point = self._point_at(pos)
            if point is not None:
                self._pending = point
                self._click_timer.start(QApplication.doubleClickInterval())

    def _point_at(self, pos: QPointF) -> tuple[float, float] | None:
        """The field-of-view point under view pixel ``pos``; None off the picture or at centre."""
        zoom = self._tile.zoom
        rect = zoom.image_rect()
        inside = (
            rect.x() <= pos.x() <= rect.x() + rect.width()
            and rect.y() <= pos.y() <= rect.y() + rect.height()
        )
        if not inside:
            return None  # a letterbox bar
        x, y = picture_point(*zoom.view_to_frame(pos))
        if abs(x) < CENTRED and abs(y) < CENTRED:
            return None
        return x, y

    def _cancel_click(self) -> None:
        self._click_timer.stop()
        self._pending = None

    def _send_centre(self) -> None:
        """The click stayed single: ask the camera to centre on its point (returns at once)."""
        point, self._pending = self._pending, None
        if point is None or not self.can_centre():
            return
        self._hub.centre_on(self._tile.camera, *point)
