"""WallReview: review mode in the wall window (View → Review, F5), and back to live.

The window keeps three hooks: ``WallReview(window)`` once its grid and cameras exist,
:meth:`WallReview.begin_close` on the UI thread when it starts closing, and
:meth:`WallReview.close` off the UI thread before the runtime is closed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QAction

from camwall.ui.review.controller import ReviewController
from camwall.ui.review.events import ReviewEvents
from camwall.ui.review.export import ExportDialog
from camwall.ui.review.panel import ReviewPanel

if TYPE_CHECKING:
    from camwall.ui.wall.main_window import CameraWall

log = logging.getLogger(__name__)


class WallReview:
    """Review mode of one wall window; see the module docstring."""

    def __init__(self, window: CameraWall) -> None:
        """Add the menu action, the panel under the grid and the event dock."""
        self.window = window
        self.controller = ReviewController(window.runtime, window.cameras, window)
        self.panel = ReviewPanel(self.controller, window.gridHost)
        window.gridHost.layout().addWidget(self.panel)
        self.events = ReviewEvents(
            self.controller, window, range_of=lambda: self.panel.timeline.visible_range
        )
        self.export_dialog: ExportDialog | None = None
        self._dialogs: list[ExportDialog] = []  # each owns an export thread until close()
        self.action = QAction("&Review recordings", window)
        self.action.setObjectName("actionReview")
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("F5"))
        self.action.setToolTip("Go back in time on every camera of the wall (F5: back to live)")
        self.action.triggered.connect(self.set_active)
        window.menuView.addAction(self.action)
        window.addAction(self.action)
        self.panel.liveButton.clicked.connect(lambda: self.set_active(False))
        self.panel.exportButton.clicked.connect(lambda: self._export_clicked())
        self.controller.active_changed.connect(self.action.setChecked)
        self.controller.message.connect(lambda text: window.statusbar.showMessage(text, 5000))

    @property
    def active(self) -> bool:
        """True while the wall is in review mode."""
        return self.controller.active

    def set_active(self, on: bool) -> None:
        """Enter review (the tiles show recordings) or go back to live."""
        if on:
            self.controller.enter()
            self.action.setChecked(self.controller.active)
        else:
            self.controller.leave()

    def open_export(self) -> ExportDialog | None:
        """The export dialog for the timeline's selection (None if nothing is selected)."""
        selection = self.panel.timeline.selection
        index = self.controller.index
        if selection is None or index is None:
            return None
        folder = Path(self.window.snapshot_dir).parent / "camwall-exports"
        self.export_dialog = ExportDialog(
            index, self.controller.cameras, *selection, folder=folder, parent=self.window
        )
        self._dialogs.append(self.export_dialog)
        self.export_dialog.show()
        return self.export_dialog

    def _export_clicked(self) -> None:
        self.open_export()

    def begin_close(self) -> None:
        """UI thread, the window closing: tiles let go of playback rings."""
        self.controller.begin_close()

    def close(self, timeout: float = 10.0) -> None:
        """Off the UI thread: stop playback workers and export and review threads."""
        for dialog in self._dialogs:
            dialog.shutdown()  # waits for an export under way
        self.events.close_loader()
        self.controller.close(timeout)
