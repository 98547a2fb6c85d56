"""Camera control in the wall window: config, "Add ONVIF camera…", the dock, zoom → frame size."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QEvent, QPoint, QPointF, Qt
from qtpy.QtGui import QWheelEvent
from qtpy.QtWidgets import QApplication, QDialogButtonBox

from camwall.capture import CameraState
from camwall.config import Camera, OnvifConfig, loads
from camwall.ui.wall.main_window import CameraWall
from support.onvif_sim import OnvifSimulator

NO_MODIFIER = Qt.KeyboardModifier.NoModifier

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 20000


def wheel(widget: object, x: float, y: float, notches: int) -> None:
    for _ in range(abs(notches)):
        event = QWheelEvent(
            QPointF(x, y),
            QPointF(x, y),
            QPoint(0, 0),
            QPoint(0, 120 if notches > 0 else -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(widget, event)


def test_config_onvif_settings_reach_the_wall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOOR_PW", "door-Pa55")
    monkeypatch.setenv("DOOR_ONVIF_PW", "onvif-Pa55")
    config = loads(
        """
version = 1
[[camera]]
name = "door"
url = "rtsp://viewer@192.0.2.10/stream1"
password_env = "DOOR_PW"
[camera.onvif]
port = 8000
user = "operator"
password_env = "DOOR_ONVIF_PW"

