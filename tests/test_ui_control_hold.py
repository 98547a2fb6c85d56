"""Press-and-hold in the control panel against the ONVIF simulator: move, re-send, always stop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QEvent, Qt
from qtpy.QtGui import QKeyEvent
from qtpy.QtWidgets import QApplication, QWidget

from camwall.control import OnvifSettings
from fixtures.control_ui import ControlHarness
from support.onvif_sim import OnvifSimulator

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 10000


def moving(sim: OnvifSimulator, axis: str) -> bool:
    return sim.snapshot()[axis][1]


def motion(sim: OnvifSimulator) -> list[str]:
    """The PTZ moves and stops the camera received (status polls left out)."""
    return [op for op in sim.operations("ptz") if op in ("ContinuousMove", "Stop")]


def stops(sim: OnvifSimulator, service: str = "ptz") -> int:
    return len(sim.received("Stop", service))


def connected(
    control_harness: Callable[[], ControlHarness],
    sim: OnvifSimulator,
    settings: OnvifSettings,
    key: str = "zoom_in",
) -> ControlHarness:
    h = control_harness()
    h.add("cam", settings)
    h.wait_enabled(key)
    sim.clear_log()
    return h


def test_press_moves_release_stops_and_the_move_is_resent_while_held(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    h = connected(control_harness, onvif_sim, onvif_settings(onvif_sim))
    button = h.panel.buttons["zoom_in"]
    qtbot.mousePress(button, LEFT)
    assert h.panel.holds.active and h.panel.holds.what == "zoom in"
    qtbot.waitUntil(lambda: moving(onvif_sim, "zoom"), timeout=WAIT_MS)
    # Held for well past one move's ONVIF timeout (1 s): only re-sending keeps it going.
    qtbot.wait(1600)
    assert moving(onvif_sim, "zoom")
    moves = onvif_sim.received("ContinuousMove")
    assert len(moves) >= 4, [m.operation for m in moves]
    assert all(m.has_timeout for m in moves)
    assert stops(onvif_sim) == 0

    qtbot.mouseRelease(button, LEFT)
    assert not h.panel.holds.active
    qtbot.waitUntil(lambda: stops(onvif_sim) == 1, timeout=WAIT_MS)
    assert not moving(onvif_sim, "zoom")
    assert motion(onvif_sim)[-1] == "Stop"
    zoom = onvif_sim.snapshot()["zoom"][0]
    assert zoom > 0.2  # zoomed in at half speed for ~2 s
    qtbot.wait(500)
    assert motion(onvif_sim)[-1] == "Stop", "no move may follow the stop"
    assert onvif_sim.snapshot()["zoom"][0] == zoom


def test_focus_buttons_drive_the_imaging_service(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    h = connected(control_harness, onvif_sim, onvif_settings(onvif_sim), "focus_near")
    before = onvif_sim.snapshot()["focus"][0]
    button = h.panel.buttons["focus_near"]
    qtbot.mousePress(button, LEFT)
    qtbot.waitUntil(lambda: moving(onvif_sim, "focus"), timeout=WAIT_MS)
    qtbot.wait(300)
    qtbot.mouseRelease(button, LEFT)
    qtbot.waitUntil(lambda: stops(onvif_sim, "imaging") == 1, timeout=WAIT_MS)
    assert not moving(onvif_sim, "focus")
    assert onvif_sim.snapshot()["focus"][0] < before


def other_window(qtbot: QtBot) -> QWidget:
    other = QWidget()
    qtbot.addWidget(other)
    other.setWindowTitle("another application window")
    other.resize(200, 100)
    return other


@pytest.mark.parametrize(
    "interruption",
    ["window deactivated", "panel hidden", "camera switched", "camera removed"],
)
def test_a_press_ended_by_anything_but_a_release_still_stops_the_camera(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
    interruption: str,
) -> None:
    h = connected(control_harness, onvif_sim, onvif_settings(onvif_sim), "right")
    h.hub.add_camera("other", None)
    button = h.panel.buttons["right"]
    qtbot.mousePress(button, LEFT)
    qtbot.waitUntil(lambda: moving(onvif_sim, "pan"), timeout=WAIT_MS)
    assert button.isDown()

    if interruption == "window deactivated":
        # A real activation change: another top-level window takes the focus mid-press.
        other = other_window(qtbot)
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is other, timeout=WAIT_MS)
    elif interruption == "panel hidden":
        h.panel.hide()
    elif interruption == "camera switched":
        h.panel.set_camera("other")
    else:
        h.remove("cam")

    # The mouse button is still down, yet the camera is told to stop.
    assert not h.panel.holds.active
    assert not button.isDown()
    qtbot.waitUntil(lambda: stops(onvif_sim) == 1, timeout=WAIT_MS)
    assert not moving(onvif_sim, "pan")
    qtbot.mouseRelease(button, LEFT)
    qtbot.wait(400)
    assert motion(onvif_sim)[-1] == "Stop", "no move may follow the stop"
    assert not moving(onvif_sim, "pan")


def send_key(widget: QWidget, kind: QEvent.Type, key: Qt.Key, autorepeat: bool = False) -> None:
    event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, "", autorepeat)
    QApplication.sendEvent(widget, event)


def test_held_key_moves_until_released_and_ignores_auto_repeat(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    h = connected(control_harness, onvif_sim, onvif_settings(onvif_sim), "up")
    target = h.panel  # any widget of the window without text input
    send_key(target, QEvent.Type.KeyPress, Qt.Key.Key_Up)
    assert h.panel.holds.what == "tilt up"
    move = h.panel.holds.move
    qtbot.waitUntil(lambda: moving(onvif_sim, "tilt"), timeout=WAIT_MS)
    # X11 auto-repeat: release/press pairs flagged as repeats. They must not restart the move.
    for _ in range(5):
        send_key(target, QEvent.Type.KeyRelease, Qt.Key.Key_Up, autorepeat=True)
        send_key(target, QEvent.Type.KeyPress, Qt.Key.Key_Up, autorepeat=True)
        qtbot.wait(50)
    assert h.panel.holds.move is move
    assert stops(onvif_sim) == 0
    send_key(target, QEvent.Type.KeyRelease, Qt.Key.Key_Up)
    assert not h.panel.holds.active
    qtbot.waitUntil(lambda: stops(onvif_sim) == 1, timeout=WAIT_MS)
    assert not moving(onvif_sim, "tilt")
    assert onvif_sim.snapshot()["tilt"][0] > 0


def test_keys_are_left_to_text_fields(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    h = connected(control_harness, onvif_sim, onvif_settings(onvif_sim), "zoom_in")
    h.panel.preset_name.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is h.panel.preset_name)
    qtbot.keyClicks(h.panel.preset_name, "Far+")
    assert h.panel.preset_name.text() == "Far+"
    assert not h.panel.holds.active
    assert "ContinuousMove" not in onvif_sim.operations()


def test_stop_button_and_key_stop_every_motor(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    h = connected(control_harness, onvif_sim, onvif_settings(onvif_sim), "zoom_in")
    qtbot.mouseClick(h.panel.stop_button, LEFT)
    qtbot.waitUntil(lambda: stops(onvif_sim) >= 1, timeout=WAIT_MS)
    send_key(h.panel, QEvent.Type.KeyPress, Qt.Key.Key_S)
    send_key(h.panel, QEvent.Type.KeyRelease, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: stops(onvif_sim) >= 2, timeout=WAIT_MS)


def test_held_key_is_let_go_when_the_window_loses_the_focus(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    h = connected(control_harness, onvif_sim, onvif_settings(onvif_sim), "zoom_out")
    send_key(h.panel, QEvent.Type.KeyPress, Qt.Key.Key_Plus)
    assert h.panel.holds.what == "zoom in"
    qtbot.waitUntil(lambda: moving(onvif_sim, "zoom"), timeout=WAIT_MS)
    other = other_window(qtbot)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is other, timeout=WAIT_MS)
    assert not h.panel.holds.active
    qtbot.waitUntil(lambda: stops(onvif_sim) == 1, timeout=WAIT_MS)
    assert not moving(onvif_sim, "zoom")
    # The release arrives later (elsewhere); auto-repeats before it start nothing.
    send_key(h.panel, QEvent.Type.KeyPress, Qt.Key.Key_Plus, autorepeat=True)
    send_key(h.panel, QEvent.Type.KeyRelease, Qt.Key.Key_Plus)
    qtbot.wait(300)
    assert motion(onvif_sim)[-1] == "Stop"
