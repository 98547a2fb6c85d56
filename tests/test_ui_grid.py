"""The camera grid: shapes, fixed layouts with pages, and one camera filling the wall."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import Qt

from camwall.ui.wall.grid import CameraGrid, grid_shape, parse_grid_mode
from camwall.ui.wall.tile import CameraTile

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.mark.parametrize(
    ("mode", "cameras", "shape"),
    [
        ("auto", 0, (1, 1)),
        ("auto", 1, (1, 1)),
        ("auto", 2, (1, 2)),
        ("auto", 3, (2, 2)),
        ("auto", 5, (2, 3)),
        ("auto", 10, (3, 4)),
        (1, 7, (1, 1)),
        (4, 1, (2, 2)),
        (9, 20, (3, 3)),
        (16, 3, (4, 4)),
    ],
)
def test_grid_shapes(mode: object, cameras: int, shape: tuple[int, int]) -> None:
    assert grid_shape(parse_grid_mode(mode), cameras) == shape


def test_grid_mode_names() -> None:
    assert parse_grid_mode("2×2") == parse_grid_mode("2x2") == parse_grid_mode(4) == 4
    assert parse_grid_mode(" AUTO ") == "auto"
    with pytest.raises(ValueError, match="not one of auto, 1, 4"):
        parse_grid_mode(5)


@pytest.fixture
def grid(qtbot: QtBot) -> CameraGrid:
    grid = CameraGrid()
    qtbot.addWidget(grid)
    grid.resize(800, 450)
    grid.show()
    qtbot.waitExposed(grid)
    return grid


def add(grid: CameraGrid, *names: str) -> None:
    for name in names:
        grid.add_tile(CameraTile(name))


def test_empty_grid_shows_a_hint(grid: CameraGrid) -> None:
    hint = grid.findChild(object, "emptyHint")
    assert hint is not None and hint.isVisible()
    add(grid, "a")
    assert not hint.isVisible()


def test_fixed_layout_pages(qtbot: QtBot, grid: CameraGrid) -> None:
    add(grid, *"abcdef")
    grid.set_mode(4)
    assert grid.visible_names() == list("abcd") and grid.page_count() == 2
    a = grid.tile("a")
    # A quarter of 800×450 each.
    qtbot.waitUntil(lambda: abs(a.width() - 399) <= 2 and abs(a.height() - 224) <= 2)
    assert a.isVisible() and not grid.tile("e").isVisible()
    grid.set_page(1)
    assert grid.visible_names() == ["e", "f"]
    assert grid.tile("e").isVisible() and not grid.tile("a").isVisible()
    grid.set_page(2)  # wraps
    assert grid.page == 0


def test_double_click_fills_the_grid_and_back(qtbot: QtBot, grid: CameraGrid) -> None:
    add(grid, "a", "b", "c")
    b = grid.tile("b")
    assert b is not None
    qtbot.mouseDClick(b, Qt.MouseButton.LeftButton)
    assert grid.focused == "b" and grid.visible_names() == ["b"]
    qtbot.waitUntil(lambda: b.width() > 700)
    assert not grid.tile("a").isVisible()
    qtbot.mouseDClick(b, Qt.MouseButton.LeftButton)
    assert grid.focused is None and grid.visible_names() == ["a", "b", "c"]
    qtbot.waitUntil(lambda: grid.tile("a").isVisible())


def test_removing_the_focused_camera_returns_to_the_grid(grid: CameraGrid) -> None:
    add(grid, "a", "b")
    grid.set_focused("a")
    tile = grid.take_tile("a")
    assert tile is not None and grid.focused is None and grid.visible_names() == ["b"]
    tile.deleteLater()
    with pytest.raises(ValueError, match="already has a camera"):
        grid.add_tile(CameraTile("b"))
    with pytest.raises(KeyError, match="no camera named"):
        grid.set_focused("zzz")
