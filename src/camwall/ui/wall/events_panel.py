"""The Events side panel: recent objects the detector saw, newest first, with thumbnails.

One row per track: when it appeared (camera, label, score, the snapshot scaled down), and,
once it left, for how long it was there. Thumbnails are decoded off the UI thread (a JPEG of
a 1440p frame takes tens of ms; ``QImageReader`` scales while decoding) and arrive queued.
A double click opens the snapshot. Snapshots are rate-limited per camera and label, so a
row without one shows a placeholder with its label instead of a hole.
"""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import QSize, Qt, QUrl
from qtpy.QtGui import QDesktopServices, QIcon, QImage, QPixmap
from qtpy.QtWidgets import QDockWidget, QListWidget, QListWidgetItem

from camwall.detect.messages import TrackEvent
from camwall.ui.qt_compat import Signal, connect_queued
from camwall.ui.view.thumbnails import PlaceholderIcons, load_thumbnail

if TYPE_CHECKING:
    from qtpy.QtWidgets import QMainWindow

__all__ = ["EventsPanel"]

#: Rows kept (older ones drop off the bottom).
MAX_ROWS = 200
THUMB = QSize(128, 72)
_PATH_ROLE = int(getattr(Qt.ItemDataRole.UserRole, "value", Qt.ItemDataRole.UserRole)) + 1


def _row_text(event: TrackEvent, left_after_s: float | None = None) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(event.time))
    text = f"{stamp}  {event.label} · {event.camera}\nscore {event.best_score:.2f}"
    if left_after_s is not None:
        text += f" · left after {left_after_s:.0f} s"
    return text


class EventsPanel(QDockWidget):
    """A dock listing recent track events; see the module docstring."""

    _thumbnail_ready = Signal(object, object)  # (camera, track id), QImage

    def __init__(self, window: QMainWindow) -> None:
        """A hidden dock on ``window``'s right (View → Events panel shows it)."""
        super().__init__("Events", window)
        self.setObjectName("eventsDock")
        self.list = QListWidget(self)
        self.list.setObjectName("eventsList")
        self.list.setIconSize(THUMB)
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(True)
        self.list.setMinimumWidth(THUMB.width() + 210)  # thumbnail and two short lines
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.itemDoubleClicked.connect(self._open)
        # Rows without a snapshot (yet, or rate-limited) get a placeholder with their label.
        self._placeholders = PlaceholderIcons(THUMB)
        self.setWidget(self.list)
        self._rows: dict[tuple[str, int], QListWidgetItem] = {}
        self._appeared: dict[tuple[str, int], float] = {}
        self._loader = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="camwall-thumbs"
        )
        self._pending: list[concurrent.futures.Future[None]] = []
        connect_queued(self._thumbnail_ready, self._set_thumbnail)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self)
        self.hide()

    def add(self, event: TrackEvent) -> None:
        """Show ``event``: a new row when an object appeared, its duration when it left."""
        key = (event.camera, event.track_id)
        if event.kind == "left":
            row = self._rows.get(key)
            since = self._appeared.pop(key, None)
            if row is not None and since is not None:
                shown = row.text().split(" · left after")[0]
                row.setText(f"{shown} · left after {event.time - since:.0f} s")
            return
        item = QListWidgetItem(self._placeholders.icon(event.label), _row_text(event))
        item.setSizeHint(QSize(THUMB.width() + 180, THUMB.height() + 8))
        if not event.snapshot:
            item.setToolTip("No snapshot: one is kept per camera and label every few seconds")
        else:
            item.setData(_PATH_ROLE, event.snapshot)
            item.setToolTip(event.snapshot)
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._loader.submit(self._load, key, event.snapshot))
        self.list.insertItem(0, item)
        self._rows[key] = item
        self._appeared[key] = event.time
        while self.list.count() > MAX_ROWS:
            old = self.list.takeItem(self.list.count() - 1)
            self._rows = {k: v for k, v in self._rows.items() if v is not old}

    def rows(self) -> list[str]:
        """The rows' texts, newest first (tests)."""
        return [self.list.item(i).text() for i in range(self.list.count())]  # type: ignore[union-attr]

    def has_thumbnail(self, row: int) -> bool:
        """True once row ``row`` shows its snapshot."""
        item = self.list.item(row)
        return item is not None and not self._placeholders.is_placeholder(item.icon())

    def _load(self, key: tuple[str, int], path: str) -> None:
        image = load_thumbnail(path, THUMB)  # the loader thread
        if image is not None:
            self._thumbnail_ready.emit(key, image)

    def _set_thumbnail(self, key: tuple[str, int], image: QImage) -> None:
        item = self._rows.get(key)
        if item is not None:
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    def _open(self, item: QListWidgetItem) -> None:
        path = item.data(_PATH_ROLE)
        if isinstance(path, str) and path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path))))

    def close_loader(self) -> None:
        """Stop the thumbnail thread (the window is closing)."""
        self._loader.shutdown(wait=True, cancel_futures=True)
