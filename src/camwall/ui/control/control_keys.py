"""Keyboard shortcuts of the control panel, with press-and-hold keys that always let go.

Hold keys (arrows, ``+``/``-``, ``N``/``F``) move the camera from the key press to the key
release; the keyboard's auto-repeat (which on X11 sends release/press pairs) is ignored, so a
held key is one move. The other keys act once. Shortcuts work anywhere in the panel's window
while the panel is shown, except when a text field, list, slider or the log has the keyboard
(there the keys keep their usual meaning). The list is :data:`camwall.ui.control.control_panel.SHORTCUTS`.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtGui import QKeyEvent
from qtpy.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from camwall.ui.control.control_panel import ControlPanel

K = Qt.Key
#: Keys that hold a move, and the move (a key of ``control_panel.MOVES``).
HOLD_KEYS: dict[int, str] = {
    K.Key_Left: "left",
    K.Key_Right: "right",
    K.Key_Up: "up",
    K.Key_Down: "down",
    K.Key_Plus: "zoom_in",
    K.Key_Equal: "zoom_in",
    K.Key_Minus: "zoom_out",
    K.Key_N: "focus_near",
    K.Key_F: "focus_far",
}
_PRESET_KEYS: dict[int, int] = {
    k: n
    for n, k in enumerate(
        (K.Key_1, K.Key_2, K.Key_3, K.Key_4, K.Key_5, K.Key_6, K.Key_7, K.Key_8, K.Key_9),
        start=1,
    )
}
#: Widgets that keep their own use of the keys while they have the keyboard.
_KEEP_KEYS = (
    QLineEdit,
    QAbstractSpinBox,
    QComboBox,
    QTextEdit,
    QPlainTextEdit,
    QAbstractItemView,
    QAbstractSlider,
)
_KEY_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.KeyRelease})
_BLOCKING_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


def _key(event: QKeyEvent) -> int:
    return int(event.key())


class ControlKeys(QObject):
    """An application-wide key filter for one control panel; :meth:`uninstall` it when done."""

    def __init__(self, panel: ControlPanel, home: QWidget | None = None) -> None:
        """Handle the panel's shortcuts in its window and in ``home`` (the main window)."""
        super().__init__(panel)
        self._panel = panel
        self._home = home
        self._down: set[int] = set()
        self._actions: dict[int, Callable[[], None]] = {
            K.Key_A: panel.toggle_auto_focus,
            K.Key_O: panel.one_push_focus,
            K.Key_S: panel.stop_motors,
        }
        panel.holds.hold_changed.connect(self._on_hold_changed)
        app = QApplication.instance()
        self._app = app
        if app is not None:
            app.installEventFilter(self)

    def uninstall(self) -> None:
        """Stop handling keys (idempotent)."""
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None

    def _on_hold_changed(self, what: str) -> None:
        if not what:
            self._down.clear()

    def _applies(self, watched: QObject | None, event: QKeyEvent) -> bool:
        panel = self._panel
        if panel.camera is None or not panel.isVisible():
            return False
        if not isinstance(watched, QWidget):
            return False
        window = watched.window()
        if window is not panel.window() and window is not self._home:
            return False
        if event.modifiers() & _BLOCKING_MODIFIERS:
            return False
        focus = QApplication.focusWidget()
        return not isinstance(focus, _KEEP_KEYS)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        """Handle the panel's keys; let every other event through."""
        # Every event of the application passes here (paints too): leave the others fast.
        if event is None:
            return False
        kind = event.type()
        if kind not in _KEY_EVENTS or not isinstance(event, QKeyEvent):
            return False
        key = _key(event)
        if kind == QEvent.Type.KeyRelease:
            if key not in self._down:
                return False
            if not event.isAutoRepeat():
                self._down.discard(key)
                self._panel.release(("key", key), "key released")
            return True
        if key in self._down:
            return True  # auto-repeat of a held key (also where it arrives without the flag)
        if not self._applies(watched, event):
            return False
        if key in HOLD_KEYS:
            if event.isAutoRepeat():
                return True
            window = watched.window() if isinstance(watched, QWidget) else None
            if self._panel.press(HOLD_KEYS[key], source=("key", key), window=window):
                self._down.add(key)
            return True
        if event.isAutoRepeat():
            return key in self._actions or key in _PRESET_KEYS
        if key in self._actions:
            self._actions[key]()
            return True
        if key in _PRESET_KEYS:
            self._panel.goto_preset_number(_PRESET_KEYS[key])
            return True
        return False
