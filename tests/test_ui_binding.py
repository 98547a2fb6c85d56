"""The Qt binding in use does not corrupt reference counts (it did: PySide6 6.12.0).

On Python 3.11, True, False and None are ordinary reference-counted objects; a binding that
drops a reference to one of them on every call makes a long-running wall abort minutes in
("Fatal Python error: bool_dealloc" / "none_dealloc"). These tests name the broken binding
instead of leaving a mysterious crash (pyproject.toml excludes the known bad release).
"""

from __future__ import annotations

import sys

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QObject
from qtpy.QtGui import QImage, QPainter
from qtpy.QtWidgets import QWidget

from camwall.ui.qt_compat import Signal

pytestmark = [
    pytest.mark.qt,
    pytest.mark.skipif(sys.version_info >= (3, 12), reason="immortal singletons from Python 3.12"),
]
CALLS = 200


class _Emitter(QObject):
    fired = Signal(str)


def _refs() -> tuple[int, int, int]:
    return sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)


def test_signal_emit_keeps_references(qtbot: QtBot) -> None:
    """PySide6 6.12.0 lost a reference to True on every emit()."""
    emitter = _Emitter()
    before = _refs()
    for _ in range(CALLS):
        emitter.fired.emit("x")
    after = _refs()
    assert after == before, (
        f"the Qt binding lost references (True, False, None) {before} → {after} in {CALLS} emits"
    )


def test_void_calls_keep_references(qtbot: QtBot) -> None:
    """PySide6 6.12.0 lost a reference to None on every Qt call that returns nothing."""
    widget = QWidget()
    qtbot.addWidget(widget)
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        before = _refs()
        for _ in range(CALLS):
            widget.update()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.save()
            painter.restore()
        after = _refs()
    finally:
        painter.end()
    assert after == before, f"the Qt binding lost references (True, False, None) {before} → {after}"
