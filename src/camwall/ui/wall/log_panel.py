"""The log panel: every camwall log record, tagged with time, level and camera, filterable.

Records come from any thread (capture workers' lines are re-logged by the supervisor's
thread). :class:`QtLogHandler` masks credentials, queues the formatted line and wakes the UI
thread with at most one pending signal, so a burst of thousands of lines costs one repaint,
not thousands of queued events. The panel keeps the last :data:`MAX_LINES` lines.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from qtpy.QtCore import QObject, QTimer
from qtpy.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from qtpy.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from camwall.logfilters import CollapsingFilter, collapse_library_records
from camwall.redact import RedactingFilter, redact
from camwall.ui.qt_compat import Signal, connect_queued

#: Lines kept in the panel (older ones scroll away for good).
MAX_LINES = 5000
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True, slots=True)
class LogLine:
    """One formatted, credential-free log record."""

    created: float
    level: int
    level_name: str
    camera: str
    logger: str
    message: str

    def text(self) -> str:
        """``12:03:04.567 [WARNING] [cam1] message``."""
        stamp = time.strftime("%H:%M:%S", time.localtime(self.created))
        millis = int(self.created * 1000) % 1000
        camera = f" [{self.camera}]" if self.camera else ""
        return f"{stamp}.{millis:03d} [{self.level_name}]{camera} {self.message}"


class _Notifier(QObject):
    lines_ready = Signal()


class QtLogHandler(logging.Handler):
    """A logging handler that feeds a :class:`LogPanel` from any thread."""

    def __init__(self, level: int = logging.DEBUG, max_pending: int = MAX_LINES) -> None:
        """Create the handler on the UI thread (its signal is delivered there)."""
        super().__init__(level)
        self.addFilter(RedactingFilter())
        self._notifier = _Notifier()
        self._lock_pending = threading.Lock()
        self._pending: collections.deque[LogLine] = collections.deque(maxlen=max_pending)
        self._scheduled = False
        self._closed = False

    @property
    def lines_ready(self) -> Any:
        """Signal emitted (queued) when lines are waiting in :meth:`take`."""
        return self._notifier.lines_ready

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record's line and wake the UI thread unless a wake-up is pending."""
        try:
            message = record.getMessage()
            if record.exc_text:
                message = f"{message} | {record.exc_text.splitlines()[-1]}"
            line = LogLine(
                record.created,
                record.levelno,
                record.levelname,
                str(getattr(record, "camera", "") or ""),
                record.name,
                redact(message),
            )
        except (TypeError, ValueError):
            self.handleError(record)
            return
        with self._lock_pending:
            if self._closed:
                return
            self._pending.append(line)
            if self._scheduled:
                return
            self._scheduled = True
            self._notifier.lines_ready.emit()

    def take(self) -> list[LogLine]:
        """Every queued line, oldest first (UI thread)."""
        with self._lock_pending:
            lines = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        return lines

    def close(self) -> None:
        """Stop queueing; detach the handler from its logger before the panel goes away."""
        with self._lock_pending:
            self._closed = True
            self._pending.clear()
        super().close()


