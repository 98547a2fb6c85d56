"""Pan and tilt on the picture: press near the centre of a PTZ camera's tile and drag.

The farther the pointer is from where it was pressed, the faster the camera turns that way
(like a joystick); letting go stops it. The move is held the way the dock's buttons hold
theirs (:class:`~camwall.ui.control.hold_control.HoldController`: a lease the camera drops
by itself if the wall goes away), and it only applies where the camera can pan and tilt
continuously and the tile is not digitally zoomed (then a drag pans the picture). Elsewhere
a drag keeps its other meaning (picking the tile up to reorder it).

Click-to-centre needs absolute or relative pan/tilt moves, which the control layer does not
offer yet (``Capabilities`` has only continuous pan/tilt): a click only selects.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from qtpy.QtCore import QEvent, QObject, QPointF, Qt
from qtpy.QtGui import QMouseEvent

from camwall.control.model import Velocity

if TYPE_CHECKING:
    from camwall.ui.control.control_hub import ControlHub
    from camwall.ui.control.hold_control import HoldController
    from camwall.ui.wall.tile import CameraTile

__all__ = ["PicturePtz", "drag_velocity"]

log = logging.getLogger(__name__)

#: A press counts as "at the centre" within this fraction of the tile's half size.
CENTRE = 0.35
#: Movement (fraction of the half size) before the camera starts to turn.
DEAD_ZONE = 0.06
#: Speeds are rounded to steps of this size: a new command only when the step changes.
STEP = 0.25


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
    """Turns drags on a PTZ camera's tile into held pan/tilt moves."""

    def __init__(self, tile: CameraTile, hub: ControlHub, holds: HoldController) -> None:
        """Watch ``tile``'s mouse; moves go through ``holds``."""
        super().__init__(tile)
        self._tile = tile
        self._hub = hub
        self._holds = holds
        self._from: QPointF | None = None
        self._velocity = Velocity()
        tile.installEventFilter(self)

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
