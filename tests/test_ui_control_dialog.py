"""The "Add ONVIF camera…" dialog against the ONVIF simulator: streams, errors, busy state."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialogButtonBox, QLabel, QLineEdit

from fixtures.control_ui import ControlHarness
from support.onvif_sim import OnvifSimulator

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 20000


def make_dialog(qtbot: QtBot, h: ControlHarness, sim: OnvifSimulator, password: str) -> object:
    from camwall.ui.dialogs.onvif_dialog import OnvifCameraDialog

    dialog = OnvifCameraDialog(h.hub, h.window, taken_names=["127.0.0.1"], timeout_s=5.0)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.host_edit, sim.host)
    dialog.port_box.setValue(sim.port)
    qtbot.keyClicks(dialog.user_edit, sim.config.user)
    qtbot.keyClicks(dialog.password_edit, password)
    return dialog


def shown_texts(dialog: object) -> list[str]:
    """Every text the dialog shows: labels, fields as displayed (password dots), title."""
    texts = [dialog.windowTitle()]  # type: ignore[attr-defined]
    for label in dialog.findChildren(QLabel):  # type: ignore[attr-defined]
        texts.append(label.text())
    for edit in dialog.findChildren(QLineEdit):  # type: ignore[attr-defined]
        if edit.echoMode() == QLineEdit.EchoMode.Normal:
            texts.append(edit.text())
    return texts


def test_dialog_finds_main_and_sub_streams(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    make_onvif_sim: Callable[..., OnvifSimulator],
) -> None:
    sim = make_onvif_sim(rtsp_base="rtsp://127.0.0.1:10554/live")
    h = control_harness()
    d = make_dialog(qtbot, h, sim, sim.config.password)
    ok = d.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # nothing found yet
    qtbot.mouseClick(d.find_button, LEFT)
    assert d.busy and d.progress.isVisible() and not d.find_button.isEnabled()
    qtbot.waitUntil(lambda: not d.busy, timeout=WAIT_MS)
    assert d.main_edit.text() == "rtsp://127.0.0.1:10554/live/main"
    assert d.sub_edit.text() == "rtsp://127.0.0.1:10554/live/sub"
    assert "2560×1440" in d.main_info.text() and "640×360" in d.sub_info.text()
    assert d.name_edit.text() == "127.0.0.1-2"  # "127.0.0.1" is taken
    assert ok.isEnabled() and not d.progress.isVisible()
    assert all(sim.config.password not in text for text in shown_texts(d))

    camera = d.camera()
    assert camera.name == "127.0.0.1-2"
    user, password = sim.config.user, sim.config.password
    assert camera.url == f"rtsp://{user}:{password}@127.0.0.1:10554/live/main"
    assert camera.substream_url == f"rtsp://{user}:{password}@127.0.0.1:10554/live/sub"
    assert camera.onvif is not None
    assert (camera.onvif.host, camera.onvif.port) == (sim.host, sim.port)
    assert camera.onvif.user == user
    # The ONVIF login is the stream's account: its password comes from the URL, not a copy.
    endpoint = camera.onvif_settings()
    assert endpoint is not None and endpoint.password == password
    assert password not in camera.display_url and password not in repr(camera.onvif)
    assert password not in h.log_text()
    # The log panel receives records through a queued signal: give it a moment.
    h.qtbot.waitUntil(lambda: "found 2 stream(s)" in h.log_text(), timeout=5000)


def test_wrong_password_says_so_without_showing_it(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    onvif_sim: OnvifSimulator,
) -> None:
    h = control_harness()
    wrong = "guessed-Pa55"
    d = make_dialog(qtbot, h, onvif_sim, wrong)
    qtbot.mouseClick(d.find_button, LEFT)
    qtbot.waitUntil(lambda: not d.busy, timeout=WAIT_MS)
    assert d.message.text().startswith("Login failed")
    assert d.main_edit.text() == ""
    assert not d.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert d.find_button.isEnabled() and d.password_edit.isEnabled()
    for text in [*shown_texts(d), h.log_text()]:
        assert wrong not in text and onvif_sim.config.password not in text


def test_unreachable_and_slow_cameras_and_cancelling(
    qtbot: QtBot,
    control_harness: Callable[[], ControlHarness],
    make_onvif_sim: Callable[..., OnvifSimulator],
) -> None:
    h = control_harness()
    slow = make_onvif_sim(delay_s=3.0)
    gone = make_onvif_sim()
    port = gone.port
    gone.stop()
    d = make_dialog(qtbot, h, slow, "x")
    d.port_box.setValue(port)
    qtbot.mouseClick(d.find_button, LEFT)
    qtbot.waitUntil(lambda: not d.busy, timeout=WAIT_MS)
    assert d.message.text().startswith("Cannot reach 127.0.0.1:"), d.message.text()

    # A camera that answers too slowly: the dialog stays usable and Stop ends the wait.
    d.port_box.setValue(slow.port)
    qtbot.mouseClick(d.find_button, LEFT)
    assert d.busy
    cancel = d.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel.text() == "Stop"
    qtbot.mouseClick(cancel, LEFT)
    assert not d.busy and d.isVisible() and d.message.text() == "Cancelled."
    assert cancel.text() == "Cancel"

    # Bad input is explained before anything is sent.
    d.host_edit.setText("http://cam")
    qtbot.mouseClick(d.find_button, LEFT)
    assert not d.busy and "invalid camera host" in d.message.text()
