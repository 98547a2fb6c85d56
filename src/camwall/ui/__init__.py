"""camwall's Qt user interface: the video view, the camera wall window, the log panel.

The only package that imports Qt, always through ``qtpy``. PySide6 is the default binding;
set ``QT_API=pyqt5`` (or ``pyqt6``) before the first import to use another.
"""

from __future__ import annotations

import os

# qtpy's own default is PyQt5; camwall's is PySide6 (a hard dependency, LGPL).
os.environ.setdefault("QT_API", "pyside6")

from camwall.ui.view.frame_clock import FrameClock
from camwall.ui.view.qimage import wrap_frame
from camwall.ui.view.video_view import VideoView
from camwall.ui.view.view_stats import ViewStats

__all__ = [
    "CameraWall",
    "FrameClock",
    "VideoView",
    "ViewStats",
    "run_wall",
    "wrap_frame",
]


def __getattr__(name: str) -> object:
    # The window pulls in the capture supervisor and more widgets; embedders who only want
    # a VideoView should not pay for them.
    if name == "CameraWall":
        from camwall.ui.wall.main_window import CameraWall

        return CameraWall
    if name == "run_wall":
        from camwall.ui.wall.app import run_wall

        return run_wall
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
