"""The camera grid: 1, 2×2, 3×3, 4×4 or automatic, big-and-small layouts (1+5, 1+7, 2+8),
pages, a named view's subset of cameras, and one camera filling the wall."""

from __future__ import annotations

import math
from typing import Literal

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor, QMouseEvent, QPalette
from qtpy.QtWidgets import QGridLayout, QLabel, QWidget

from camwall.ui.qt_compat import Signal
from camwall.ui.wall.tile import CameraTile

GridMode = Literal["auto", 1, 4, 9, 16, "1+5", "1+7", "2+8"]
#: The layouts the wall offers, in menu order.
GRID_MODES: tuple[GridMode, ...] = ("auto", 1, 4, 9, 16, "1+5", "1+7", "2+8")
#: Layouts with big tiles: (rows, columns, cells as (row, column, row span, column span)),
#: the big ones first (the first cameras in wall order get them).
CUSTOM_LAYOUTS: dict[str, tuple[int, int, tuple[tuple[int, int, int, int], ...]]] = {
    "1+5": (
        3,
        3,
        ((0, 0, 2, 2), (0, 2, 1, 1), (1, 2, 1, 1), (2, 0, 1, 1), (2, 1, 1, 1), (2, 2, 1, 1)),
    ),
    "1+7": (
        4,
        4,
        (
            (0, 0, 3, 3),
            (0, 3, 1, 1),
            (1, 3, 1, 1),
            (2, 3, 1, 1),
            (3, 0, 1, 1),
            (3, 1, 1, 1),
            (3, 2, 1, 1),
            (3, 3, 1, 1),
        ),
    ),
    "2+8": (4, 4, ((0, 0, 2, 2), (0, 2, 2, 2), *((r, c, 1, 1) for r in (2, 3) for c in range(4)))),
}
_SPACING = 2
_EMPTY_HINT = (
    "No cameras yet.\n\nEnter a camera URL above (rtsp://…, a file, a webcam number or "
    "synthetic://name) and press Connect — or double-click here to add one with a name."
)


def parse_grid_mode(value: object) -> GridMode:
    """``"auto"``, 1, 4, 9 or 16 (also "2x2"-style text); ValueError otherwise."""
    text = str(value).strip().lower().replace("×", "x")
    table: dict[str, GridMode] = {
        "auto": "auto",
        "1": 1,
        "1x1": 1,
        "4": 4,
        "2x2": 4,
        "9": 9,
        "3x3": 9,
        "16": 16,
        "4x4": 16,
        "1+5": "1+5",
        "1+7": "1+7",
        "2+8": "2+8",
    }
    try:
        return table[text.replace(" ", "")]
    except KeyError:
        raise ValueError(
            f"grid {value!r} is not one of auto, 1, 4 (2x2), 9 (3x3), 16 (4x4), 1+5, 1+7, 2+8"
        ) from None


def grid_shape(mode: GridMode, cameras: int) -> tuple[int, int]:
    """(rows, columns) of the grid for ``cameras`` cameras in ``mode``."""
    if mode == "auto":
        n = max(1, cameras)
        cols = math.ceil(math.sqrt(n))
        return math.ceil(n / cols), cols
    if isinstance(mode, str):
        rows, cols, _ = CUSTOM_LAYOUTS[mode]
        return rows, cols
    side = math.isqrt(int(mode))
    return side, side


