"""ZoneOverlay: a camera's zones drawn over its VideoView's picture, lit while occupied.

Zones are stored normalised (0..1 of the frame's width and height, see
:mod:`camwall.detect.zones`), so they are mapped with the same functions as detection boxes
(:func:`~camwall.ui.view.detection_overlay.map_fraction`): frame fraction ─▶ painted frame
pixels ─▶ source rect (digital zoom) ─▶ target rect (letterboxed). Each zone is an outline,
a translucent fill and its name; a zone that holds a counted object (a track entered it and
has not left) is drawn in :data:`OCCUPIED_RGB` with a stronger fill.

The overlay remembers the geometry of its last paint (:attr:`ZoneOverlay.geometry`) so that
an editor can map mouse positions back to frame fractions the same way
(:func:`~camwall.ui.view.detection_overlay.unmap_fraction`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qtpy.QtCore import QPointF, QRect, QRectF, QSize, Qt
from qtpy.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen, QPolygonF

from camwall.detect.messages import ZoneEvent
from camwall.detect.zones import Zone
from camwall.ui.view.detection_overlay import map_fraction, unmap_fraction

#: Outline of a zone nobody is in, and of one that holds a counted object.
IDLE_RGB = (120, 220, 60)
OCCUPIED_RGB = (255, 60, 60)
#: Fill opacity (0..255) of an idle and of an occupied zone.
IDLE_FILL = 40
OCCUPIED_FILL = 90

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Geometry:
    """Where the picture was painted: target rect, source rect (zoom), frame size."""

    target: QRect
    source: QRectF
    frame: tuple[int, int]

    def to_widget(self, point: Point) -> QPointF:
        """A normalised frame point in widget coordinates."""
        return map_fraction(point[0], point[1], self.frame, self.source, self.target)

    def to_frame(self, pos: QPointF) -> Point:
        """The normalised frame point painted at widget ``pos`` (clamped into the frame)."""
        return unmap_fraction(pos, self.frame, self.source, self.target)

    def polygon(self, points: Sequence[Point]) -> QPolygonF:
        """Normalised points as a polygon in widget coordinates."""
        return QPolygonF([self.to_widget(p) for p in points])


def pen_width(target: QRect) -> int:
    """Outline width for a picture of ``target``'s size (2 px on a small tile)."""
    return max(2, target.height() // 300)


def paint_zone(
    painter: QPainter,
    polygon: QPolygonF,
    name: str,
    rgb: tuple[int, int, int],
    fill: int,
    target: QRect,
    *,
    closed: bool = True,
) -> None:
    """One zone: outline, translucent fill (if ``closed``) and its name at its top-left."""
    color = QColor(*rgb)
    pen = QPen(color)
    pen.setWidth(pen_width(target))
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    if closed:
        fill_color = QColor(*rgb)
        fill_color.setAlpha(fill)
        painter.setBrush(QBrush(fill_color))
        painter.drawPolygon(polygon)
    else:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolyline(polygon)
    if not name or polygon.isEmpty():
        return
    font = QFont()
    font.setPixelSize(max(9, min(14, target.height() // 34)))
    font.setBold(True)
    painter.setFont(font)
    metrics = QFontMetrics(font)
    bounds = polygon.boundingRect()
    pad = 3
    w, h = metrics.horizontalAdvance(name) + 2 * pad, metrics.height()
    # Inside the zone's top-left corner, kept on the picture.
    x = min(max(bounds.left() + 4, target.left()), target.right() + 1 - w)
    y = min(max(bounds.top() + 4, target.top()), target.bottom() + 1 - h)
    label = QRectF(x, y, w, h)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(color))
    painter.drawRect(label)
    painter.setPen(QColor(0, 0, 0))
    painter.drawText(label, int(Qt.AlignmentFlag.AlignCenter), name)


class ZoneOverlay:
    """Draws one camera's zones; see the module docstring. UI thread only."""

    def __init__(self, zones: Iterable[Zone] = ()) -> None:
        """An overlay showing ``zones`` (while :attr:`visible`)."""
        self._zones: tuple[Zone, ...] = tuple(zones)
        #: Zone name → ids of the tracks that entered it and have not left.
        self._inside: dict[str, set[int]] = {}
        #: False: nothing is drawn (detection off, or an editor draws the zones instead).
        self.visible = True
        #: Where the picture was painted last (None: never painted).
        self.geometry: Geometry | None = None
        #: Zones drawn by the last call, and how many of them lit.
        self.drawn_zones = 0
        self.drawn_occupied = 0

    @property
    def zones(self) -> tuple[Zone, ...]:
        """The zones shown."""
        return self._zones

    def set_zones(self, zones: Iterable[Zone]) -> None:
        """Show ``zones`` from now on; nothing is occupied until events say so."""
        self._zones = tuple(zones)
        self._inside.clear()

    # -- occupancy ---------------------------------------------------------------------------

    def on_zone_event(self, event: ZoneEvent) -> bool:
        """Follow a zone's entered/left event; True if a zone's highlight changed."""
        before = self.occupied()
        inside = self._inside.setdefault(event.zone, set())
        if event.kind == "entered":
            inside.add(event.track_id)
        else:
            inside.discard(event.track_id)
        return self.occupied() != before

    def track_left(self, track_id: int) -> bool:
        """A track ended (it left every zone); True if a highlight changed."""
        before = self.occupied()
        for inside in self._inside.values():
            inside.discard(track_id)
        return self.occupied() != before

    def clear_occupancy(self) -> bool:
        """Nothing is inside any zone (detection stopped or restarted); True if that changed."""
        changed = bool(self.occupied())
        self._inside.clear()
        return changed

    def occupied(self) -> frozenset[str]:
        """Names of the zones holding a counted object now."""
        known = {z.name for z in self._zones}
        return frozenset(n for n, ids in self._inside.items() if ids and n in known)

    # -- drawing -----------------------------------------------------------------------------

    def __call__(self, painter: QPainter, target: QRect, source: QRectF, frame: QSize) -> None:
        """Draw the zones over the picture painted into ``target`` (the VideoView hook)."""
        self.geometry = Geometry(QRect(target), QRectF(source), (frame.width(), frame.height()))
        self.drawn_zones = self.drawn_occupied = 0
        if not self.visible or not self._zones or target.width() <= 0 or target.height() <= 0:
            return
        occupied = self.occupied()
        painter.save()
        try:
            painter.setClipRect(target)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            for zone in self._zones:
                lit = zone.name in occupied
                paint_zone(
                    painter,
                    self.geometry.polygon(zone.points),
                    zone.name,
                    OCCUPIED_RGB if lit else IDLE_RGB,
                    OCCUPIED_FILL if lit else IDLE_FILL,
                    target,
                )
                self.drawn_zones += 1
                self.drawn_occupied += lit
        finally:
            painter.restore()


__all__ = [
    "IDLE_RGB",
    "OCCUPIED_RGB",
    "Geometry",
    "ZoneOverlay",
    "paint_zone",
    "pen_width",
]
