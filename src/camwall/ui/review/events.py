"""The review's event list: recorded events filtered by camera, label and time; a click seeks.

Rows come from the recordings index (asked on the review's worker thread); snapshot
thumbnails are decoded on a thread of the list's own (``QImageReader`` scales while decoding) and arrive queued.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable

from qtpy.QtCore import QSize, Qt
from qtpy.QtGui import QIcon, QImage, QPixmap
from qtpy.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from camwall.config.names import safe_name
from camwall.record.records import RecordedEvent
from camwall.ui.qt_compat import Signal, connect_queued
from camwall.ui.review.controller import ReviewController
from camwall.ui.view.thumbnails import PlaceholderIcons, load_thumbnail

THUMB = QSize(112, 63)
#: Rows shown at most (the newest).
MAX_ROWS = 500
#: Time filters: label → seconds back from the cursor's end of the range (None: all).
WINDOWS: tuple[tuple[str, float | None], ...] = (
    ("Timeline range", -1.0),
    ("Last hour", 3600.0),
    ("Last 24 h", 86400.0),
    ("All", None),
)
_EVENT_ROLE = int(getattr(Qt.ItemDataRole.UserRole, "value", Qt.ItemDataRole.UserRole)) + 1


def row_text(event: RecordedEvent) -> str:
    """Two lines: when, what, where; how long and how sure."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.start))
    text = f"{stamp}  {event.label} · {event.camera}"
    extra = []
    if event.end is not None and event.end > event.start:
        extra.append(f"{event.end - event.start:.0f} s")
    if event.score is not None:
        extra.append(f"score {event.score:.2f}")
    if event.kind == "state" and event.detail:
        extra.append(event.detail)
    return text + ("\n" + " · ".join(extra) if extra else "")


