"""Drawing and editing a camera's zones on its tile.

"Edit zones…" in the tile's menu puts the tile in an edit mode (one :class:`ZoneEditor`):

* click to add the points of a new zone; a double-click, Enter or a click on its first
  point closes it, Esc drops it, Backspace removes its last point; then a small dialog asks
  for the zone's name, the labels that count (a comma list; empty: every label) and the
  minimum time inside;
* drag any point to move it; right-click a point to delete it (a zone left with fewer than
  three points goes); right-click inside a zone to rename it or delete it;
* the wheel still zooms (and the picture can be reset with 0), so points can be placed
  precisely on a large frame;
* Save (or Enter while not drawing) hands the zones on (:attr:`ZoneEditor.saved`); Cancel
  (or Esc while not drawing) drops every change.

Points are kept normalised (fractions of the frame), mapped through the tile's own paint
geometry (letterbox and digital zoom) both ways, so a zone drawn on a small tile fits the
main stream, the substream and the detect size alike.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from qtpy.QtCore import QEvent, QObject, QPointF, QRect, QRectF, QSize, Qt
from qtpy.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter
from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QWidget,
)

from camwall.detect.zones import Zone
from camwall.errors import ConfigError
from camwall.ui.qt_compat import Signal
from camwall.ui.view.video_view import VideoView
from camwall.ui.view.zone_overlay import IDLE_RGB, Geometry, paint_zone

log = logging.getLogger(__name__)

Point = tuple[float, float]

#: A mouse press this close (widget pixels) to a point grabs it.
GRAB_PX = 8.0
#: Decimal places a stored point keeps: 1/10000 of the frame, under half a pixel of 4K.
DECIMALS = 4
#: The zone being drawn, and the handles of every point.
DRAWING_RGB = (255, 214, 0)
HANDLE_RGB = (255, 255, 255)

#: The keys the editor takes (see the module docstring).
_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Backspace)
_KEYPAD = Qt.KeyboardModifier.KeypadModifier
_MOUSE = (
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove,
)


@dataclass(eq=False)
class Draft:
    """A zone while it is edited: points are a list, nothing is validated yet."""

    name: str
    points: list[Point]
    labels: frozenset[str] | None = None
    min_seconds: float = 0.0

    @classmethod
    def of(cls, zone: Zone) -> Draft:
        """An editable copy of ``zone``."""
        return cls(zone.name, list(zone.points), zone.labels, zone.min_seconds)

    def zone(self) -> Zone:
        """The zone (ConfigError if it is not one)."""
        points = tuple((round(x, DECIMALS), round(y, DECIMALS)) for x, y in self.points)
        return Zone(self.name, points, self.labels, self.min_seconds)


def parse_labels(text: str) -> frozenset[str] | None:
    """``"person, car"`` → {person, car}; empty text: every label counts (None)."""
    labels = frozenset(part.strip() for part in text.split(",") if part.strip())
    return labels or None


class ZoneDialog(QDialog):
    """Name, counted labels and minimum stay of one zone (non-modal: use ``open()``)."""

    def __init__(self, draft: Draft, taken: set[str], parent: QWidget | None = None) -> None:
        """Edit ``draft``'s rules; ``taken``: names of the camera's other zones."""
        super().__init__(parent)
        self.setObjectName("zoneDialog")
        self.setWindowTitle("Zone")
        self._taken = taken
        self.name_edit = QLineEdit(draft.name, self)
        self.name_edit.setObjectName("zoneNameEdit")
        self.labels_edit = QLineEdit(", ".join(sorted(draft.labels or ())), self)
        self.labels_edit.setObjectName("zoneLabelsEdit")
        self.labels_edit.setPlaceholderText("every label; or e.g. person, car")
        self.min_box = QDoubleSpinBox(self)
        self.min_box.setObjectName("zoneMinSecondsBox")
        self.min_box.setRange(0.0, 3600.0)
        self.min_box.setDecimals(1)
        self.min_box.setSuffix(" s")
        self.min_box.setValue(draft.min_seconds)
        self.problem = QLabel("", self)
        self.problem.setObjectName("zoneProblemLabel")
        self.problem.setStyleSheet("color: #e04040")
        buttons = QDialogButtonBox(self)
        buttons.addButton(QDialogButtonBox.StandardButton.Ok)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self._ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Name:", self.name_edit)
        form.addRow("Labels that count:", self.labels_edit)
        form.addRow("Minimum time inside:", self.min_box)
        form.addRow(self.problem)
        form.addRow(buttons)
        self.name_edit.textChanged.connect(self._check)
        self.name_edit.selectAll()
        self._check()

    def _check(self) -> None:
        name = self.name_edit.text().strip()
        problem = ""
        if not name:
            problem = "A zone needs a name."
        elif name in self._taken:
            problem = f"This camera has a zone called {name!r} already."
        self.problem.setText(problem)
        if self._ok is not None:
            self._ok.setEnabled(not problem)

    def apply_to(self, draft: Draft) -> None:
        """Write the dialog's values into ``draft``."""
        draft.name = self.name_edit.text().strip()
        draft.labels = parse_labels(self.labels_edit.text())
        draft.min_seconds = float(self.min_box.value())