class _LevelHighlighter(QSyntaxHighlighter):
    """Colours warning and error lines (cheaper than HTML per line)."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._formats: dict[str, QTextCharFormat] = {}
        for tag, color in (("[WARNING]", QColor(200, 130, 0)), ("[ERROR]", QColor(210, 40, 40))):
            fmt = QTextCharFormat()
            fmt.setForeground(color)
            self._formats[tag] = fmt
        critical = QTextCharFormat(self._formats["[ERROR]"])
        critical.setFontWeight(QFont.Weight.Bold)
        self._formats["[CRITICAL]"] = critical

    def highlightBlock(self, text: str | None) -> None:
        """Colour the whole line by its level tag."""
        if not text:
            return
        for tag, fmt in self._formats.items():
            if tag in text[:32]:
                self.setFormat(0, len(text), fmt)
                return


class LogPanel(QWidget):
    """Shows log lines with a minimum-level filter; bounded to :data:`MAX_LINES`."""

    #: The minimum level shown changed (a logging level number).
    level_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, max_lines: int = MAX_LINES) -> None:
        """Create an empty panel; connect it to logging with :meth:`install`."""
        super().__init__(parent)
        self._lines: collections.deque[LogLine] = collections.deque(maxlen=max_lines)
        self._min_level = logging.INFO
        self._handler: QtLogHandler | None = None
        self._collapse: CollapsingFilter | None = None
        self._summaries = QTimer(self)
        self._summaries.setInterval(5000)
        self._summaries.timeout.connect(self._flush_repeats)
        self._logger: logging.Logger | None = None

        self.level_box = QComboBox(self)
        self.level_box.setObjectName("logLevelBox")
        self.level_box.addItems(LEVELS)
        self.level_box.setCurrentText("INFO")
        self.level_box.setToolTip("Show log lines at this level and above")
        self.clear_button = QPushButton("Clear", self)
        self.view = QPlainTextEdit(self)
        self.view.setObjectName("logView")
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(max_lines)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setUndoRedoEnabled(False)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.view.setFont(mono)
        document = self.view.document()
        if document is not None:
            self._highlighter = _LevelHighlighter(document)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Log", self))
        bar.addStretch(1)
        bar.addWidget(QLabel("Level:", self))
        bar.addWidget(self.level_box)
        bar.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view)

        self.level_box.currentTextChanged.connect(self._on_level_text)
        self.clear_button.clicked.connect(self.clear)

    # -- wiring ----------------------------------------------------------------------------

    def install(
        self, logger: logging.Logger | None = None, level: int = logging.DEBUG
    ) -> QtLogHandler:
        """Attach a handler to ``logger`` (default: the root logger) that feeds this panel."""
        self.uninstall()
        handler = QtLogHandler(level)
        connect_queued(handler.lines_ready, self._drain)
        # zeep/aiohttp/onvif can log the same traceback many times a second: the panel
        # shows the first and then "repeated N times", not a flood.
        self._collapse = collapse_library_records(handler)
        target = logger if logger is not None else logging.getLogger()
        target.addHandler(handler)
        self._handler, self._logger = handler, target
        self._summaries.start()
        return handler

    def _flush_repeats(self) -> None:
        """Every few seconds: the "repeated N times" lines of floods that went quiet."""
        if self._handler is not None and self._collapse is not None:
            for record in self._collapse.flush():
                self._handler.handle(record)

    def uninstall(self) -> None:
        """Detach the handler (idempotent); lines logged afterwards do not reach the panel."""
        self._summaries.stop()
        if self._handler is not None and self._logger is not None:
            self._logger.removeHandler(self._handler)
            self._handler.close()
        self._handler = self._logger = None

    def _drain(self) -> None:
        if self._handler is not None:
            self.append_lines(self._handler.take())

    # -- content ---------------------------------------------------------------------------

    @property
    def min_level(self) -> int:
        """Lines below this level are hidden (still kept)."""
        return self._min_level

    def set_min_level(self, level: int | str) -> None:
        """Show lines at ``level`` and above (a number or DEBUG/INFO/WARNING/ERROR)."""
        number = logging.getLevelName(level) if isinstance(level, str) else level
        if not isinstance(number, int):
            raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
        name = logging.getLevelName(number)
        if self.level_box.currentText() != name and name in LEVELS:
            self.level_box.setCurrentText(name)  # re-enters through _on_level_text
            return
        self._min_level = number
        self._rebuild()
        self.level_changed.emit(number)

    def _on_level_text(self, text: str) -> None:
        self.set_min_level(text)

    def append_lines(self, lines: list[LogLine]) -> None:
        """Add lines (UI thread); those at or above the level filter are shown."""
        if not lines:
            return
        self._lines.extend(lines)
        shown = [line.text() for line in lines if line.level >= self._min_level]
        if shown:
            bar = self.view.verticalScrollBar()
            at_end = bar is None or bar.value() >= bar.maximum() - 2
            self.view.appendPlainText("\n".join(shown))
            if at_end:
                self._scroll_to_end()

    def lines(self) -> list[LogLine]:
        """Every kept line, shown or filtered out."""
        return list(self._lines)

    def shown_text(self) -> str:
        """The text currently in the panel."""
        return str(self.view.toPlainText())

    def clear(self) -> None:
        """Forget every line."""
        self._lines.clear()
        self.view.clear()

    def _rebuild(self) -> None:
        text = "\n".join(line.text() for line in self._lines if line.level >= self._min_level)
        self.view.setPlainText(text)
        self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        bar = self.view.verticalScrollBar()
        if bar is not None:
            bar.setValue(bar.maximum())
