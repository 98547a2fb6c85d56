"""Click-to-centre on the wall: a click on a PTZ tile turns that point of the picture to the
centre (a RelativeMove the simulated camera receives over HTTP/SOAP)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QEvent, QPointF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtWidgets import QApplication

from camwall.config import Camera, OnvifConfig
from camwall.ui.control.picture_ptz import PicturePtz, picture_point
from camwall.ui.wall.main_window import CameraWall
from camwall.ui.wall.tile import CameraTile
from support.onvif_sim import OnvifSimulator

NO_MODIFIER = Qt.KeyboardModifier.NoModifier

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton
WAIT_MS = 20000


def send(tile: CameraTile, kind: QEvent.Type, pos: QPointF, buttons: Qt.MouseButton) -> None:
    event = QMouseEvent(
        kind, pos, QPointF(tile.mapToGlobal(pos.toPoint())), LEFT, buttons, NO_MODIFIER
    )
    QApplication.sendEvent(tile, event)


def click(tile: CameraTile, pos: QPointF) -> None:
    send(tile, QEvent.Type.MouseButtonPress, pos, LEFT)
    send(tile, QEvent.Type.MouseButtonRelease, pos, NONE)


def ptz_tile(
    qtbot: QtBot, wall: CameraWall, sim: OnvifSimulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[CameraTile, PicturePtz]:
    """A 16:9 camera with ONVIF control on the wall, connected and showing frames."""
    monkeypatch.setenv("CAM_ONVIF_PW", sim.config.password)
    onvif = OnvifConfig(
        host=sim.host, port=sim.port, user=sim.config.user, password_env="CAM_ONVIF_PW"
    )
    wall.add_camera(
        Camera(name="cam", url="synthetic://cam?width=160&height=90&fps=5", onvif=onvif)
    )
    tile = wall.tile("cam")
    qtbot.mouseClick(tile, LEFT)
    state = wall.controls.hub.state("cam")
    assert state is not None
    qtbot.waitUntil(lambda: state.feature("pan_tilt_continuous").available, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tile.zoom.frame_size() is not None, timeout=WAIT_MS)
    picture = tile.findChild(PicturePtz)
    assert picture is not None
    return tile, picture


def relative_moves(sim: OnvifSimulator) -> list[tuple[float, float]]:
    return [
        (float(r.params["Translation.PanTilt.x"]), float(r.params["Translation.PanTilt.y"]))
        for r in sim.received("RelativeMove", "ptz")
    ]


def test_picture_point_is_right_and_up_from_the_centre() -> None:
    assert picture_point(0.5, 0.5) == (0.0, 0.0)
    assert picture_point(1.0, 0.0) == (1.0, 1.0)  # top right
    assert picture_point(0.25, 0.75) == (-0.5, -0.5)  # lower left


def test_click_right_of_centre_turns_the_camera_right(
    qtbot: QtBot, wall: CameraWall, onvif_sim: OnvifSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    tile, picture = ptz_tile(qtbot, wall, onvif_sim, monkeypatch)
    assert picture.can_centre()
    onvif_sim.clear_log()
    rect = tile.zoom.image_rect()
    # Halfway between the picture's centre and its right edge (inside any letterbox).
    at = QPointF(rect.x() + rect.width() * 0.75, rect.y() + rect.height() * 0.5)
    click(tile, at)
    assert picture.pending_click is not None  # waits out the double-click interval
    qtbot.waitUntil(lambda: bool(onvif_sim.received("RelativeMove")), timeout=WAIT_MS)
    ((x, y),) = relative_moves(onvif_sim)
    assert x == pytest.approx(0.5, abs=0.02) and abs(y) < 0.02
    qtbot.waitUntil(lambda: onvif_sim.snapshot()["pan"][0] > 0.09, timeout=WAIT_MS)

    # Digitally zoomed 2× about the centre: the same spot on screen is nearer the centre of
    # the camera's picture, and the move is smaller.
    tile.zoom.zoom_to(2.0)
    rect = tile.zoom.image_rect()
    click(tile, QPointF(rect.x() + rect.width() * 0.75, rect.y() + rect.height() * 0.25))
    qtbot.waitUntil(lambda: len(relative_moves(onvif_sim)) == 2, timeout=WAIT_MS)
    x, y = relative_moves(onvif_sim)[-1]
    assert x == pytest.approx(0.25, abs=0.02) and y == pytest.approx(0.25, abs=0.02)


def test_double_click_and_drag_do_not_centre(
    qtbot: QtBot, wall: CameraWall, onvif_sim: OnvifSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    tile, picture = ptz_tile(qtbot, wall, onvif_sim, monkeypatch)
    # A drag from the centre pans and tilts; letting go is not a click.
    centre = QPointF(tile.width() / 2, tile.height() / 2)
    far = centre + QPointF(tile.width() / 3, 0)
    send(tile, QEvent.Type.MouseButtonPress, centre, LEFT)
    send(tile, QEvent.Type.MouseMove, far, LEFT)
    qtbot.waitUntil(lambda: onvif_sim.snapshot()["pan"][1], timeout=WAIT_MS)
    send(tile, QEvent.Type.MouseButtonRelease, far, NONE)
    assert picture.pending_click is None
    qtbot.waitUntil(lambda: bool(onvif_sim.received("Stop")), timeout=WAIT_MS)
    rect = tile.zoom.image_rect()
    at = QPointF(rect.x() + rect.width() * 0.8, rect.y() + rect.height() * 0.8)
    click(tile, at)
    assert picture.pending_click is not None
    send(tile, QEvent.Type.MouseButtonDblClick, at, LEFT)
    send(tile, QEvent.Type.MouseButtonRelease, at, NONE)
    assert picture.pending_click is None  # the double click toggles the tile instead
    assert onvif_sim.received("RelativeMove") == []


def test_camera_without_fov_moves_ignores_clicks(
    qtbot: QtBot,
    wall: CameraWall,
    make_onvif_sim: Callable[..., OnvifSimulator],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = make_onvif_sim(fov_relative=False)
    tile, picture = ptz_tile(qtbot, wall, sim, monkeypatch)
    assert not picture.can_centre()
    rect = tile.zoom.image_rect()
    click(tile, QPointF(rect.x() + rect.width() * 0.75, rect.y() + rect.height() * 0.5))
    assert picture.pending_click is None
    # The wall keeps talking to the camera (status polls), and never sends a relative move.
    polls = len(sim.received("GetStatus", "ptz"))
    qtbot.waitUntil(lambda: len(sim.received("GetStatus", "ptz")) > polls + 2, timeout=WAIT_MS)
    assert sim.received("RelativeMove") == []


def test_refused_centring_is_reported_and_disables_it(
    qtbot: QtBot, wall: CameraWall, onvif_sim: OnvifSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    tile, picture = ptz_tile(qtbot, wall, onvif_sim, monkeypatch)
    state = wall.controls.hub.state("cam")
    assert state is not None and picture.can_centre()
    onvif_sim.configure(fov_relative=False)  # the firmware refuses what its node lists
    rect = tile.zoom.image_rect()
    click(tile, QPointF(rect.x() + rect.width() * 0.2, rect.y() + rect.height() * 0.5))
    qtbot.waitUntil(lambda: not picture.can_centre(), timeout=WAIT_MS)
    reason = state.feature("pan_tilt_centre").reason
    assert "centre the camera on the clicked point failed" in reason
    assert "RelativeMove" in reason
    assert "centre the camera on the clicked point failed" in wall.log_panel.shown_text()
