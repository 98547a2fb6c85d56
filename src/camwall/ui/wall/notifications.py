"""Transient notifications over the wall: what just happened, with the one action that fits.

"Snapshot saved" (Open folder), "camera removed" (Undo), errors. They stack in the bottom
right corner of the grid, newest at the bottom, and go away by themselves (errors stay
longer); the log panel keeps the record. Nothing here waits: an action runs its callback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from qtpy.QtCore import QEvent, QObject, Qt, QTimer
from qtpy.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["Notice", "Notifications"]

Kind = Literal["info", "error"]
#: How long a notice stays, by kind.
TIMEOUT_MS: dict[Kind, int] = {"info": 6000, "error": 12000}
#: At most this many notices at once (the oldest goes first).
MAX_SHOWN = 4
_WIDTH = 380
_MARGIN = 12

_STYLE = {
    "info": "QFrame#notice { background: rgba(32, 36, 44, 235); border: 1px solid #4a5160;"
    " border-radius: 6px; } QLabel { color: #e8e8e8; }",
    "error": "QFrame#notice { background: rgba(70, 24, 28, 240); border: 1px solid #b0414a;"
    " border-radius: 6px; } QLabel { color: #ffe8e8; }",
}


class Notice(QFrame):
    """One notification: an icon-less text, buttons for its actions, a close button."""

    def __init__(
        self,
        text: str,
        kind: Kind,
        actions: Sequence[tuple[str, Callable[[], None]]],
        parent: QWidget,
    ) -> None:
        """A notice saying ``text``; each action is (button text, callback)."""
        super().__init__(parent)
        self.setObjectName("notice")
        self.kind = kind
        self.setStyleSheet(_STYLE[kind])
        self.label = QLabel(text, self)
        self.label.setObjectName("noticeText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addStretch(1)
        self.buttons: list[QPushButton] = []
        for title, callback in actions:
            button = QPushButton(title, self)
            button.setObjectName(f"notice:{title.replace('&', '')}")
            button.clicked.connect(lambda _=False, cb=callback: self._run(cb))
            row.addWidget(button)
            self.buttons.append(button)
        close = QPushButton("Dismiss", self)
        close.setObjectName("notice:Dismiss")
        close.clicked.connect(self.dismiss)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self.setFixedWidth(_WIDTH)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.dismiss)
        self.timer.start(TIMEOUT_MS[kind])

    @property
    def text(self) -> str:
        """What the notice says."""
        return self.label.text()

    def button(self, title: str) -> QPushButton | None:
        """The action button titled ``title`` (without "&")."""
        for button in self.buttons:
            if button.text().replace("&", "") == title:
                return button
        return None

    def _run(self, callback: Callable[[], None]) -> None:
        self.dismiss()
        callback()

    def dismiss(self) -> None:
        """Take the notice away now."""
        self.timer.stop()
        self.hide()
        self.deleteLater()
        owner = self.parent()
        if isinstance(owner, Notifications):
            owner.forget(self)


class Notifications(QWidget):
    """The notices over ``host`` (the grid), kept in its bottom right corner."""

    def __init__(self, host: QWidget) -> None:
        """Float over ``host``; follows its size."""
        super().__init__(host)
        self.setObjectName("notifications")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground, True)
        self._host = host
        self._notices: list[Notice] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        host.installEventFilter(self)
        self.hide()

    def notify(
        self,
        text: str,
        kind: Kind = "info",
        actions: Sequence[tuple[str, Callable[[], None]]] = (),
    ) -> Notice:
        """Show ``text`` for a while, with ``actions`` as buttons; returns the notice."""
        notice = Notice(text, kind, actions, self)
        self._notices.append(notice)
        self._layout.addWidget(notice)
        while len(self._notices) > MAX_SHOWN:
            self._notices[0].dismiss()
        self._place()
        self.show()
        self.raise_()
        return notice

    def notices(self) -> list[Notice]:
        """The notices shown now, oldest first."""
        return list(self._notices)

    def forget(self, notice: Notice) -> None:
        """``notice`` went away (called by the notice)."""
        if notice in self._notices:
            self._notices.remove(notice)
            self._layout.removeWidget(notice)
        if not self._notices:
            self.hide()
        else:
            self._place()

    def _place(self) -> None:
        self.adjustSize()
        host = self._host.rect()
        size = self.sizeHint()
        width = min(size.width(), max(1, host.width() - 2 * _MARGIN))
        height = min(size.height(), max(1, host.height() - 2 * _MARGIN))
        self.setGeometry(
            host.right() - width - _MARGIN, host.bottom() - height - _MARGIN, width, height
        )

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        """Stay in the corner when the grid changes size."""
        resized = event is not None and event.type() == QEvent.Type.Resize
        if watched is self._host and resized and self._notices:
            self._place()
        return False