[[camera]]
name = "yard"
url = "synthetic://yard"
"""
    )
    door, yard = (c.onvif_settings() for c in config.cameras)
    assert door is not None
    assert (door.host, door.port, door.user) == ("192.0.2.10", 8000, "operator")
    assert door.password == "onvif-Pa55"
    assert "onvif-Pa55" not in repr(door)
    assert yard is None


def test_add_onvif_camera_then_control_it_from_the_dock(
    qtbot: QtBot, wall: CameraWall, make_onvif_sim: Callable[..., OnvifSimulator]
) -> None:
    # Nothing serves RTSP on port 9: the tile says No Signal, the controls work regardless.
    sim = make_onvif_sim(rtsp_base="rtsp://127.0.0.1:9/live")
    wall.connect_url("synthetic://plain?width=160&height=90&fps=5", name="plain")
    panel = wall.controls.panel
    # The dock stays out of the way for a camera without control.
    assert not wall.controls.dock.isVisible()
    assert panel.camera == "plain"
    assert not panel.buttons["zoom_in"].isEnabled()
    assert "no ONVIF settings" in panel.buttons["zoom_in"].toolTip()

    wall.controls.add_onvif_action.trigger()
    d = wall.controls.dialog
    assert d is not None
    qtbot.waitExposed(d)
    qtbot.keyClicks(d.host_edit, sim.host)
    d.port_box.setValue(sim.port)
    qtbot.keyClicks(d.user_edit, sim.config.user)
    qtbot.keyClicks(d.password_edit, sim.config.password)
    qtbot.keyClicks(d.name_edit, "ptz")
    qtbot.mouseClick(d.find_button, LEFT)
    qtbot.waitUntil(lambda: d.main_edit.text().endswith("/live/main"), timeout=WAIT_MS)
    assert d.sub_edit.text().endswith("/live/sub")
    qtbot.mouseClick(d.buttons.button(QDialogButtonBox.StandardButton.Ok), LEFT)
    qtbot.waitUntil(lambda: wall.controls.dialog is None, timeout=WAIT_MS)

    assert wall.camera_names() == ["plain", "ptz"]
    assert panel.camera == "ptz"
    assert wall.controls.dock.isVisible()  # a camera with control is selected
    camera = wall.cameras.camera("ptz")
    assert camera.onvif is not None and camera.onvif.port == sim.port
    button = panel.buttons["zoom_in"]
    qtbot.waitUntil(button.isEnabled, timeout=WAIT_MS)

    # Clicking the other tile switches the panel; clicking back shows the ONVIF camera again.
    qtbot.mouseClick(wall.tile("plain"), LEFT)
    assert panel.camera == "plain" and not button.isEnabled()
    assert not wall.controls.dock.isVisible()
    qtbot.mouseClick(wall.tile("ptz"), LEFT)
    assert panel.camera == "ptz" and button.isEnabled()
    assert wall.controls.dock.isVisible()

    sim.clear_log()
    qtbot.mousePress(button, LEFT)
    qtbot.waitUntil(lambda: sim.snapshot()["zoom"][1], timeout=WAIT_MS)
    qtbot.mouseRelease(button, LEFT)
    qtbot.waitUntil(lambda: bool(sim.received("Stop")), timeout=WAIT_MS)

    # Credentials appear nowhere on screen.
    shown = [
        wall.urlBox.currentText(),
        *wall.url_history(),
        wall.log_panel.shown_text(),
        panel.connection.text(),
        wall.tile("ptz").status_text(),
    ]
    for text in shown:
        assert sim.config.password not in text, text

    # Closing the wall mid-press still stops the camera, and every thread ends.
    qtbot.mousePress(button, LEFT)
    qtbot.waitUntil(lambda: sim.snapshot()["zoom"][1], timeout=WAIT_MS)
    stops = len(sim.received("Stop"))
    wall.close()
    qtbot.waitUntil(lambda: wall.is_shut_down, timeout=WAIT_MS)
    assert len(sim.received("Stop")) > stops
    assert not sim.snapshot()["zoom"][1]


def test_zoomed_tile_gets_full_resolution_frames_from_the_main_stream(
    qtbot: QtBot, wall: CameraWall
) -> None:
    wall.add_camera(
        Camera(
            name="z",
            url="synthetic://z-main?width=1280&height=720&fps=10",
            substream_url="synthetic://z-sub?width=320&height=180&fps=10",
        )
    )
    wall.connect_url("synthetic://other?width=160&height=90&fps=5", name="other")
    tile = wall.tile("z")
    qtbot.waitUntil(
        lambda: tile.state is CameraState.STREAMING and tile.shown_seq > 0, timeout=WAIT_MS
    )
    assert wall.cameras.stream("z") == "sub"
    assert tile.width() < 640  # two cameras side by side next to the control dock

    wheel(tile, tile.width() / 2, tile.height() / 2, 8)  # 4×
    assert tile.zoom.factor == pytest.approx(4.0)
    # Zoomed in: the main stream, at its full 1280×720 (4 × the tile is larger than that).
    qtbot.waitUntil(lambda: wall.cameras.stream("z") == "main", timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: (
            tile.ring is not None
            and (info := tile.ring.latest_info()) is not None
            and info.width == 1280
        ),
        timeout=WAIT_MS,
    )
    assert tile.state is CameraState.STREAMING

    tile.setFocus()
    qtbot.keyClick(tile, Qt.Key.Key_0)
    assert not tile.zoom.is_zoomed
    qtbot.waitUntil(lambda: wall.cameras.stream("z") == "sub", timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: (
            tile.ring is not None
            and (info := tile.ring.latest_info()) is not None
            and info.width <= 320
        ),
        timeout=WAIT_MS,
    )


def test_panel_shortcut_keys_reach_the_selected_camera_from_its_tile(
    qtbot: QtBot, wall: CameraWall, onvif_sim: OnvifSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAM_ONVIF_PW", onvif_sim.config.password)
    onvif = OnvifConfig(
        host=onvif_sim.host,
        port=onvif_sim.port,
        user=onvif_sim.config.user,
        password_env="CAM_ONVIF_PW",
    )
    wall.add_camera(
        Camera(name="cam", url="synthetic://cam?width=160&height=90&fps=5", onvif=onvif)
    )
    tile = wall.tile("cam")
    qtbot.mouseClick(tile, LEFT)
    panel = wall.controls.panel
    assert panel.camera == "cam"
    qtbot.waitUntil(panel.buttons["left"].isEnabled, timeout=WAIT_MS)
    tile.setFocus()
    onvif_sim.clear_log()
    QApplication.sendEvent(tile, _key(QEvent.Type.KeyPress, Qt.Key.Key_Left))
    qtbot.waitUntil(lambda: onvif_sim.snapshot()["pan"][1], timeout=WAIT_MS)
    QApplication.sendEvent(tile, _key(QEvent.Type.KeyRelease, Qt.Key.Key_Left))
    qtbot.waitUntil(lambda: bool(onvif_sim.received("Stop")), timeout=WAIT_MS)
    assert onvif_sim.snapshot()["pan"][0] < 0
    # Digital zoom keys keep working on the tile next to the panel's shortcuts.
    wheel(tile, 20, 20, 4)
    assert tile.zoom.is_zoomed
    qtbot.keyClick(tile, Qt.Key.Key_Home)
    assert not tile.zoom.is_zoomed


def _key(kind: QEvent.Type, key: Qt.Key) -> object:
    from qtpy.QtGui import QKeyEvent

    return QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, "")


def test_drag_from_the_centre_of_the_picture_pans_and_tilts(
    qtbot: QtBot, wall: CameraWall, onvif_sim: OnvifSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtpy.QtGui import QMouseEvent

    from camwall.ui.control.picture_ptz import drag_velocity

    # Joystick-like: the farther from the press, the faster; a small wobble does nothing.
    assert drag_velocity(2, 1, 100, 50).axes == frozenset()
    fast = drag_velocity(100, -50, 100, 50)
    assert (fast.pan, fast.tilt) == (1.0, 1.0)  # right and up (screen y is down)

    monkeypatch.setenv("CAM_ONVIF_PW", onvif_sim.config.password)
    onvif = OnvifConfig(
        host=onvif_sim.host,
        port=onvif_sim.port,
        user=onvif_sim.config.user,
        password_env="CAM_ONVIF_PW",
    )
    wall.add_camera(
        Camera(name="cam", url="synthetic://cam?width=160&height=90&fps=5", onvif=onvif)
    )
    tile = wall.tile("cam")
    qtbot.mouseClick(tile, LEFT)
    qtbot.waitUntil(wall.controls.panel.buttons["left"].isEnabled, timeout=WAIT_MS)
    onvif_sim.clear_log()
    centre = QPointF(tile.width() / 2, tile.height() / 2)

    def mouse(kind: QEvent.Type, pos: QPointF, buttons: Qt.MouseButton) -> None:
        event = QMouseEvent(
            kind, pos, QPointF(tile.mapToGlobal(pos.toPoint())), LEFT, buttons, NO_MODIFIER
        )
        QApplication.sendEvent(tile, event)

    mouse(QEvent.Type.MouseButtonPress, centre, LEFT)
    mouse(QEvent.Type.MouseMove, centre + QPointF(tile.width() / 3, 0), LEFT)
    qtbot.waitUntil(lambda: onvif_sim.snapshot()["pan"][1], timeout=WAIT_MS)
    mouse(
        QEvent.Type.MouseButtonRelease,
        centre + QPointF(tile.width() / 3, 0),
        Qt.MouseButton.NoButton,
    )
    qtbot.waitUntil(lambda: bool(onvif_sim.received("Stop")), timeout=WAIT_MS)
    assert onvif_sim.snapshot()["pan"][0] > 0  # turned right
    assert wall.camera_names() == ["cam"]