class ReviewEvents(QDockWidget):
    """A dock listing recorded events of the cameras in review; see the module docstring."""

    _thumb_ready = Signal(object)  # (event id, QImage) or None

    def __init__(
        self,
        controller: ReviewController,
        window: QMainWindow,
        range_of: Callable[[], tuple[float, float]] | None = None,
    ) -> None:
        """A hidden dock on ``window``'s right; shown with review."""
        super().__init__("Recorded events", window)
        self.setObjectName("reviewEventsDock")
        self.controller = controller
        self._range_of = range_of  # a callable giving the timeline's (start, end)
        body = QWidget(self)
        self.cameraBox = QComboBox(body)
        self.cameraBox.setObjectName("reviewEventsCamera")
        self.labelEdit = QLineEdit(body)
        self.labelEdit.setObjectName("reviewEventsLabel")
        self.labelEdit.setPlaceholderText("labels: person, car…")
        self.windowBox = QComboBox(body)
        self.windowBox.setObjectName("reviewEventsWindow")
        for text, seconds in WINDOWS:
            self.windowBox.addItem(text, seconds)
        self.list = QListWidget(body)
        self.list.setObjectName("reviewEventsList")
        self.list.setIconSize(THUMB)
        self.list.setUniformItemSizes(True)
        self.list.setMinimumWidth(THUMB.width() + 220)
        filters = QHBoxLayout()
        filters.addWidget(self.cameraBox)
        filters.addWidget(self.labelEdit, 1)
        filters.addWidget(self.windowBox)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(filters)
        layout.addWidget(self.list)
        self.setWidget(body)
        self._placeholders = PlaceholderIcons(THUMB)
        self._query = 0
        # Thumbnails have their own thread: dozens of JPEG decodes must not hold up seeks.
        self._loader = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="camwall-review-thumbs"
        )
        self._items: dict[int, QListWidgetItem] = {}
        self.cameraBox.currentIndexChanged.connect(lambda _: self.reload())
        self.windowBox.currentIndexChanged.connect(lambda _: self.reload())
        self.labelEdit.editingFinished.connect(self.reload)
        self.list.itemClicked.connect(self._on_clicked)
        controller.on_result["events"] = self._on_rows
        connect_queued(self._thumb_ready, self._on_thumb)
        controller.active_changed.connect(self._on_active)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self)
        self.hide()

    # -- loading ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """Ask the index for the rows matching the filters (answer arrives queued)."""
        index = self.controller.index
        if index is None:
            return
        camera = self.cameraBox.currentData()
        cameras = [camera] if camera else self.controller.cameras
        wanted = {safe_name(c): c for c in cameras}
        labels = [s.strip() for s in self.labelEdit.text().split(",") if s.strip()] or None
        start, end = self._time_window()
        self._query += 1
        query = self._query

        def fetch() -> tuple[int, list[RecordedEvent]]:
            rows = [e for e in index.events(None, start, end, labels=labels) if e.camera in wanted]
            return query, rows[-MAX_ROWS:][::-1]

        self.controller.submit("events", fetch)

    def _time_window(self) -> tuple[float | None, float | None]:
        seconds = self.windowBox.currentData()
        if seconds is None:
            return None, None
        if seconds < 0 and self._range_of is not None:
            start, end = self._range_of()
            return float(start), float(end)
        now = time.time()
        return now - float(seconds), None

    def _on_rows(self, result: tuple[int, list[RecordedEvent]]) -> None:
        query, rows = result
        if query != self._query:
            return  # an older query's answer
        self.list.clear()
        self._items = {}
        for event in rows:
            item = QListWidgetItem(self._placeholders.icon(event.label), row_text(event))
            item.setData(_EVENT_ROLE, event)
            item.setSizeHint(QSize(THUMB.width() + 200, THUMB.height() + 6))
            self.list.addItem(item)
            if event.id is not None:
                self._items[event.id] = item
            if event.snapshot and event.id is not None:
                job = self._thumbnail_job(event.id, event.snapshot)
                try:
                    self._loader.submit(job)
                except RuntimeError:  # shut down: the window is closing
                    return

    def _thumbnail_job(self, event_id: int, path: str) -> Callable[[], None]:
        load = _thumbnail_job(event_id, path)

        def run() -> None:
            self._thumb_ready.emit(load())

        return run

    def _on_thumb(self, result: tuple[int, QImage] | None) -> None:
        if result is None:
            return
        event_id, image = result
        item = self._items.get(event_id)
        if item is not None:
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    # -- using it --------------------------------------------------------------------------------

    def close_loader(self) -> None:
        """Stop the thumbnail thread (the window is closing; off the UI thread)."""
        self._loader.shutdown(wait=True, cancel_futures=True)

    def rows(self) -> list[str]:
        """The rows' texts, top to bottom (tests)."""
        return [self.list.item(i).text() for i in range(self.list.count())]  # type: ignore[union-attr]

    def row_event(self, row: int) -> RecordedEvent | None:
        """The event of row ``row``."""
        item = self.list.item(row)
        event = None if item is None else item.data(_EVENT_ROLE)
        return event if isinstance(event, RecordedEvent) else None

    def has_thumbnail(self, row: int) -> bool:
        """True once row ``row`` shows its snapshot."""
        item = self.list.item(row)
        return item is not None and not self._placeholders.is_placeholder(item.icon())

    def _on_clicked(self, item: QListWidgetItem) -> None:
        event = item.data(_EVENT_ROLE)
        if isinstance(event, RecordedEvent):
            self.controller.seek_to(event.start)

    def _on_active(self, active: bool) -> None:
        if not active:
            self.hide()
            return
        self.cameraBox.blockSignals(True)
        self.cameraBox.clear()
        self.cameraBox.addItem("All cameras", "")
        for name in self.controller.cameras:
            self.cameraBox.addItem(name, name)
        self.cameraBox.blockSignals(False)
        self.show()
        self.reload()


def _thumbnail_job(event_id: int, path: str) -> Callable[[], tuple[int, QImage] | None]:
    def load() -> tuple[int, QImage] | None:
        image = load_thumbnail(path, THUMB)  # the review's worker thread
        return None if image is None else (event_id, image)

    return load
