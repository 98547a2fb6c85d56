"""Zones on the tile: drawn where they are (letterbox, zoom), edited by mouse, saved, lit.

Real parts: VideoViews over real rings; a wall over a real runtime with synthetic cameras
(capture threads, the detection worker process for the lit-zone test) and the config file
saved in place by ConfigSync (tomlkit: comments stay).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtWidgets import QApplication, QMenu, QWidget

from camwall.capture import CameraState
from camwall.config import SCHEMA_VERSION, Camera, Config, DetectionConfig, load
from camwall.detect.messages import ZoneEvent
from camwall.detect.zones import Zone
from camwall.frames import FrameRing
from camwall.ui import VideoView
from camwall.ui.view.detection_overlay import map_fraction, unmap_fraction
from camwall.ui.view.view_painting import fit_rect
from camwall.ui.view.zone_overlay import IDLE_RGB, OCCUPIED_RGB, ZoneOverlay
from camwall.ui.wall.config_sync import ConfigSync
from camwall.ui.wall.main_window import CameraWall
from camwall.ui.wall.tile import CameraTile
from camwall.ui.wall.zone_editor import ZoneEditor, parse_labels
from support.pixels import GREY_RGB, close, rgb_at

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

MakeRing = Callable[..., FrameRing]
LEFT = Qt.MouseButton.LeftButton
#: A zone in the lower half of the frame (where the synthetic square moves).
LOWER = Zone("lower", ((0.05, 0.5), (0.95, 0.5), (0.95, 0.97), (0.05, 0.97)))


def grey_frame(width: int, height: int) -> np.ndarray:
    frame = np.empty((height, width, 4), np.uint8)
    frame[:] = (*GREY_RGB, 255)
    return frame


def mouse(
    widget: QWidget,
    kind: QEvent.Type,
    pos: QPointF,
    held: bool,
    button: Qt.MouseButton = LEFT,
) -> None:
    """A mouse event sent as Qt 5 accepts it (a move with a button held is never synthesised)."""
    pressed = button if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind,
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        pressed,
        button if held else Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, start: QPointF, end: QPointF) -> None:
    mouse(widget, QEvent.Type.MouseButtonPress, start, held=True)
    for i in range(1, 6):
        mouse(widget, QEvent.Type.MouseMove, start + (end - start) * (i / 5), held=True)
    mouse(widget, QEvent.Type.MouseButtonRelease, end, held=False)


def edge_midpoints(points: list[QPointF]) -> list[QPointF]:
    return [(a + b) / 2 for a, b in zip(points, points[1:] + points[:1], strict=True)]


def outline_at(image: object, at: QPointF, want: tuple[int, int, int], tol: int = 40) -> bool:
    """True if a pixel within 1 px of ``at`` has the outline colour (antialiased lines)."""
    x, y = round(at.x()), round(at.y())
    return any(
        close(rgb_at(image, x + dx, y + dy), want, tol) for dx in (-1, 0, 1) for dy in (-1, 0, 1)
    )


# -- the overlay ---------------------------------------------------------------------------------


def test_zones_are_drawn_where_they_are_on_the_picture(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(320, 180)
    ring.publish(grey_frame(320, 180))
    view = VideoView(ring.name)
    qtbot.addWidget(view)
    view.resize(640, 480)  # 16:9 in 4:3: bars above and below
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.shown_seq > 0)
    overlay = ZoneOverlay([LOWER])
    view.add_overlay(overlay)
    image = view.grab().toImage()
    target = fit_rect(320, 180, view.rect())
    whole = QRectF(0, 0, 320, 180)
    corners = [map_fraction(x, y, (320, 180), whole, target) for x, y in LOWER.points]
    # The zone's bottom edge lies inside the picture, not at the widget's 97 %.
    assert corners[2].y() == pytest.approx(target.top() + 0.97 * target.height())
    for mid in edge_midpoints(corners):
        assert outline_at(image, mid, IDLE_RGB), mid
    # Inside: the picture tinted by the fill; above the zone: the picture untouched.
    inside = rgb_at(image, round(corners[0].x()) + 40, round(corners[0].y()) + 40)
    assert inside != GREY_RGB and inside[1] > inside[0]
    assert close(rgb_at(image, 320, round(target.top() + 0.25 * target.height())), GREY_RGB)
    assert overlay.drawn_zones == 1 and overlay.drawn_occupied == 0
    # The geometry remembered maps back: a click on a corner is that corner.
    assert overlay.geometry is not None
    fx, fy = overlay.geometry.to_frame(corners[1])
    assert (fx, fy) == pytest.approx(LOWER.points[1], abs=1e-6)

    # Zoomed into the right half: the zone's top-right corner moves with the picture.
    view.set_source_rect_provider(lambda w, h: (w / 2, h / 4, w / 2, h / 2))
    image = view.grab().toImage()
    source = QRectF(160, 45, 160, 90)
    corner = map_fraction(0.95, 0.5, (320, 180), source, target)
    assert corner.x() == pytest.approx(target.left() + 0.9 * target.width())
    assert corner.y() == pytest.approx(target.top() + 0.5 * target.height())
    assert outline_at(
        image, (corner + map_fraction(0.95, 0.7, (320, 180), source, target)) / 2, IDLE_RGB
    )
    assert unmap_fraction(corner, (320, 180), source, target) == pytest.approx((0.95, 0.5))
    view.set_source_rect_provider(None)

    # An object entered: the zone is lit; it left: idle again.
    event = ZoneEvent("entered", "cam", "lower", "person", 3, 1.0, 0.5, 0, 1, (0, 0, 1, 1))
    assert overlay.on_zone_event(event)
    image = view.grab().toImage()
    assert overlay.drawn_occupied == 1
    for mid in edge_midpoints(corners):
        assert outline_at(image, mid, OCCUPIED_RGB), mid
    assert overlay.track_left(3) and overlay.occupied() == frozenset()
    # Hidden (detection off): nothing drawn.
    overlay.visible = False
    image = view.grab().toImage()
    assert not any(outline_at(image, mid, IDLE_RGB) for mid in edge_midpoints(corners))


def test_labels_text() -> None:
    assert parse_labels(" person, car ,,") == frozenset({"person", "car"})
    assert parse_labels("  ") is None


# A popup menu on the offscreen platform: it cannot raise itself or grab the keyboard.
@pytest.mark.qt_log_ignore(
    "propagateSizeHints", "does not support raise", "does not support grabbing the keyboard"
)
def test_the_editor_closes_by_double_click_and_renames_and_deletes_by_menu(
    qtbot: QtBot, make_ring: MakeRing
) -> None:
    ring = make_ring(320, 180)
    ring.publish(grey_frame(320, 180))
    view = VideoView(ring.name)
    qtbot.addWidget(view)
    view.resize(320, 240)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.shown_seq > 0)
    editor = ZoneEditor(view, "cam", (LOWER,))
    qtbot.waitUntil(lambda: editor.has_picture)
    target = fit_rect(320, 180, view.rect())
    assert editor.geometry().target == target
    # The lower zone's handles are drawn (white dots on its corners).
    image = view.grab().toImage()
    corner = at(target, *LOWER.points[0])
    assert close(rgb_at(image, corner.x(), corner.y()), (255, 255, 255), 30)

    # Zoomed into the top-right quarter: a click maps through the zoom to the frame.
    view.set_source_rect_provider(lambda w, h: (w / 2, 0, w / 2, h / 2))
    view.repaint()
    assert editor.geometry().source == QRectF(160, 0, 160, 90)
    qtbot.mouseClick(view, LEFT, pos=at(target, 0.5, 0.5))
    assert editor.drawing == [pytest.approx((0.75, 0.25), abs=1 / target.width())]
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # drops the zone being drawn, keeps editing
    assert editor.drawing is None and not editor.closed
    view.set_source_rect_provider(None)
    view.repaint()

    # Three clicks and a double-click on the last point: one zone of three points.
    for fx, fy in [(0.1, 0.1), (0.4, 0.1), (0.3, 0.4)]:
        qtbot.mouseClick(view, LEFT, pos=at(target, fx, fy))
    qtbot.mouseDClick(view, LEFT, pos=at(target, 0.3, 0.4))
    dialog = editor.dialog
    assert dialog is not None, editor.drawing
    assert dialog.name_edit.text() == "zone 2"
    dialog.name_edit.setText("lower")  # taken: OK is refused
    assert "already" in dialog.problem.text()
    dialog.name_edit.setText("shelf")
    dialog.accept()
    assert [(d.name, len(d.points)) for d in editor.drafts] == [("lower", 4), ("shelf", 3)]

    # Right-click inside the lower zone: its menu renames it, then deletes it.
    def menu_of_zone() -> object:
        qtbot.mouseClick(view, Qt.MouseButton.RightButton, pos=at(target, 0.5, 0.75))
        menus = [m for m in view.findChildren(QMenu, "zoneMenu") if m.isVisible()]
        assert len(menus) == 1
        return menus[0]

    menu = menu_of_zone()
    menu_action(menu, "zoneRulesAction").trigger()  # type: ignore[attr-defined]
    menu.hide()  # type: ignore[attr-defined]
    assert editor.dialog is not None
    editor.dialog.name_edit.setText("floor")
    editor.dialog.labels_edit.setText("cat")
    editor.dialog.accept()
    assert editor.drafts[0].name == "floor" and editor.drafts[0].labels == {"cat"}
    menu = menu_of_zone()
    menu_action(menu, "zoneDeleteAction").trigger()  # type: ignore[attr-defined]
    menu.hide()  # type: ignore[attr-defined]
    # A new zone whose dialog is cancelled is not added.
    for fx, fy in [(0.6, 0.1), (0.9, 0.1), (0.8, 0.3)]:
        qtbot.mouseClick(view, LEFT, pos=at(target, fx, fy))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert editor.dialog is not None
    editor.dialog.reject()
    assert [d.name for d in editor.drafts] == ["shelf"] and "not added" in editor.hint.text()
    saved: list[tuple[str, tuple[Zone, ...]]] = []
    editor.saved.connect(lambda camera, zones: saved.append((camera, zones)))
    qtbot.keyClick(view, Qt.Key.Key_Return)  # not drawing: Enter saves
    assert editor.closed
    ((camera, zones),) = saved
    assert camera == "cam" and [z.name for z in zones] == ["shelf"]
    # The view has its mouse back: the editor's handles are gone.
    image = view.grab().toImage()
    assert not close(rgb_at(image, corner.x(), corner.y()), (255, 255, 255), 30)


# -- on the wall -----------------------------------------------------------------------------------


CONFIG = f"""\
version = {SCHEMA_VERSION}
# cameras of the test house