def grid_cells(mode: GridMode, cameras: int) -> list[tuple[int, int, int, int]]:
    """Where each tile of a page goes: (row, column, row span, column span), in order."""
    if isinstance(mode, str) and mode in CUSTOM_LAYOUTS:
        return list(CUSTOM_LAYOUTS[mode][2])
    rows, cols = grid_shape(mode, cameras)
    return [(i // cols, i % cols, 1, 1) for i in range(rows * cols)]


class CameraGrid(QWidget):
    """Lays out camera tiles; a double-clicked tile can fill the grid on its own."""

    #: The set of tiles on screen changed (mode, page, focus, cameras added or removed).
    layout_changed = Signal()
    #: An empty cell (or the empty wall) was double-clicked: a place for a new camera.
    empty_cell_activated = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """An empty grid in automatic mode."""
        super().__init__(parent)
        self.setObjectName("cameraGrid")
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(12, 12, 12))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self._tiles: dict[str, CameraTile] = {}
        self._mode: GridMode = "auto"
        self._focused: str | None = None
        self._view: list[str] | None = None
        self._page = 0
        self._fillers: list[QLabel] = []
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(_SPACING)
        self._hint = _EmptyCell(_EMPTY_HINT, self)
        self._hint.activated.connect(self.empty_cell_activated)
        self._hint.setObjectName("emptyHint")
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setWordWrap(True)
        self._hint.setStyleSheet("color: #aaaaaa; font-size: 14px;")
        self._relayout()

    # -- tiles ------------------------------------------------------------------------------------

    def tiles(self) -> list[CameraTile]:
        """Every tile, in wall order."""
        return list(self._tiles.values())

    def tile(self, name: str) -> CameraTile | None:
        """The tile of camera ``name``."""
        return self._tiles.get(name)

    def add_tile(self, tile: CameraTile, index: int | None = None) -> None:
        """Put ``tile`` on the wall at ``index`` (None: last); its camera name must be new."""
        if tile.camera in self._tiles:
            raise ValueError(f"the wall already has a camera named {tile.camera!r}")
        tile.setParent(self)
        self._tiles[tile.camera] = tile
        tile.activated.connect(self.toggle_focus)
        if index is not None:
            self._reorder(tile.camera, index)
        self._relayout()

    def names(self) -> list[str]:
        """Every camera, in wall order."""
        return list(self._tiles)

    def move_tile(self, name: str, index: int) -> None:
        """Move camera ``name``'s tile to position ``index`` in wall order."""
        if name not in self._tiles:
            raise KeyError(f"no camera named {name!r} on the wall")
        if list(self._tiles).index(name) != index:
            self._reorder(name, index)
            self._relayout()

    def set_order(self, names: list[str]) -> None:
        """Put the named cameras first, in this order (unknown names are skipped)."""
        known = [n for n in names if n in self._tiles]
        rest = [n for n in self._tiles if n not in known]
        order = known + rest
        if order != list(self._tiles):
            self._tiles = {n: self._tiles[n] for n in order}
            self._relayout()

    def _reorder(self, name: str, index: int) -> None:
        order = [n for n in self._tiles if n != name]
        order.insert(max(0, min(index, len(order))), name)
        self._tiles = {n: self._tiles[n] for n in order}

    def take_tile(self, name: str) -> CameraTile | None:
        """Remove camera ``name``'s tile from the wall and return it (the caller disposes of it)."""
        tile = self._tiles.pop(name, None)
        if tile is None:
            return None
        tile.activated.disconnect(self.toggle_focus)
        self._layout.removeWidget(tile)
        tile.hide()
        if self._focused == name:
            self._focused = None
        self._relayout()
        return tile

    # -- mode, pages, focus ----------------------------------------------------------------------

    @property
    def mode(self) -> GridMode:
        """The grid layout: "auto", 1, 4, 9 or 16 cells."""
        return self._mode

    def set_mode(self, mode: GridMode | str | int) -> None:
        """Switch layout; leaves the one-camera view."""
        self._mode = parse_grid_mode(mode)
        self._focused = None
        self._page = 0
        self._relayout()

    @property
    def focused(self) -> str | None:
        """The camera filling the grid, if any."""
        return self._focused

    def set_focused(self, name: str | None) -> None:
        """Let camera ``name`` fill the grid (None: back to the grid)."""
        if name is not None and name not in self._tiles:
            raise KeyError(f"no camera named {name!r} on the wall")
        if name != self._focused:
            self._focused = name
            self._relayout()

    def toggle_focus(self, name: str) -> None:
        """Double-click behaviour: fill the grid with ``name``, or go back to the grid."""
        self.set_focused(None if self._focused == name else name)

    def cells(self) -> int:
        """Tiles per page."""
        if self._mode == "auto":
            return max(1, len(self._shown()))
        if isinstance(self._mode, str):
            return len(CUSTOM_LAYOUTS[self._mode][2])
        return int(self._mode)

    def page_count(self) -> int:
        """Pages needed to show every camera in the current mode."""
        return max(1, math.ceil(len(self._shown()) / self.cells()))

    @property
    def view_names(self) -> list[str] | None:
        """The cameras a named view shows, in its order (None: every camera)."""
        return None if self._view is None else list(self._view)

    def set_view_names(self, names: list[str] | None) -> None:
        """Show only these cameras, in this order (None: all, in wall order)."""
        self._view = None if names is None else list(names)
        self._focused = None
        self._page = 0
        self._relayout()

    def _shown(self) -> list[str]:
        """The cameras the grid pages through: a view's (those that exist) or all."""
        if self._view is None:
            return list(self._tiles)
        return [n for n in self._view if n in self._tiles]

    @property
    def page(self) -> int:
        """The page shown (0-based)."""
        return self._page

    def set_page(self, page: int) -> None:
        """Show page ``page`` (wraps around)."""
        page %= self.page_count()
        if page != self._page or self._focused is not None:
            self._page = page
            self._focused = None
            self._relayout()

    def visible_names(self) -> list[str]:
        """Cameras on screen now, in order."""
        if self._focused is not None:
            return [self._focused]
        names = self._shown()
        cells = self.cells()
        return names[self._page * cells : (self._page + 1) * cells]

    # -- layout -------------------------------------------------------------------------------------

    def _relayout(self) -> None:
        self._page = min(self._page, self.page_count() - 1)
        while self._layout.count():
            self._layout.takeAt(0)
        for r in range(self._layout.rowCount()):
            self._layout.setRowStretch(r, 0)
        for c in range(self._layout.columnCount()):
            self._layout.setColumnStretch(c, 0)
        visible = self.visible_names()
        for name, tile in self._tiles.items():
            if name not in visible:
                tile.hide()
        for filler in self._fillers:
            filler.hide()
        if not self._tiles:
            self._layout.addWidget(self._hint, 0, 0)
            self._layout.setRowStretch(0, 1)
            self._layout.setColumnStretch(0, 1)
            self._hint.show()
            self.layout_changed.emit()
            return
        self._hint.hide()
        if self._focused is not None:
            rows, cols = 1, 1
            cells = [(0, 0, 1, 1)]
        else:
            rows, cols = grid_shape(self._mode, len(self._shown()))
            cells = grid_cells(self._mode, len(self._shown()))
        for index, (row, col, row_span, col_span) in enumerate(cells):
            if index < len(visible):
                widget: QWidget = self._tiles[visible[index]]
            else:
                widget = self._filler(index - len(visible))
            self._layout.addWidget(widget, row, col, row_span, col_span)
            widget.show()
        for r in range(rows):
            self._layout.setRowStretch(r, 1)
        for c in range(cols):
            self._layout.setColumnStretch(c, 1)
        self.layout_changed.emit()

    def _filler(self, index: int) -> QLabel:
        while len(self._fillers) <= index:
            filler = _EmptyCell(self)
            filler.setObjectName("emptyCell")
            filler.setStyleSheet("background: #161616;")
            filler.setToolTip("Double-click to add a camera here")
            filler.activated.connect(self.empty_cell_activated)
            self._fillers.append(filler)
        return self._fillers[index]


class _EmptyCell(QLabel):
    """A cell with no camera; a double click asks for one."""

    activated = Signal()

    def mouseDoubleClickEvent(self, event: QMouseEvent | None) -> None:
        """Ask for a camera to put here."""
        if event is not None and event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)
