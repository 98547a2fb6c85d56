"""Digital zoom of a VideoView: wheel about the cursor, drag to pan, reset; checked in pixels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QEvent, QPoint, QPointF, Qt
from qtpy.QtGui import QMouseEvent, QWheelEvent
from qtpy.QtWidgets import QApplication, QWidget

from camwall.frames import FrameRing
from camwall.sources.synthetic import background
from camwall.ui import VideoView
from camwall.ui.view.zoom import WHEEL_STEP, ZoomController
from camwall.ui.wall.tile import CameraTile
from support.pixels import BAR_RGB, bars_match, close, rgb_at

pytestmark = pytest.mark.qt

MakeRing = Callable[..., FrameRing]
FRAME_W, FRAME_H = 640, 360
VIEW_W, VIEW_H = 320, 180  # the same aspect: the picture fills the view exactly
NOTCHES_PER_DOUBLING = 4
LEFT = Qt.MouseButton.LeftButton
#: The "4.0×" badge a zoomed view draws in its bottom-right corner fits in this box.
BADGE_W, BADGE_H = 60, 30


def wheel(widget: QWidget, x: float, y: float, notches: int = 1) -> None:
    """Turn the mouse wheel over ``widget`` at (x, y), one event per notch (a real wheel)."""
    for _ in range(abs(notches)):
        pos = QPointF(x, y)
        event = QWheelEvent(
            pos,
            QPointF(widget.mapToGlobal(pos.toPoint())),
            QPoint(0, 0),
            QPoint(0, 120 if notches > 0 else -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(widget, event)


def mouse(widget: QWidget, kind: QEvent.Type, x: float, y: float, held: bool) -> None:
    """A mouse event at (x, y) with the left button pressed/held/released."""
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else LEFT
    buttons = LEFT if held else Qt.MouseButton.NoButton
    pos = QPointF(x, y)
    event = QMouseEvent(
        kind,
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, start: tuple[float, float], end: tuple[float, float]) -> None:
    mouse(widget, QEvent.Type.MouseButtonPress, *start, held=True)
    steps = 5
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        mouse(widget, QEvent.Type.MouseMove, x, y, held=True)
    mouse(widget, QEvent.Type.MouseButtonRelease, *end, held=False)


def frame_rgb(frame: np.ndarray, fx: float, fy: float) -> tuple[int, int, int]:
    b, g, r, _ = frame[int(fy), int(fx)]
    return int(r), int(g), int(b)


def near_an_edge(frame: np.ndarray, fx: float, fy: float, margin: float) -> bool:
    """True if the colour changes within ``margin`` frame pixels of (fx, fy)."""
    here = frame_rgb(frame, fx, fy)
    for dx, dy in ((-margin, 0), (margin, 0), (0, -margin), (0, margin)):
        x = min(FRAME_W - 1, max(0, fx + dx))
        y = min(FRAME_H - 1, max(0, fy + dy))
        if frame_rgb(frame, x, y) != here:
            return True
    return False


def mismatches(view: VideoView, zoom: ZoomController, frame: np.ndarray) -> list[str]:
    """Sample the view on a grid: each pixel must show the frame point the zoom says it does."""
    view.repaint()
    image = view.grab().toImage()
    problems = []
    fx0, fy0, fw, fh = zoom.visible()
    scale = fw * FRAME_W / VIEW_W  # frame pixels per view pixel
    for vy in range(5, VIEW_H, 17):
        for vx in range(5, VIEW_W, 13):
            fx = (fx0 + (vx + 0.5) / VIEW_W * fw) * FRAME_W
            fy = (fy0 + (vy + 0.5) / VIEW_H * fh) * FRAME_H
            if near_an_edge(frame, fx, fy, margin=2 + 2 * scale):
                continue  # smooth scaling blends colours across an edge
            if zoom.is_zoomed and vx > VIEW_W - BADGE_W and vy > VIEW_H - BADGE_H:
                continue  # the magnification badge
            want, got = frame_rgb(frame, fx, fy), rgb_at(image, vx, vy)
            if not close(got, want):
                problems.append(f"view ({vx},{vy}) -> frame ({fx:.0f},{fy:.0f}): {got} != {want}")
    return problems


def share_of(view: VideoView, rgb: tuple[int, int, int]) -> float:
    image = view.grab().toImage()
    hits = total = 0
    for y in range(0, VIEW_H, 4):
        for x in range(0, VIEW_W, 4):
            total += 1
            hits += close(rgb_at(image, x, y), rgb)
    return hits / total


@pytest.fixture
def zoomed_view(qtbot: QtBot, make_ring: MakeRing) -> tuple[VideoView, ZoomController, np.ndarray]:
    ring = make_ring(FRAME_W, FRAME_H)
    frame = background(FRAME_W, FRAME_H)
    ring.publish(frame)
    view = VideoView(ring.name)
    qtbot.addWidget(view)
    zoom = ZoomController(view)
    view.resize(VIEW_W, VIEW_H)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    yield view, zoom, frame
    view.close_ring()


def test_wheel_zooms_about_the_cursor(
    qtbot: QtBot, zoomed_view: tuple[VideoView, ZoomController, np.ndarray]
) -> None:
    view, zoom, frame = zoomed_view
    assert mismatches(view, zoom, frame) == []
    # The cursor on the middle of the third bar (bars are 80 frame px = 40 view px wide).
    cx, cy = 100.0, 60.0
    anchor = zoom.view_to_frame(QPointF(cx, cy))
    for notch in range(2 * NOTCHES_PER_DOUBLING):
        wheel(view, cx, cy)
        # The frame point under the cursor stays put, notch after notch.
        assert zoom.view_to_frame(QPointF(cx, cy)) == pytest.approx(anchor, abs=1e-9), notch
    assert zoom.factor == pytest.approx(4.0)
    assert pytest.approx(4.0) == WHEEL_STEP ** (2 * NOTCHES_PER_DOUBLING)
    x, y, w, h = zoom.visible()
    assert (w, h) == pytest.approx((0.25, 0.25))
    assert x == pytest.approx(anchor[0] - 0.25 * cx / VIEW_W)
    assert y == pytest.approx(anchor[1] - 0.25 * cy / VIEW_H)
    # Every pixel shows the frame point it should, sharply, and the third bar dominates.
    assert mismatches(view, zoom, frame) == []
    image = view.grab().toImage()
    assert close(rgb_at(image, int(cx), int(cy)), BAR_RGB[2])
    # The "4.0×" badge darkens the picture in the bottom-right corner.
    fx, fy = zoom.view_to_frame(QPointF(VIEW_W - 12, VIEW_H - 10))
    corner = rgb_at(image, VIEW_W - 12, VIEW_H - 10)
    assert sum(corner) < sum(frame_rgb(frame, fx * FRAME_W, fy * FRAME_H)) - 100, corner
    shares = [share_of(view, rgb) for rgb in BAR_RGB]
    assert shares.index(max(shares)) == 2, shares
    # Twice as far again: one bar's width is shown, and it is mostly the third bar.
    wheel(view, cx, cy, NOTCHES_PER_DOUBLING)
    assert zoom.factor == pytest.approx(8.0)
    assert share_of(view, BAR_RGB[2]) > 0.75
    assert mismatches(view, zoom, frame) == []
    # Wheel back: never below the whole frame.
    wheel(view, cx, cy, -10 * NOTCHES_PER_DOUBLING)
    assert zoom.factor == 1.0 and not zoom.is_zoomed
    assert zoom.visible() == (0.0, 0.0, 1.0, 1.0)
    assert bars_match(view.grab().toImage(), 0, 0, VIEW_W, VIEW_H) == []


def test_drag_pans_with_the_pointer_and_stays_inside_the_frame(
    qtbot: QtBot, zoomed_view: tuple[VideoView, ZoomController, np.ndarray]
) -> None:
    view, zoom, frame = zoomed_view
    drag(view, (160, 90), (60, 90))
    assert zoom.visible() == (0.0, 0.0, 1.0, 1.0), "nothing to pan at 1×"
    wheel(view, 160, 90, 2 * NOTCHES_PER_DOUBLING)  # 4× about the centre
    x0, y0, w, _ = zoom.visible()
    grabbed = zoom.view_to_frame(QPointF(200, 40))
    drag(view, (200, 40), (100, 40))
    # The frame point that was under the pointer moved with it.
    assert zoom.view_to_frame(QPointF(100, 40)) == pytest.approx(grabbed)
    x1, y1, _, _ = zoom.visible()
    assert x1 == pytest.approx(x0 + w * 100 / VIEW_W) and y1 == pytest.approx(y0)
    assert mismatches(view, zoom, frame) == []
    # Dragging far past the edge stops at the frame's edge.
    drag(view, (10, 10), (VIEW_W * 10, VIEW_H * 10))
    assert zoom.visible()[:2] == (0.0, 0.0)
    assert mismatches(view, zoom, frame) == []
    assert close(rgb_at(view.grab().toImage(), 5, 5), BAR_RGB[0])


@pytest.mark.parametrize("key", [Qt.Key.Key_0, Qt.Key.Key_Home])
def test_reset_key_shows_the_whole_frame(
    qtbot: QtBot, zoomed_view: tuple[VideoView, ZoomController, np.ndarray], key: Qt.Key
) -> None:
    view, zoom, _ = zoomed_view
    changes: list[float] = []
    zoom.changed.connect(changes.append)
    wheel(view, 300, 30, 3 * NOTCHES_PER_DOUBLING)
    assert zoom.factor == pytest.approx(8.0)
    assert view.cursor().shape() == Qt.CursorShape.OpenHandCursor
    view.setFocus()
    qtbot.keyClick(view, key)
    assert zoom.factor == 1.0 and changes[-1] == 1.0
    assert view.cursor().shape() == Qt.CursorShape.ArrowCursor
    view.repaint()
    assert bars_match(view.grab().toImage(), 0, 0, VIEW_W, VIEW_H) == []


def test_tile_menu_resets_zoom_and_double_click_still_fills_the_wall(
    qtbot: QtBot, make_ring: MakeRing
) -> None:
    ring = make_ring(FRAME_W, FRAME_H)
    ring.publish(background(FRAME_W, FRAME_H))
    tile = CameraTile("yard")
    qtbot.addWidget(tile)
    tile.set_ring(ring.name)
    tile.resize(VIEW_W, VIEW_H)
    tile.show()
    qtbot.waitExposed(tile)
    activated: list[str] = []
    tile.activated.connect(activated.append)
    menu = tile.context_menu()
    reset = next(a for a in menu.actions() if a.objectName() == "resetZoomAction")
    assert not reset.isEnabled()
    menu.deleteLater()
    wheel(tile, 100, 60, 2 * NOTCHES_PER_DOUBLING)
    assert tile.zoom.factor == pytest.approx(4.0)
    tile.repaint()
    menu = tile.context_menu()
    reset = next(a for a in menu.actions() if a.objectName() == "resetZoomAction")
    assert reset.isEnabled() and "4.0×" in reset.text()
    reset.trigger()
    menu.deleteLater()
    assert tile.zoom.factor == 1.0
    qtbot.mouseDClick(tile, LEFT)
    assert activated == ["yard"]
    assert tile.zoom.factor == 1.0
    tile.close_ring()


def test_zoom_survives_a_change_of_frame_size(
    qtbot: QtBot, zoomed_view: tuple[VideoView, ZoomController, np.ndarray], make_ring: MakeRing
) -> None:
    """Zoom is kept in fractions of the frame: a bigger stream shows the same region."""
    view, zoom, frame = zoomed_view
    wheel(view, 100, 60, 2 * NOTCHES_PER_DOUBLING)
    region = zoom.visible()
    big = make_ring(FRAME_W * 2, FRAME_H * 2)
    big.publish(background(FRAME_W * 2, FRAME_H * 2))
    view.set_ring(big.name)
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    assert zoom.visible() == region
    assert mismatches(view, zoom, frame) == []
