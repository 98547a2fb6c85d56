"""Camera management: the Add/Edit dialog, rename, remove with confirmation and undo."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialogButtonBox, QMessageBox

from camwall.config import Camera
from camwall.ui.dialogs.camera_dialog import CameraDialog
from camwall.ui.wall.main_window import CameraWall

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

SMALL = "width=160&height=90&fps=10"


def press_ok(qtbot: QtBot, dialog: CameraDialog) -> None:
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok is not None
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def new_dialog(qtbot: QtBot, **kw: object) -> CameraDialog:
    dialog = CameraDialog(**kw)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.mark.parametrize(
    ("url", "name", "expected"),
    [
        ("", "", "enter the camera's URL"),
        ("rtp://10.0.0.1/stream", "", "not supported"),
        ("rtsp://admin:***@10.0.0.1/stream", "", "type the password again"),
        ("synthetic://yard", "door", "already has a camera named 'door'"),
    ],
)
def test_validation_says_what_is_wrong(qtbot: QtBot, url: str, name: str, expected: str) -> None:
    dialog = new_dialog(qtbot, taken_names=["door"])
    dialog.main_edit.setText(url)
    dialog.name_edit.setText(name)
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.entry is None
    assert expected in dialog.message.text()


def test_default_name_is_the_host_and_the_password_leaves_the_url(qtbot: QtBot) -> None:
    dialog = new_dialog(qtbot, taken_names=["cam.example"])
    dialog.main_edit.setText("rtsp://admin:s3cret@cam.example:554/main")
    dialog.sub_edit.setText("rtsp://admin@cam.example:554/sub")
    dialog.transport_box.setCurrentText("udp")
    dialog.record_box.setChecked(True)
    dialog.onvif_group.setChecked(True)
    dialog.onvif_port_box.setValue(8000)
    press_ok(qtbot, dialog)
    entry = dialog.entry
    assert entry is not None and not dialog.isVisible()
    camera = entry.camera
    assert camera.name == "cam.example-2"  # the host (taken, so numbered), never "admin"
    assert camera.url == "rtsp://admin@cam.example:554/main"
    assert entry.password == "s3cret"
    assert "s3cret" not in repr(entry)
    assert (camera.transport, camera.record, camera.detect) == ("udp", True, False)
    assert camera.onvif is not None and camera.onvif.port == 8000


def test_add_from_the_url_box_and_an_empty_cell(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall()
    wall.urlBox.setEditText(f"synthetic://yard?{SMALL}")
    qtbot.mouseClick(wall.addButton, Qt.MouseButton.LeftButton)
    dialog = wall.findChild(CameraDialog, "cameraDialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.main_edit.text() == f"synthetic://yard?{SMALL}"
    dialog.name_edit.setText("Back yard")
    press_ok(qtbot, dialog)
    assert wall.camera_names() == ["Back yard"]
    qtbot.waitUntil(lambda: wall.findChild(CameraDialog, "cameraDialog") is None)

    wall.set_grid_mode(4)
    empty = wall.grid.findChild(object, "emptyCell")
    assert empty is not None and empty.isVisible()
    qtbot.mouseDClick(empty, Qt.MouseButton.LeftButton)
    dialog = wall.findChild(CameraDialog, "cameraDialog")
    assert dialog is not None and dialog.main_edit.text() == ""
    dialog.reject()


def test_edit_keeps_the_place_and_the_password(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall()
    wall.add_camera(Camera(name="a", url=f"synthetic://a?{SMALL}"), start=False)
    wall.add_camera(Camera(name="b", url="rtsp://admin:pw1@127.0.0.1:9/b"), start=False)
    wall.add_camera(Camera(name="c", url=f"synthetic://c?{SMALL}"), start=False)
    changed: list[tuple[str, str]] = []
    wall.camera_changed.connect(lambda old, new: changed.append((old, new)))
    menu = wall.tile("b").context_menu(running=False)
    next(a for a in menu.actions() if a.objectName() == "editAction").trigger()
    dialog = wall.findChild(CameraDialog, "cameraDialog")
    assert dialog is not None
    # Shown without the password; an empty password field keeps it.
    assert dialog.main_edit.text() == "rtsp://admin@127.0.0.1:9/b"
    assert dialog.password_edit.text() == ""
    dialog.name_edit.setText("porch")
    dialog.detect_box.setChecked(True)
    press_ok(qtbot, dialog)
    assert wall.camera_names() == ["a", "porch", "c"]
    assert changed == [("b", "porch")]
    porch = wall.cameras.camera("porch")
    assert porch.url == "rtsp://admin:pw1@127.0.0.1:9/b" and porch.detect


def test_rename_from_the_tile_menu(qtbot: QtBot, make_wall: Callable[..., CameraWall]) -> None:
    wall = make_wall()
    wall.add_camera(Camera(name="127.0.0.1", url=f"synthetic://a?{SMALL}"), start=False)
    dialog = wall.ask_rename_camera("127.0.0.1")
    dialog.setTextValue("Driveway")
    dialog.accept()
    assert wall.camera_names() == ["Driveway"]
    assert wall.tile("Driveway").title == "Driveway"


def test_remove_asks_and_can_be_undone(qtbot: QtBot, make_wall: Callable[..., CameraWall]) -> None:
    wall = make_wall()
    for name in ("a", "b", "c"):
        wall.add_camera(Camera(name=name, url=f"synthetic://{name}?{SMALL}"))
    qtbot.waitUntil(lambda: wall.cameras.is_running("b"))
    menu = wall.tile("b").context_menu(running=True)
    next(a for a in menu.actions() if a.objectName() == "removeAction").trigger()
    box = wall.findChild(QMessageBox, "removeConfirm")
    assert box is not None and box.isVisible()
    assert wall.camera_names() == ["a", "b", "c"]  # nothing happens before the answer
    cancel = box.button(QMessageBox.StandardButton.Cancel)
    assert cancel is not None
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert wall.camera_names() == ["a", "b", "c"]

    box = wall.ask_remove_camera("b")
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert wall.camera_names() == ["a", "c"]
    notice = wall.notifications.notices()[-1]
    assert notice.isVisible() and "Removed b" in notice.text
    undo = notice.button("Undo")
    assert undo is not None
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert wall.camera_names() == ["a", "b", "c"]  # back in its place, and running
    assert wall.cameras.is_running("b")

    wall.remove_camera("a")
    wall.remove_camera("c")
    assert wall.camera_names() == ["b"]
    wall.activateWindow()
    qtbot.waitUntil(wall.isActiveWindow)
    qtbot.keyClick(wall.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert wall.camera_names() == ["b", "c"]
    wall.actionUndoRemove.trigger()
    assert wall.camera_names() == ["a", "b", "c"]
    assert not wall.actionUndoRemove.isEnabled()


def test_a_masked_url_never_goes_into_the_dialog(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall()
    wall.add_camera(Camera(name="b", url="rtsp://admin:pw1@127.0.0.1:9/b"), start=False)
    wall.select_camera("b")
    assert "***" in wall.urlBox.currentText()
    dialog = wall.open_camera_dialog(url=wall._box_url_for_dialog())
    assert dialog.main_edit.text() == ""
    dialog.reject()


def test_edit_keeps_what_the_dialog_does_not_show(qtbot: QtBot) -> None:
    original = Camera(
        name="gate",
        url="rtsp://admin@10.0.0.5/main",
        password_env="GATE_PW",
        detect_fps=2.0,
        masks=(((0.0, 0.0), (10.0, 0.0), (10.0, 10.0)),),
    )
    dialog = new_dialog(qtbot, camera=original, taken_names=["gate", "yard"])
    assert dialog.name_edit.text() == "gate"  # its own name is not "taken"
    dialog.record_box.setChecked(True)
    press_ok(qtbot, dialog)
    assert dialog.entry is not None
    edited = dialog.entry.camera
    assert edited.record and edited.password_env == "GATE_PW"
    assert edited.detect_fps == 2.0 and edited.masks == original.masks