@dataclass(frozen=True, slots=True)
class _Drag:
    """The point being dragged: zone index (-1: the zone being drawn) and point index."""

    zone: int
    point: int


class ZoneEditor(QObject):
    """The edit mode of one tile; see the module docstring."""

    #: Save: (camera name, tuple of Zone), already validated.
    saved = Signal(str, object)
    #: Editing ended (saved or cancelled); the editor is closed.
    finished = Signal(str)

    def __init__(self, view: VideoView, camera: str, zones: tuple[Zone, ...]) -> None:
        """Edit ``zones`` of ``camera`` on ``view`` (its input goes to the editor meanwhile)."""
        super().__init__(view)
        self._view = view
        self.camera = camera
        self.drafts: list[Draft] = [Draft.of(z) for z in zones]
        #: Points of the zone being drawn (None: not drawing).
        self.drawing: list[Point] | None = None
        self._hover: Point | None = None
        self._drag: _Drag | None = None
        self._geometry: Geometry | None = None
        self._closed = False
        self.dialog: ZoneDialog | None = None
        self._had_tracking = view.hasMouseTracking()
        view.setMouseTracking(True)
        view.installEventFilter(self)
        view.add_overlay(self._paint)
        self.bar = self._make_bar()
        self.bar.show()
        self._place_bar()
        view.setFocus()
        view.update()

    # -- the bar -----------------------------------------------------------------------------

    def _make_bar(self) -> QWidget:
        bar = QWidget(self._view)
        bar.setObjectName("zoneEditBar")
        bar.setAutoFillBackground(True)
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(6, 3, 6, 3)
        self.hint = QLabel(
            "Click to add points · double-click or Enter closes · drag to move · "
            "right-click a point to delete",
            bar,
        )
        self.hint.setObjectName("zoneHintLabel")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint, 1)
        self.save_button = QPushButton("Save", bar)
        self.save_button.setObjectName("zoneSaveButton")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.cancel_button = QPushButton("Cancel", bar)
        self.cancel_button.setObjectName("zoneCancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.save_button)
        layout.addWidget(self.cancel_button)
        return bar

    def _place_bar(self) -> None:
        rect = self._view.rect()
        height = min(self.bar.sizeHint().height(), max(24, rect.height() // 3))
        self.bar.setGeometry(0, rect.height() - height, rect.width(), height)
        self.bar.raise_()

    def _say(self, text: str, problem: bool = False) -> None:
        self.hint.setText(text)
        self.hint.setStyleSheet("color: #e04040" if problem else "")

    # -- geometry ----------------------------------------------------------------------------

    @property
    def has_picture(self) -> bool:
        """True once a frame was painted in the edit mode (clicks map onto the picture)."""
        return self._geometry is not None

    def geometry(self) -> Geometry:
        """Where the picture was painted last (the whole view before the first frame)."""
        if self._geometry is not None:
            return self._geometry
        rect = self._view.rect()
        return Geometry(
            rect, QRectF(0, 0, rect.width(), rect.height()), (rect.width(), rect.height())
        )

    def _grab(self, pos: QPointF) -> tuple[int, int] | None:
        """The (zone, point) under ``pos`` (zone -1: the zone being drawn), nearest first."""
        geo = self.geometry()
        best: tuple[float, int, int] | None = None
        shapes: list[tuple[int, list[Point]]] = list(enumerate(d.points for d in self.drafts))
        if self.drawing is not None:
            shapes.append((-1, self.drawing))
        for zi, points in shapes:
            for pi, p in enumerate(points):
                at = geo.to_widget(p)
                d = math.hypot(at.x() - pos.x(), at.y() - pos.y())
                if d <= GRAB_PX and (best is None or d < best[0]):
                    best = (d, zi, pi)
        return None if best is None else (best[1], best[2])

    def _zone_at(self, pos: QPointF) -> int | None:
        geo = self.geometry()
        for i in reversed(range(len(self.drafts))):
            polygon = geo.polygon(self.drafts[i].points)
            if polygon.containsPoint(pos, Qt.FillRule.OddEvenFill):
                return i
        return None

    # -- events ------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        """Mouse and keys on the tile belong to the editor (the wheel still zooms)."""
        if watched is not self._view or event is None or self._closed:
            return False
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self._place_bar()
            return False
        if kind == QEvent.Type.ContextMenu:
            return True  # right-clicks are the editor's (see _on_press)
        if kind in _MOUSE and isinstance(event, QMouseEvent):
            self._on_mouse(kind, event)
            event.accept()
            return True
        if kind == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            # Esc and Enter are the editor's, not the window's shortcuts (Esc: back to grid).
            if event.key() in _KEYS and not event.modifiers() & ~_KEYPAD:
                event.accept()
                return True
            return False
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._on_key(event)
        return False

    def _on_mouse(self, kind: QEvent.Type, event: QMouseEvent) -> None:
        pos = QPointF(event.position())  # type: ignore[attr-defined]  # qtpy adds it on Qt5
        if kind == QEvent.Type.MouseButtonPress:
            self._on_press(event.button(), pos)
        elif kind == QEvent.Type.MouseMove:
            self._on_move(pos)
        elif kind == QEvent.Type.MouseButtonRelease:
            if event.button() == Qt.MouseButton.LeftButton:
                self._drag = None
        elif (
            kind == QEvent.Type.MouseButtonDblClick
            and event.button() == Qt.MouseButton.LeftButton
            and self.drawing is not None
        ):
            self.close_polygon()

    def _on_press(self, button: Qt.MouseButton, pos: QPointF) -> None:
        grabbed = self._grab(pos)
        if button == Qt.MouseButton.RightButton:
            if grabbed is not None:
                self.delete_point(*grabbed)
            else:
                zone = self._zone_at(pos)
                if zone is not None and self.drawing is None:
                    self._zone_menu(zone, pos)
            return
        if button != Qt.MouseButton.LeftButton:
            return
        if self.drawing is not None:
            if grabbed == (-1, 0) and len(self.drawing) >= 3:
                self.close_polygon()  # a click on the first point closes the zone
                return
            self.add_point(self.geometry().to_frame(pos))
            return
        if grabbed is not None:
            zi, pi = grabbed
            self._drag = _Drag(zi, pi)
            return
        self.drawing = []
        self.add_point(self.geometry().to_frame(pos))

    def _on_move(self, pos: QPointF) -> None:
        point = self.geometry().to_frame(pos)
        drag = self._drag
        if drag is not None:
            self.move_point(drag.zone, drag.point, point)
        elif self.drawing is not None:
            self._hover = point
            self._view.update()

    def _on_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.drawing is not None:
                self.close_polygon()
            else:
                self.save()
        elif key == Qt.Key.Key_Escape:
            if self.drawing is not None:
                self.drawing = None
                self._hover = None
                self._say("Zone dropped")
                self._view.update()
            else:
                self.cancel()
        elif key == Qt.Key.Key_Backspace and self.drawing:
            self.drawing.pop()
            self._view.update()
        else:
            return False
        event.accept()
        return True

    def _zone_menu(self, index: int, pos: QPointF) -> None:
        menu = QMenu(self._view)
        menu.setObjectName("zoneMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        rules = menu.addAction("Name and labels…")
        delete = menu.addAction("Delete zone")
        if rules is not None:
            rules.setObjectName("zoneRulesAction")
            rules.triggered.connect(lambda: self._ask_rules_later(index))
        if delete is not None:
            delete.setObjectName("zoneDeleteAction")
            delete.triggered.connect(lambda: self.delete_zone(index))
        menu.popup(self._view.mapToGlobal(pos.toPoint()))

    # -- editing -----------------------------------------------------------------------------

    def add_point(self, point: Point) -> None:
        """Add ``point`` (normalised) to the zone being drawn."""
        if self.drawing is None:
            self.drawing = []
        self.drawing.append(point)
        self._say(f"{len(self.drawing)} points · double-click or Enter closes, Esc drops")
        self._view.update()

    def close_polygon(self) -> ZoneDialog | None:
        """Finish the zone being drawn and ask for its name (returns the open dialog)."""
        points = self.drawing or []
        geo = self.geometry()
        kept: list[Point] = []
        for p in points:
            # A double-click's press adds the same point twice: keep distinct points only.
            if kept:
                a, b = geo.to_widget(kept[-1]), geo.to_widget(p)
                if math.hypot(a.x() - b.x(), a.y() - b.y()) < 2.0:
                    continue
            kept.append(p)
        if len(kept) < 3:
            self._say("A zone needs at least three points; keep clicking", problem=True)
            self.drawing = kept
            self._view.update()
            return None
        self.drawing, self._hover = None, None
        draft = Draft(self._free_name(), kept)
        self._view.update()
        return self._ask(draft, new=True)

    def _ask_rules_later(self, index: int) -> None:
        self.ask_rules(index)

    def ask_rules(self, index: int) -> ZoneDialog:
        """Ask for zone ``index``'s name, labels and minimum time (returns the dialog)."""
        return self._ask(self.drafts[index], new=False)

    def _ask(self, draft: Draft, *, new: bool) -> ZoneDialog:
        taken = {d.name for d in self.drafts if d is not draft}
        dialog = ZoneDialog(draft, taken, self._view)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialog = dialog

        def accepted() -> None:
            dialog.apply_to(draft)
            if new:
                self.drafts.append(draft)
            self._say(f"Zone {draft.name!r} · Save keeps the zones, Cancel drops the changes")
            self._view.update()

        def done(result: int) -> None:
            self.dialog = None
            if new and result != int(QDialog.DialogCode.Accepted):
                self._say("Zone not added (no name given)")
            self._view.setFocus()

        dialog.accepted.connect(accepted)
        dialog.finished.connect(done)
        dialog.open()
        return dialog

    def _free_name(self) -> str:
        taken = {d.name for d in self.drafts}
        n = len(self.drafts) + 1
        while f"zone {n}" in taken:
            n += 1
        return f"zone {n}"

    def move_point(self, zone: int, point: int, to: Point) -> None:
        """Move point ``point`` of zone ``zone`` (-1: the zone being drawn) to ``to``."""
        points = self.drawing if zone == -1 else self.drafts[zone].points
        if points is None:
            return
        points[point] = (min(1.0, max(0.0, to[0])), min(1.0, max(0.0, to[1])))
        self._view.update()

    def delete_point(self, zone: int, point: int) -> None:
        """Delete a point; a saved zone left with fewer than three points is deleted."""
        if zone == -1:
            if self.drawing is not None:
                del self.drawing[point]
        else:
            draft = self.drafts[zone]
            del draft.points[point]
            if len(draft.points) < 3:
                self.delete_zone(zone)
                return
        self._view.update()

    def delete_zone(self, index: int) -> None:
        """Delete zone ``index``."""
        draft = self.drafts.pop(index)
        self._say(f"Zone {draft.name!r} deleted · Save keeps the change")
        self._view.update()

    def zones(self) -> tuple[Zone, ...]:
        """The zones as edited (ConfigError if one is not valid)."""
        return tuple(d.zone() for d in self.drafts)

    def _on_save_clicked(self) -> None:
        self.save()

    def save(self) -> bool:
        """Hand the zones on and end editing; False (and a message) if one is not valid."""
        if self._closed:
            return False
        try:
            zones = self.zones()
        except ConfigError as exc:
            self._say(f"Cannot save: {exc}", problem=True)
            return False
        self.saved.emit(self.camera, zones)
        self.close()
        return True

    def cancel(self) -> None:
        """End editing; nothing changes."""
        self.close()

    def close(self) -> None:
        """Leave the edit mode: the tile gets its mouse and keys back."""
        if self._closed:
            return
        self._closed = True
        if self.dialog is not None:
            self.dialog.reject()
        self._view.removeEventFilter(self)
        self._view.remove_overlay(self._paint)
        self._view.setMouseTracking(self._had_tracking)
        self.bar.hide()
        self.bar.deleteLater()
        self._view.update()
        self.finished.emit(self.camera)
        self.deleteLater()

    @property
    def closed(self) -> bool:
        """True once editing has ended."""
        return self._closed

    # -- drawing -----------------------------------------------------------------------------

    def _paint(self, painter: QPainter, target: QRect, source: QRectF, frame: QSize) -> None:
        geo = Geometry(QRect(target), QRectF(source), (frame.width(), frame.height()))
        self._geometry = geo
        painter.save()
        try:
            painter.setClipRect(target)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            for draft in self.drafts:
                paint_zone(painter, geo.polygon(draft.points), draft.name, IDLE_RGB, 40, target)
            if self.drawing:
                line = [*self.drawing, *([self._hover] if self._hover is not None else [])]
                paint_zone(painter, geo.polygon(line), "", DRAWING_RGB, 0, target, closed=False)
            handles = [p for d in self.drafts for p in d.points] + list(self.drawing or [])
            painter.setPen(QColor(0, 0, 0))
            painter.setBrush(QColor(*HANDLE_RGB))
            for p in handles:
                painter.drawEllipse(geo.to_widget(p), 4.0, 4.0)
        finally:
            painter.restore()


__all__ = ["Draft", "ZoneDialog", "ZoneEditor", "parse_labels"]