[[camera]]
# the front door, looking at the path
name = "door"
url = "synthetic://door?width=640&height=360&fps=10"  # a test pattern

[[camera]]
name = "yard"  # stays as it is
url = "synthetic://yard?width=160&height=90&fps=5"
"""


def wait_streaming(qtbot: QtBot, tile: CameraTile) -> None:
    qtbot.waitUntil(
        lambda: tile.state is CameraState.STREAMING and tile.shown_seq > 0, timeout=30000
    )


def menu_action(menu: object, name: str) -> object:
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}  # type: ignore[attr-defined]
    assert name in actions, sorted(actions)
    return actions[name]


def picture(tile: CameraTile) -> tuple[QRect, tuple[int, int]]:
    """Where the tile paints its (unzoomed) picture, and the frame's size."""
    info = tile.ring.latest_info() if tile.ring is not None else None
    assert info is not None
    return fit_rect(info.width, info.height, tile.rect()), (info.width, info.height)


def at(target: QRect, fx: float, fy: float) -> QPoint:
    """The widget pixel of frame fraction (fx, fy), computed here, not by camwall."""
    return QPoint(round(target.x() + fx * target.width()), round(target.y() + fy * target.height()))


def test_a_zone_drawn_on_the_tile_is_saved_in_place_and_used(
    qtbot: QtBot, make_wall: Callable[..., CameraWall], tmp_path: Path
) -> None:
    path = tmp_path / "camwall.toml"
    path.write_text(CONFIG)
    config = load(path)
    wall = make_wall("thread", size=(900, 700))
    sync = ConfigSync(wall, path, config)
    wall.add_cameras(config.cameras)
    tile = wall.tile("door")
    wait_streaming(qtbot, tile)

    menu = tile.context_menu()
    menu_action(menu, "editZonesAction").trigger()  # type: ignore[attr-defined]
    menu.deleteLater()
    editor = wall.detection.zone_editor("door")
    assert isinstance(editor, ZoneEditor)
    # Once the frame size settled (the wall asks for frames of the tile's size), the editor
    # maps through the picture's place as computed here.
    qtbot.waitUntil(
        lambda: editor.has_picture and editor.geometry().target == picture(tile)[0],
        timeout=10000,
    )
    target, _ = picture(tile)
    assert target.height() < tile.height()  # letterboxed: the mapping is not the widget's

    wanted = [(0.2, 0.3), (0.7, 0.25), (0.8, 0.9), (0.25, 0.85)]
    for fx, fy in wanted:
        qtbot.mouseClick(tile, LEFT, pos=at(target, fx, fy))
    assert editor.drawing is not None and len(editor.drawing) == 4
    qtbot.keyClick(tile, Qt.Key.Key_Return)  # closes the zone: its rules are asked
    dialog = editor.dialog
    assert dialog is not None and editor.drawing is None
    dialog.name_edit.setText("path")
    dialog.labels_edit.setText("person, car")
    dialog.min_box.setValue(1.5)
    dialog.accept()
    assert [d.name for d in editor.drafts] == ["path"]

    # Drag the third point from (0.8, 0.9) to (0.6, 0.95).
    drag(tile, QPointF(at(target, 0.8, 0.9)), QPointF(at(target, 0.6, 0.95)))
    # A tiny second zone, then its corner deleted with a right-click: it goes.
    for fx, fy in [(0.85, 0.1), (0.95, 0.1), (0.95, 0.2)]:
        qtbot.mouseClick(tile, LEFT, pos=at(target, fx, fy))
    qtbot.keyClick(tile, Qt.Key.Key_Return)
    assert editor.dialog is not None
    editor.dialog.accept()
    assert [d.name for d in editor.drafts] == ["path", "zone 2"]
    qtbot.mouseClick(tile, Qt.MouseButton.RightButton, pos=at(target, 0.95, 0.2))
    assert [d.name for d in editor.drafts] == ["path"]
    qtbot.mouseClick(editor.save_button, LEFT)
    assert editor.closed and wall.detection.zone_editor("door") is None
    sync.wait()

    # In the file: the zone, with normalised points within a pixel of where it was drawn.
    text = path.read_text()
    for comment in (
        "# cameras of the test house",
        "# the front door, looking at the path",
        "# a test pattern",
        "# stays as it is",
    ):
        assert comment in text
    saved = load(path)
    assert [c.name for c in saved.cameras] == ["door", "yard"]
    assert saved.camera("yard").zones == ()
    (zone,) = saved.camera("door").zones
    assert zone.name == "path" and zone.labels == {"person", "car"} and zone.min_seconds == 1.5
    expected = [(0.2, 0.3), (0.7, 0.25), (0.6, 0.95), (0.25, 0.85)]
    pixel = (1.0 / target.width(), 1.0 / target.height())
    for (x, y), (ex, ey) in zip(zone.points, expected, strict=True):
        assert abs(x - ex) <= pixel[0] and abs(y - ey) <= pixel[1], (zone.points, expected)
    # The runtime uses them at once, without restarting the camera.
    assert [z.name for z in wall.runtime.camera("door").zones] == ["path"]
    assert [z.name for z in wall.runtime.detection.zones("door")] == ["path"]
    assert wall.tile("door") is tile and tile.state is CameraState.STREAMING

    # Editing again: Esc leaves everything as saved.
    wall.detection.edit_zones("door")
    qtbot.keyClick(tile, Qt.Key.Key_Escape)
    assert wall.detection.zone_editor("door") is None
    assert [z.name for z in wall.runtime.camera("door").zones] == ["path"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_zone_with_an_object_in_it_is_lit_on_the_tile(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    camera = Camera(
        name="door",
        url="synthetic://door?width=640&height=360&fps=25",
        detect=True,
        detect_fps=5.0,
        zones=(LOWER,),
    )
    wall = make_wall("thread", config=Config(detection=DetectionConfig(fps=5.0)))
    wall.detection.set_detector("motion")
    wall.add_camera(camera)
    tile = wall.tile("door")
    wait_streaming(qtbot, tile)
    overlay = wall.detection.zone_overlay("door")
    assert overlay.visible and [z.name for z in overlay.zones] == ["lower"]
    # The moving square's track enters the zone (a real ZoneEvent from the worker).
    qtbot.waitUntil(lambda: overlay.occupied() == {"lower"}, timeout=60000)
    tile.repaint()
    image = tile.grab().toImage()
    assert overlay.drawn_occupied == 1
    geometry = overlay.geometry
    assert geometry is not None
    corners = [geometry.to_widget(p) for p in LOWER.points]
    lit = [outline_at(image, mid, OCCUPIED_RGB) for mid in edge_midpoints(corners)]
    assert sum(lit) >= 3, lit  # the square's box may cover part of one edge

    # Detection off: the zone is no longer drawn, nor lit.
    wall.detection.set_enabled("door", False)
    assert not overlay.visible and overlay.occupied() == frozenset()
    image = tile.grab().toImage()
    assert overlay.drawn_zones == 0
    assert not any(outline_at(image, mid, OCCUPIED_RGB) for mid in edge_midpoints(corners))
