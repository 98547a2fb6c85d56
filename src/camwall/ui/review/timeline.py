"""The review timeline: per camera a row of recorded spans, gaps and event markers; a cursor.

Painted by hand (no item views: thousands of spans must stay cheap). Mouse:

- click, or drag the cursor (or anywhere on the time ruler): move the cursor
  (:attr:`Timeline.cursor_moved`, also while dragging);
- drag anywhere else: pan; the wheel zooms around the pointer from 24 h to 1 min;
- shift-drag: select a span (:attr:`Timeline.selection_changed`), for export.

It only draws what it is given (:meth:`Timeline.set_data`); :attr:`Timeline.range_changed`
asks its owner for the data of a new visible range.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from qtpy.QtCore import QPointF, QRectF, QSize, Qt
from qtpy.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from qtpy.QtWidgets import QSizePolicy, QWidget

from camwall.record.records import RecordedEvent
from camwall.ui.qt_compat import Signal
from camwall.ui.view.detection_overlay import label_color

#: Narrowest and widest visible range (s).
MIN_SPAN_S = 60.0
MAX_SPAN_S = 24 * 3600.0
#: Height of the time ruler and of one camera row (px); width of the camera names.
RULER_H = 18
ROW_H = 18
NAMES_W = 90
#: A press this close to the cursor (px) grabs it; a move this far (px) makes a drag.
GRAB_PX = 6
DRAG_PX = 4

BACKGROUND = QColor(24, 24, 28)
GAP = QColor(48, 48, 54)
RECORDED = QColor(58, 120, 190)
CURSOR = QColor(255, 210, 60)
SELECTION = QColor(255, 255, 255, 50)
TEXT = QColor(210, 210, 210)
STATE_COLORS = {
    "streaming": QColor(60, 200, 90),
    "lost": QColor(235, 70, 60),
    "failed": QColor(235, 70, 60),
    "stopped": QColor(150, 150, 150),
}
#: Ruler tick steps (s) to choose from: about one label per 110 px.
TICKS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)


@dataclass
class _Drag:
    kind: str  # "cursor", "pan", "select", "click"
    x0: float
    start0: float
    t0: float


class Timeline(QWidget):
    """Rows of recorded time per camera and a cursor; see the module docstring."""

    #: The cursor was put at this instant by the user (epoch s).
    cursor_moved = Signal(float)
    #: The visible range changed (start, end): its data is wanted.
    range_changed = Signal(float, float)
    #: The selected span (start, end) or None.
    selection_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        """An empty timeline showing the last hour."""
        super().__init__(parent)
        self.setObjectName("reviewTimeline")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._cameras: list[str] = []
        self._spans: dict[str, list[tuple[float, float]]] = {}
        self._events: list[RecordedEvent] = []
        self._span_s = 3600.0
        self._start = time.time() - self._span_s
        self._cursor: float | None = None
        self._selection: tuple[float, float] | None = None
        self._drag: _Drag | None = None
        self._font = QFont(self.font())
        self._font.setPixelSize(11)
        self._update_height()

    # -- data ------------------------------------------------------------------------------------

    def set_cameras(self, cameras: Sequence[str]) -> None:
        """The rows, top to bottom."""
        self._cameras = list(cameras)
        self._update_height()
        self.update()

    @property
    def cameras(self) -> list[str]:
        """The rows, top to bottom."""
        return list(self._cameras)

    def set_data(
        self, spans: dict[str, list[tuple[float, float]]], events: Sequence[RecordedEvent]
    ) -> None:
        """What to draw: recorded spans per camera (the rest is gap) and events."""
        self._spans = {k: list(v) for k, v in spans.items()}
        self._events = list(events)
        self.update()

    @property
    def events(self) -> list[RecordedEvent]:
        """The events drawn now."""
        return list(self._events)

    # -- range, cursor, selection ----------------------------------------------------------------

    @property
    def visible_range(self) -> tuple[float, float]:
        """(start, end) of the visible time (epoch s)."""
        return self._start, self._start + self._span_s

    def set_range(self, start: float, span_s: float) -> None:
        """Show ``span_s`` seconds (clamped to 1 min … 24 h) from ``start``."""
        span_s = min(MAX_SPAN_S, max(MIN_SPAN_S, span_s))
        if (start, span_s) == (self._start, self._span_s):
            return
        self._start, self._span_s = start, span_s
        self.update()
        self.range_changed.emit(*self.visible_range)

    def zoom(self, factor: float, around: float | None = None) -> None:
        """Zoom by ``factor`` (> 1: show less time) keeping instant ``around`` in place."""
        around = self._start + self._span_s / 2 if around is None else around
        span = min(MAX_SPAN_S, max(MIN_SPAN_S, self._span_s / factor))
        frac = (around - self._start) / self._span_s
        self.set_range(around - frac * span, span)

    @property
    def cursor_at(self) -> float | None:
        """The cursor instant (epoch s), None before the first seek."""
        return self._cursor

    def set_cursor(self, t: float | None, *, follow: bool = False) -> None:
        """Put the cursor at ``t`` (no signal); ``follow``: scroll to keep it in view."""
        self._cursor = t
        if follow and t is not None:
            start, end = self.visible_range
            if not start <= t <= end:
                self.set_range(t - self._span_s * 0.1, self._span_s)
        self.update()

    @property
    def dragging(self) -> bool:
        """True while the mouse button is down on the timeline."""
        return self._drag is not None

    @property
    def selection(self) -> tuple[float, float] | None:
        """The selected span (start, end), or None."""
        return self._selection

    def set_selection(self, selection: tuple[float, float] | None) -> None:
        """Select (start, end) (None: nothing); emits selection_changed."""
        if selection is not None:
            selection = (min(selection), max(selection))
        self._selection = selection
        self.update()
        self.selection_changed.emit(selection)

    # -- geometry --------------------------------------------------------------------------------

    def x_of(self, t: float) -> float:
        """The x coordinate of instant ``t``."""
        width = max(1, self.width() - NAMES_W)
        return NAMES_W + (t - self._start) / self._span_s * width

    def t_of(self, x: float) -> float:
        """The instant at x coordinate ``x``."""
        width = max(1, self.width() - NAMES_W)
        return self._start + (max(NAMES_W, x) - NAMES_W) / width * self._span_s

    def row_of(self, camera: str) -> QRectF:
        """Where camera ``camera``'s row is drawn."""
        i = self._cameras.index(camera)
        return QRectF(NAMES_W, RULER_H + i * ROW_H + 2, self.width() - NAMES_W, ROW_H - 4)

    def sizeHint(self) -> QSize:
        """As wide as it is given; one row per camera under the ruler."""
        return QSize(600, self._height())

    def _height(self) -> int:
        return RULER_H + ROW_H * max(1, len(self._cameras)) + 4

    def _update_height(self) -> None:
        self.setFixedHeight(self._height())

    # -- painting --------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent | None) -> None:
        """Ruler, rows (gaps, spans, events), selection, cursor."""
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            painter.setFont(self._font)
            self._paint_ruler(painter)
            for i, camera in enumerate(self._cameras):
                self._paint_row(painter, i, camera)
            if self._selection is not None:
                x0, x1 = (self.x_of(t) for t in self._selection)
                painter.fillRect(QRectF(x0, 0, max(1.0, x1 - x0), self.height()), SELECTION)
            if self._cursor is not None:
                x = self.x_of(self._cursor)
                painter.setPen(QPen(CURSOR, 2))
                painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        finally:
            painter.end()

    def _paint_ruler(self, painter: QPainter) -> None:
        width = max(1, self.width() - NAMES_W)
        step = next((s for s in TICKS if s / self._span_s * width >= 110), TICKS[-1])
        first = math.ceil(self._start / step) * step
        painter.setPen(TEXT)
        t = first
        end = self._start + self._span_s
        while t <= end:
            x = self.x_of(t)
            painter.drawLine(QPointF(x, RULER_H - 5), QPointF(x, RULER_H))
            fmt = "%H:%M:%S" if step < 60 else "%H:%M"
            painter.drawText(QPointF(x + 3, RULER_H - 6), time.strftime(fmt, time.localtime(t)))
            t += step
        if self._cursor is not None:
            painter.drawText(
                QPointF(4, RULER_H - 6),
                time.strftime("%Y-%m-%d", time.localtime(self._cursor)),
            )

    def _paint_row(self, painter: QPainter, i: int, camera: str) -> None:
        row = self.row_of(camera)
        painter.setPen(TEXT)
        name_rect = QRectF(4, row.top() - 2, NAMES_W - 8, ROW_H)
        painter.drawText(name_rect, int(Qt.AlignmentFlag.AlignVCenter), camera)
        painter.fillRect(row, GAP)
        left, right = self.visible_range
        for start, end in self._spans.get(camera, []):
            if end < left or start > right:
                continue
            x0, x1 = self.x_of(max(start, left)), self.x_of(min(end, right))
            painter.fillRect(QRectF(x0, row.top(), max(1.0, x1 - x0), row.height()), RECORDED)
        for event in self._events:
            if event.camera != camera:
                continue
            end = event.end if event.end is not None else event.start
            if end < left or event.start > right:
                continue
            color = (
                STATE_COLORS.get(event.label, TEXT)
                if event.kind == "state"
                else label_color(event.label)
            )
            x0 = self.x_of(max(event.start, left))
            x1 = max(x0 + 3, self.x_of(min(end, right)))
            mark = QRectF(x0, row.top() + row.height() * 0.55, x1 - x0, row.height() * 0.45)
            painter.fillRect(mark, color)

    # -- mouse -----------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        """Start a cursor move, a pan or a selection."""
        if event is None or event.button() != Qt.MouseButton.LeftButton:
            return
        x = event.pos().x()
        t = self.t_of(x)
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            kind = "select"
            self.set_selection((t, t))
        elif event.pos().y() < RULER_H or (
            self._cursor is not None and abs(self.x_of(self._cursor) - x) <= GRAB_PX
        ):
            kind = "cursor"
            self._move_cursor(t)
        else:
            kind = "click"  # a pan once it moves
        self._drag = _Drag(kind, x, self._start, t)

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:
        """Move the cursor, pan or stretch the selection."""
        drag = self._drag
        if event is None or drag is None:
            return
        x = event.pos().x()
        if drag.kind == "click" and abs(x - drag.x0) >= DRAG_PX:
            drag.kind = "pan"
        if drag.kind == "cursor":
            self._move_cursor(self.t_of(x))
        elif drag.kind == "select":
            self.set_selection((drag.t0, self.t_of(x)))
        elif drag.kind == "pan":
            width = max(1, self.width() - NAMES_W)
            self.set_range(drag.start0 - (x - drag.x0) / width * self._span_s, self._span_s)

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        """A click without a drag puts the cursor there."""
        drag, self._drag = self._drag, None
        if event is None or drag is None:
            return
        if drag.kind == "click":
            self._move_cursor(self.t_of(event.pos().x()))
        elif drag.kind == "select":
            # The release point ends the span (also when no move event came in between).
            self.set_selection((drag.t0, self.t_of(event.pos().x())))
            assert self._selection is not None
            start, end = self._selection
            if self.x_of(end) - self.x_of(start) < DRAG_PX:
                self.set_selection(None)

    def wheelEvent(self, event: QWheelEvent | None) -> None:
        """Zoom around the pointer."""
        if event is None:
            return
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(1.25**steps, self.t_of(event.position().x()))
        event.accept()

    def _move_cursor(self, t: float) -> None:
        self._cursor = t
        self.update()
        self.cursor_moved.emit(t)
