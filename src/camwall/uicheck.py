"""Can this machine show the wall? Checked before Qt is imported, so failures are one line.

Qt aborts the process (with a page about xcb plugins) when there is no display or when its
X11 libraries are missing; people then chase packages. :func:`wall_unavailable` finds both
cases first and says what to do. No Qt is imported here.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import sys

#: The X11 libraries Qt 6's xcb platform plugin loads (Debian package names in brackets).
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-image": "libxcb-image0",
    "xcb-shape": "libxcb-shape0",
}
_BINDINGS = ("PySide6", "PyQt6", "PyQt5")


def wall_unavailable() -> str | None:
    """Why the wall cannot open here (one line saying what to do), or None if it can."""
    if not any(importlib.util.find_spec(name) for name in _BINDINGS):
        return (
            "the wall needs a Qt binding and none is installed: "
            'pip install "camwall[ui]" (PySide6), or run without a window: camwall run --headless'
        )
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform not in ("", "xcb"):
        return None  # offscreen, wayland, vnc…: Qt's own business
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return (
            "no display (DISPLAY and WAYLAND_DISPLAY are unset): run camwall on a desktop, "
            "or without a window: camwall run --headless"
        )
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return None
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    if missing:
        return (
            "Qt's X11 libraries are missing; install them with: "
            f"sudo apt-get install {' '.join(missing)}"
        )
    return None
