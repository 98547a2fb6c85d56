"""The review bar under the grid: transport buttons, speed, the time, and the timeline."""

from __future__ import annotations

import time

from qtpy.QtCore import QTimer
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from camwall.ui.review.controller import ReviewController, TimelineData
from camwall.ui.review.timeline import Timeline

#: Speeds offered (the playback's range: 0.25× to 16×).
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
#: How often the cursor follows playback, and the timeline data is re-read (live edge), ms.
CURSOR_MS = 100
DATA_MS = 5000


class ReviewPanel(QWidget):
    """Controls and timeline of one :class:`ReviewController`."""

    def __init__(self, controller: ReviewController, parent: QWidget | None = None) -> None:
        """Hidden until review starts."""
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.controller = controller
        self.timeline = Timeline(self)
        self.playButton = self._button("▶ Play", "reviewPlay", "Play / pause (Space)")
        self.backButton = self._button("◀|", "reviewStepBack", "One frame back (,)")
        self.forwardButton = self._button("|▶", "reviewStepForward", "One frame forward (.)")
        self.prevEventButton = self._button("◀◀ Event", "reviewPrevEvent", "Previous event ([)")
        self.nextEventButton = self._button("Event ▶▶", "reviewNextEvent", "Next event (])")
        self.exportButton = self._button("Export…", "reviewExport", "Export the selected span")
        self.liveButton = self._button("Back to live", "reviewLive", "Back to live (F5)")
        self.speedBox = QComboBox(self)
        self.speedBox.setObjectName("reviewSpeed")
        for speed in SPEEDS:
            self.speedBox.addItem(f"{speed:g}×", speed)
        self.speedBox.setCurrentIndex(SPEEDS.index(1.0))
        self.timeLabel = QLabel("", self)
        self.timeLabel.setObjectName("reviewTime")
        self.timeLabel.setMinimumWidth(self.timeLabel.fontMetrics().horizontalAdvance("0") * 26)
        self.statusLabel = QLabel("", self)
        self.statusLabel.setObjectName("reviewStatus")
        self.exportButton.setEnabled(False)
        # Button shortcuts only work while the button is visible: in review only.
        for button, key in (
            (self.playButton, "Space"),
            (self.backButton, ","),
            (self.forwardButton, "."),
            (self.prevEventButton, "["),
            (self.nextEventButton, "]"),
        ):
            button.setShortcut(QKeySequence(key))

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        for widget in (
            self.liveButton,
            self.prevEventButton,
            self.backButton,
            self.playButton,
            self.forwardButton,
            self.nextEventButton,
            self.speedBox,
            self.timeLabel,
        ):
            bar.addWidget(widget)
        bar.addWidget(self.statusLabel, 1)
        bar.addWidget(self.exportButton)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.timeline)

        self.playButton.clicked.connect(self.toggle_play)
        self.backButton.clicked.connect(lambda: self._step(-1))
        self.forwardButton.clicked.connect(lambda: self._step(1))
        self.prevEventButton.clicked.connect(lambda: controller.jump_event(False))
        self.nextEventButton.clicked.connect(lambda: controller.jump_event(True))
        self.speedBox.currentIndexChanged.connect(
            lambda i: controller.set_speed(float(self.speedBox.itemData(i)))
        )
        self.timeline.cursor_moved.connect(self._on_cursor_moved)
        self.timeline.range_changed.connect(controller.request_data)
        self.timeline.selection_changed.connect(
            lambda sel: self.exportButton.setEnabled(sel is not None)
        )
        controller.data_ready.connect(self._on_data)
        controller.cursor_set.connect(self._on_cursor_set)
        controller.active_changed.connect(self._on_active)
        controller.message.connect(self.statusLabel.setText)
        self._cursor_timer = QTimer(self)
        self._cursor_timer.setInterval(CURSOR_MS)
        self._cursor_timer.timeout.connect(self._follow)
        self._data_timer = QTimer(self)
        self._data_timer.setInterval(DATA_MS)
        self._data_timer.timeout.connect(self.refresh)
        self.hide()

    def _button(self, text: str, name: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setToolTip(tip)
        return button

    # -- actions ---------------------------------------------------------------------------------

    def toggle_play(self) -> None:
        """Play from the cursor, or pause."""
        if self.controller.playing:
            self.controller.pause()
            self.playButton.setText("▶ Play")
        else:
            self.controller.play(float(self.speedBox.currentData()))
            self.playButton.setText("⏸ Pause")

    def refresh(self) -> None:
        """Re-read the visible range's spans and events."""
        self.controller.request_data(*self.timeline.visible_range)

    def _step(self, frames: int) -> None:
        self.playButton.setText("▶ Play")
        self.controller.step(frames)

    def _on_cursor_moved(self, t: float) -> None:
        self.playButton.setText("▶ Play")
        self.controller.seek(t)
        self._show_time(t)

    def _on_cursor_set(self, t: float) -> None:
        self.timeline.set_cursor(t, follow=True)
        self._show_time(t)

    def _on_data(self, data: TimelineData) -> None:
        spans, events = data
        self.timeline.set_data(spans, events)

    def _on_active(self, active: bool) -> None:
        if active:
            self.timeline.set_cameras(self.controller.cameras)
            self.show()
            self._cursor_timer.start()
            self._data_timer.start()
            self.refresh()
        else:
            self._cursor_timer.stop()
            self._data_timer.stop()
            self.playButton.setText("▶ Play")
            self.hide()

    def _follow(self) -> None:
        t = self.controller.position
        if t is None:
            return
        if not self.timeline.dragging:
            self.timeline.set_cursor(t, follow=self.controller.playing)
        self._show_time(t)

    def _show_time(self, t: float) -> None:
        frac = f"{t % 1:.3f}"[1:]
        self.timeLabel.setText(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + frac)
