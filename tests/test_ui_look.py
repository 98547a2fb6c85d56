"""Looks like a desktop app: dark theme by default (light on request), Help → shortcuts and
About, and correct at a device pixel ratio of 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtGui import QPalette
from qtpy.QtWidgets import QApplication

from camwall import __version__
from camwall.ui.wall.help_menu import shortcut_rows
from camwall.ui.wall.main_window import CameraWall

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def restore_look(qapp: QApplication) -> Iterator[None]:
    style = qapp.style()
    # QStyle.name() is Qt 6 only; the style's object name is the same in Qt 5 and 6.
    name = (style.objectName() or "fusion") if style is not None else "fusion"
    palette = qapp.palette()
    yield
    qapp.setStyle(name)
    qapp.setPalette(palette)


def test_dark_by_default_and_light_on_request(
    qtbot: QtBot, make_wall: Callable[..., CameraWall], restore_look: None
) -> None:
    wall = make_wall()
    assert wall.saved_theme() == "dark"  # nothing chosen yet
    wall.set_theme(wall.saved_theme())
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = app.palette().color(QPalette.ColorRole.Window)
    assert window.lightness() < 60
    assert wall.theme_actions["dark"].isChecked()
    wall.theme_actions["light"].trigger()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
    assert wall.theme_actions["light"].isChecked() and not wall.theme_actions["dark"].isChecked()


def test_help_lists_the_shortcuts_and_about_says_what_this_is(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall()
    rows = dict(shortcut_rows(wall))
    assert rows["F11"].startswith("Wall mode")
    assert rows["Ctrl+Z"] == "Undo remove"
    assert rows["Alt+3"] == "Camera 3 alone"
    assert "Drag from the picture's centre" in rows
    dialog = wall.help_menu.show_shortcuts()
    assert dialog.isVisible()
    dialog.close()
    box = wall.help_menu.show_about()
    assert box.isVisible() and __version__ in box.text()
    box.close()


_HIDPI = r"""
import json, sys
from qtpy.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from camwall.capture import CameraState
from camwall.config import Camera
from camwall.ui.view.view_painting import placeholder_layout
from camwall.ui.wall.main_window import CameraWall
wall = CameraWall(mode="thread")
wall.resize(760, 520)
wall.show()
tile = wall.add_camera(Camera(name="door", url="rtsp://127.0.0.1:9/x"), start=False)
tile.set_state(CameraState.FAILED, "rtsp://127.0.0.1:9/x: 127.0.0.1:9 refused the connection: "
               "nothing listens on that port (check the port and that the camera's streaming "
               "service is on)")
wall.set_grid_mode(4)
for _ in range(20):
    app.processEvents()
image = tile.grab().toImage()
blocks = placeholder_layout(tile.rect(), tile.status_lines())
print(json.dumps({
    "ratio": tile.devicePixelRatioF(),
    "logical": [tile.width(), tile.height()],
    "pixels": [image.width(), image.height()],
    "inside": all(tile.rect().contains(b.rect) for b in blocks),
    "kept": len(blocks) == len(tile.status_lines()),
    "minimum": [wall.minimumSizeHint().width(), wall.minimumSizeHint().height()],
}))
wall.shutdown_now()
"""


def test_high_dpi_scale_factor_2(tmp_path: Path) -> None:
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", _HIDPI], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["ratio"] == 2.0
    w, h = got["logical"]
    assert got["pixels"] == [2 * w, 2 * h]  # painted at device resolution
    assert got["inside"] and got["kept"]  # the reason fits, in logical units
