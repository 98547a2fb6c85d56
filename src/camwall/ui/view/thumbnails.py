"""Event thumbnails: a snapshot scaled while it is decoded, and a placeholder for none.

The live Events panel and the review's event list both show one small picture per event.
Decoding happens off the UI thread (a JPEG of a 1440p frame takes tens of ms;
``QImageReader`` scales while decoding), so :func:`load_thumbnail` returns a ``QImage``,
which, unlike a ``QPixmap``, may be made on any thread. Snapshots are rate-limited per
camera and label, so many events have none: they get a placeholder showing their label.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import QSize, Qt
from qtpy.QtGui import QColor, QFont, QIcon, QImage, QImageReader, QPainter, QPixmap

__all__ = ["PlaceholderIcons", "load_thumbnail"]


def load_thumbnail(path: str | Path, size: QSize) -> QImage | None:
    """The image at ``path`` scaled to fit ``size`` (None: missing or unreadable); any thread."""
    if not Path(path).is_file():
        return None
    reader = QImageReader(str(path))
    full = reader.size()
    if full.isValid():
        reader.setScaledSize(full.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return None if image.isNull() else image


class PlaceholderIcons:
    """One placeholder icon per label (UI thread): a dark card with the label on it."""

    def __init__(self, size: QSize) -> None:
        """Icons of ``size`` (the list's icon size)."""
        self._size = QSize(size)
        self._icons: dict[str, QIcon] = {}
        #: Every placeholder's cache key, to tell a placeholder from a loaded thumbnail.
        self._keys: set[int] = set()

    def icon(self, label: str) -> QIcon:
        """The placeholder for an event of ``label``."""
        icon = self._icons.get(label)
        if icon is None:
            icon = self._icons[label] = QIcon(self._draw(label or "object"))
            self._keys.add(icon.cacheKey())
        return icon

    def is_placeholder(self, icon: QIcon) -> bool:
        """True if ``icon`` is one of these placeholders (not a real thumbnail)."""
        return icon.cacheKey() in self._keys

    def _draw(self, label: str) -> QPixmap:
        w, h = self._size.width(), self._size.height()
        pixmap = QPixmap(self._size)
        pixmap.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(96, 96, 104))
        painter.setBrush(QColor(44, 44, 50))
        painter.drawRoundedRect(1, 1, w - 2, h - 2, 6, 6)
        font = QFont(painter.font())
        font.setPointSizeF(max(font.pointSizeF(), 8.0) * 1.1)
        painter.setFont(font)
        painter.setPen(QColor(170, 170, 180))
        painter.drawText(pixmap.rect(), int(Qt.AlignmentFlag.AlignCenter), label)
        painter.end()
        return pixmap
