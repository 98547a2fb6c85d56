"""Help → Keyboard shortcuts and About: what every key does, and what this is."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QAction, QDialog, QLabel, QMenu, QMessageBox, QVBoxLayout

from camwall import __version__

if TYPE_CHECKING:
    from camwall.ui.wall.host import WallHost

__all__ = ["HelpMenu", "shortcut_rows"]

#: Keys and gestures that are not menu actions (handled by tiles and the control panel).
GESTURES: tuple[tuple[str, str], ...] = (
    ("Double-click a tile", "Fill the window with that camera / back to the grid"),
    ("Double-click an empty cell", "Add a camera there"),
    ("Drag a tile onto another", "Put it in that place"),
    ("Wheel on a tile", "Digital zoom; drag to pan the zoomed picture"),
    ("0 or Home", "Reset the digital zoom"),
    ("Drag from the picture's centre", "Pan and tilt a PTZ camera"),
    ("Arrows, +/−, N/F", "Pan/tilt, zoom, focus the selected camera (hold)"),
    ("1…9", "Go to preset N of the selected camera"),
    ("Right-click a tile", "Snapshot, details, edit, rename, record, detect, remove"),
    ("Space , . [ ] (in review)", "Play/pause, frame back/forward, previous/next event"),
    ("Click/drag the timeline", "Review: move the cursor; wheel zooms, shift-drag selects"),
)


def shortcut_rows(window: WallHost) -> list[tuple[str, str]]:
    """(keys, what) for every action of the window with a shortcut, then the gestures."""
    rows: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "").rstrip("…").strip()
        if keys and text and keys not in rows:
            rows[keys] = text
    return sorted(rows.items(), key=lambda kv: kv[1].lower()) + list(GESTURES)


class HelpMenu(QMenu):
    """The Help menu of ``window``."""

    def __init__(self, window: WallHost) -> None:
        """Add Help to ``window``'s menu bar."""
        super().__init__("&Help", window)
        self.setObjectName("menuHelp")
        self._window = window
        shortcuts = self.addAction("&Keyboard shortcuts…")
        assert shortcuts is not None
        shortcuts.setObjectName("actionShortcuts")
        shortcuts.setShortcut(QKeySequence("F1"))
        shortcuts.triggered.connect(self._on_shortcuts)
        window.addAction(shortcuts)  # F1 works in wall mode too
        about = self.addAction("&About camwall")
        assert about is not None
        about.setObjectName("actionAbout")
        about.triggered.connect(self._on_about)
        window.menubar.addMenu(self)

    def _on_shortcuts(self) -> None:
        self.show_shortcuts()

    def _on_about(self) -> None:
        self.show_about()

    def show_shortcuts(self) -> QDialog:
        """A (non-modal) table of every key and gesture."""
        dialog = QDialog(self._window)
        dialog.setObjectName("shortcutsDialog")
        dialog.setWindowTitle("Keyboard shortcuts")
        body = "".join(
            f"<tr><td style='padding:2px 16px 2px 0'><b>{html.escape(k)}</b></td>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in shortcut_rows(self._window)
        )
        label = QLabel(f"<table>{body}</table>", dialog)
        label.setObjectName("shortcutsTable")
        label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(dialog)
        layout.addWidget(label)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()
        return dialog

    def show_about(self) -> QMessageBox:
        """What camwall is, its version, where it runs (non-modal)."""
        box = QMessageBox(self._window)
        box.setObjectName("aboutBox")
        box.setWindowTitle("About camwall")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(
            f"<h3>camwall {html.escape(__version__)}</h3>"
            "<p>A camera wall for high-resolution network cameras: every camera decoded once "
            "into shared memory, shown without copies; recording, detection and ONVIF control "
            "from one runtime.</p><p>MIT licence.</p>"
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        box.open()
        return box
