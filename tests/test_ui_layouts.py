"""Layouts that stay: QSettings round trip, drag to reorder, big-and-small layouts, named
views, wall mode with no chrome, Alt+N."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QPointF, QSettings, Qt
from qtpy.QtGui import QDropEvent
from qtpy.QtWidgets import QDockWidget

from camwall.config import Camera
from camwall.ui.wall.grid import CameraGrid, grid_cells, parse_grid_mode
from camwall.ui.wall.layout_state import LayoutStore
from camwall.ui.wall.main_window import CameraWall
from camwall.ui.wall.tile import CameraTile, tile_mime

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

SMALL = "width=160&height=90&fps=5"


def add(wall: CameraWall, *names: str) -> None:
    for name in names:
        wall.add_camera(Camera(name=name, url=f"synthetic://{name}?{SMALL}"), start=False)


def settings(path: Path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


def make_stored_wall(
    qtbot: QtBot, tmp_path: Path, ini: Path, size: tuple[int, int] = (900, 600)
) -> CameraWall:
    wall = CameraWall(
        mode="thread",
        snapshot_dir=tmp_path / "snapshots",
        layout_store=LayoutStore(settings(ini)),
    )
    wall.resize(*size)
    return wall


def close(qtbot: QtBot, wall: CameraWall) -> None:
    wall.close()
    qtbot.waitUntil(lambda: wall.is_shut_down, timeout=20000)
    wall.deleteLater()


def test_layout_round_trip_through_qsettings(qtbot: QtBot, tmp_path: Path) -> None:
    ini = tmp_path / "wall.ini"
    wall = make_stored_wall(qtbot, tmp_path, ini, size=(760, 560))
    add(wall, "a", "b", "c", "d")
    wall.show()
    qtbot.waitExposed(wall)
    wall.set_grid_mode("1+5")
    wall.grid.move_tile("d", 0)
    wall.actionShowLog.setChecked(False)
    dock = wall.findChild(QDockWidget, "controlDock")
    assert dock is not None
    dock.hide()
    wall.layouts.save_view("Outside")
    wall.resize(700, 520)
    qtbot.waitUntil(lambda: wall.height() == 520)
    size = (wall.width(), wall.height())
    close(qtbot, wall)  # saves on close
    assert ini.exists()

    again = make_stored_wall(qtbot, tmp_path, ini, size=(400, 300))
    add(again, "a", "b", "c", "d")
    again.restore_layout()
    again.show()
    qtbot.waitExposed(again)
    try:
        assert again.grid.mode == "1+5"
        assert again.camera_names() == ["d", "a", "b", "c"]
        assert not again.actionShowLog.isChecked() and not again.logHost.isVisible()
        dock = again.findChild(QDockWidget, "controlDock")
        assert dock is not None and not dock.isVisible()
        # The offscreen screen is 800 wide: Qt keeps a restored window on it.
        assert again.height() == size[1] and again.width() >= min(size[0], 798)
        assert [v.name for v in again.layouts.views()] == ["Outside"]
        assert again.current_view == "Outside"
    finally:
        close(qtbot, again)


def test_drag_a_tile_onto_another_reorders(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall()
    add(wall, "a", "b", "c")
    target = wall.tile("c")
    # What a drop of tile "a" onto tile "c" delivers (QDrag.exec runs the platform's loop).
    data = tile_mime("a")  # the event does not own it: keep it alive
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.MoveAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    # Qt delivers a drop only during a platform drag; hand it to the handler as Qt would.
    target.dropEvent(drop)
    accepted = drop.isAccepted()
    assert accepted
    assert wall.camera_names() == ["b", "c", "a"]
    # A tile dropped on itself changes nothing.
    itself = tile_mime("c")
    target.dropEvent(
        QDropEvent(
            QPointF(10, 10),
            Qt.DropAction.MoveAction,
            itself,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
    )
    assert wall.camera_names() == ["b", "c", "a"]


@pytest.mark.parametrize(("mode", "big", "small"), [("1+5", 1, 5), ("1+7", 1, 7), ("2+8", 2, 8)])
def test_big_and_small_layouts(qtbot: QtBot, mode: str, big: int, small: int) -> None:
    cells = grid_cells(parse_grid_mode(mode), 0)
    assert len(cells) == big + small
    assert sum(1 for c in cells if c[2] > 1) == big
    grid = CameraGrid()
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    qtbot.waitExposed(grid)
    names = [f"c{i}" for i in range(big + small + 1)]
    for name in names:
        grid.add_tile(CameraTile(name))
    grid.set_mode(mode)
    assert grid.visible_names() == names[: big + small] and grid.page_count() == 2
    first, last = grid.tile(names[0]), grid.tile(names[big + small - 1])
    assert first is not None and last is not None
    qtbot.waitUntil(lambda: first.width() > 1.8 * last.width())
    assert first.height() > 1.8 * last.height()


def test_named_views_switch_by_menu_and_keys(
    qtbot: QtBot, make_wall: Callable[..., CameraWall], tmp_path: Path
) -> None:
    wall = make_wall()
    wall.layouts.store = LayoutStore(settings(tmp_path / "views.ini"))
    add(wall, "gate", "yard", "hall", "kitchen")
    wall.grid.set_view_names(["gate", "yard"])
    wall.set_grid_mode(4)
    wall.layouts.save_view("Outside")
    wall.grid.set_view_names(["hall", "kitchen"])
    wall.layouts.save_view("Inside")
    wall.show_view(None)
    assert wall.grid.visible_names() == ["gate", "yard", "hall", "kitchen"]
    wall.activateWindow()
    qtbot.waitUntil(wall.isActiveWindow)
    qtbot.keyClick(wall.grid, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert wall.current_view == "Outside"
    assert wall.grid.visible_names() == ["gate", "yard"]
    wall.layouts.rebuild_menu()
    titles = [a.text() for a in wall.layouts.menu.actions()]
    assert "Outside" in titles and "Inside" in titles
    next(a for a in wall.layouts.menu.actions() if a.text() == "Inside").trigger()
    assert wall.grid.visible_names() == ["hall", "kitchen"]
    qtbot.keyClick(wall.grid, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert wall.current_view is None and len(wall.grid.visible_names()) == 4


def test_wall_mode_hides_all_chrome_and_esc_leaves(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall()
    add(wall, "a", "b", "c")
    chrome = [
        wall.menubar,
        wall.statusbar,
        wall.urlBox,
        wall.connectButton,
        wall.addButton,
        wall.layoutBox,
        wall.logHost,
        *wall.findChildren(QDockWidget),
    ]
    before = {w: w.isVisible() for w in chrome}
    wall.activateWindow()
    qtbot.waitUntil(wall.isActiveWindow)
    qtbot.keyClick(wall.grid, Qt.Key.Key_F11)
    assert wall.wall_mode
    qtbot.waitUntil(lambda: not any(w.isVisible() for w in chrome))
    assert wall.grid.isVisible() and all(wall.tile(n).isVisible() for n in "abc")
    # Alt+2 fills the window with camera 2; again: back to the grid.
    qtbot.keyClick(wall.grid, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert wall.grid.focused == "b"
    qtbot.keyClick(wall.grid, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert wall.grid.focused is None
    qtbot.keyClick(wall.grid, Qt.Key.Key_Escape)
    assert not wall.wall_mode
    assert {w: w.isVisible() for w in chrome} == before


def test_wall_mode_from_the_command_line() -> None:
    from camwall.cli import build_parser

    args = build_parser().parse_args(["--wall-mode"])
    assert args.wall_mode is True
    assert build_parser().parse_args(["demo", "--wall-mode"]).wall_mode is True
