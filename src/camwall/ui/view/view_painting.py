"""Drawing helpers for the video view: fitting, letterboxing, state pictures and labels."""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass

from qtpy.QtCore import QPoint, QRect, QRectF, Qt
from qtpy.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

#: Bars around a picture whose aspect ratio differs from the view's.
LETTERBOX = QColor(0, 0, 0)


class Placeholder(enum.Enum):
    """The pictures a view draws when it has no frame to show."""

    NO_CAMERA = "no camera"
    CONNECTING = "connecting"
    WAITING = "waiting"  # connected, no frame yet
    NO_SIGNAL = "no signal"
    FAILED = "failed"
    STOPPED = "stopped"
    NO_RECORDING = "no recording"  # review: nothing recorded at the instant shown


#: Background of each placeholder picture (tests check grabbed pixels against these).
BACKGROUNDS: dict[Placeholder, QColor] = {
    Placeholder.NO_CAMERA: QColor(27, 27, 27),
    Placeholder.CONNECTING: QColor(24, 33, 46),
    Placeholder.WAITING: QColor(24, 33, 46),
    Placeholder.NO_SIGNAL: QColor(46, 38, 20),
    Placeholder.FAILED: QColor(62, 18, 22),
    Placeholder.STOPPED: QColor(32, 32, 32),
    Placeholder.NO_RECORDING: QColor(36, 30, 48),
}
TEXT = QColor(230, 230, 230)
DIM_TEXT = QColor(170, 170, 170)
LABEL_BACKGROUND = QColor(0, 0, 0, 150)
HIGHLIGHT = QColor(64, 156, 255)


def fit_rect(src_w: float, src_h: float, bounds: QRect, snap: float = 0.04) -> QRect:
    """The largest rect of ``src_w``:``src_h`` aspect centred in ``bounds``, on whole pixels.

    A picture that would be enlarged by less than ``snap`` (4 %) is shown at its own size
    instead: a 1:1 copy is several times cheaper than a smooth scale, and the worker
    publishes frames at about the tile's size.
    """
    if src_w <= 0 or src_h <= 0 or bounds.width() <= 0 or bounds.height() <= 0:
        return QRect(bounds.x(), bounds.y(), 0, 0)
    scale = min(bounds.width() / src_w, bounds.height() / src_h)
    if 1.0 <= scale < 1.0 + snap and src_w == int(src_w) and src_h == int(src_h):
        scale = 1.0
    w = max(1, min(bounds.width(), round(src_w * scale)))
    h = max(1, min(bounds.height(), round(src_h * scale)))
    x = bounds.x() + (bounds.width() - w) // 2
    y = bounds.y() + (bounds.height() - h) // 2
    return QRect(x, y, w, h)


def fill_letterbox(painter: QPainter, bounds: QRect, picture: QRect) -> None:
    """Paint the parts of ``bounds`` that ``picture`` leaves uncovered."""
    if picture.top() > bounds.top():
        painter.fillRect(
            QRect(bounds.left(), bounds.top(), bounds.width(), picture.top() - bounds.top()),
            LETTERBOX,
        )
    if picture.bottom() < bounds.bottom():
        painter.fillRect(
            QRect(
                bounds.left(),
                picture.bottom() + 1,
                bounds.width(),
                bounds.bottom() - picture.bottom(),
            ),
            LETTERBOX,
        )
    if picture.left() > bounds.left():
        painter.fillRect(
            QRect(bounds.left(), picture.top(), picture.left() - bounds.left(), picture.height()),
            LETTERBOX,
        )
    if picture.right() < bounds.right():
        painter.fillRect(
            QRect(
                picture.right() + 1,
                picture.top(),
                bounds.right() - picture.right(),
                picture.height(),
            ),
            LETTERBOX,
        )


def _font(pixels: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(8, pixels))
    font.setBold(bold)
    return font


@dataclass(frozen=True, slots=True)
class TextBlock:
    """One laid-out line of a placeholder: where it goes, its font, the text as drawn."""

    rect: QRect
    font: QFont
    text: str
    head: bool


def _flag_value(flag: object) -> int:
    """A Qt flag as a plain int (PyQt6 and PySide6 enums are not ints; every binding takes one)."""
    value = getattr(flag, "value", flag)
    return int(value)  # type: ignore[call-overload]


#: Centred, word-wrapped text (an int: alignment and text flags of different enum types).
_WRAP = (
    _flag_value(Qt.AlignmentFlag.AlignHCenter)
    | _flag_value(Qt.AlignmentFlag.AlignTop)
    | _flag_value(Qt.TextFlag.TextWordWrap)
)
_MARGIN = 8


def _wrapped_height(font: QFont, width: int, text: str) -> int:
    metrics = QFontMetrics(font)
    return metrics.boundingRect(QRect(0, 0, width, 100_000), _WRAP, text).height()


#: Laid-out state pictures by (bounds, lines): a countdown repaints once a second, a wall of
#: failed cameras repaints them all; wrapping text each time is wasted work.
_LAYOUTS: OrderedDict[tuple[int, int, int, int, tuple[str, ...]], list[TextBlock]] = OrderedDict()
_LAYOUTS_MAX = 64


def placeholder_layout(bounds: QRect, lines: list[str]) -> list[TextBlock]:
    """Where each line of a state picture goes: the head, then wrapped lines, all inside.

    Lines are in order of importance (state, reason, countdown, URL last). Fonts shrink until
    everything fits; if even the smallest does not, the last lines are dropped first — the
    reason is the last to go. Cached: runs only when the picture or its size changes.
    """
    key = (bounds.x(), bounds.y(), bounds.width(), bounds.height(), tuple(lines))
    cached = _LAYOUTS.get(key)
    if cached is not None:
        _LAYOUTS.move_to_end(key)
        return cached
    blocks = _layout(bounds, lines)
    _LAYOUTS[key] = blocks
    if len(_LAYOUTS) > _LAYOUTS_MAX:
        _LAYOUTS.popitem(last=False)
    return blocks


def _layout(bounds: QRect, lines: list[str]) -> list[TextBlock]:
    if not lines or bounds.height() < 24:
        return []
    width = max(1, bounds.width() - 2 * _MARGIN)
    room = bounds.height() - 2 * _MARGIN
    head_px = min(48, max(12, bounds.height() // 9))
    body_px = min(20, max(10, bounds.height() // 22))
    while True:
        head, body = _font(head_px, bold=True), _font(body_px)
        heights = [QFontMetrics(head).height()]
        heights += [_wrapped_height(body, width, line) for line in lines[1:]]
        if sum(heights) <= room or (body_px <= 8 and head_px <= 10):
            break
        body_px, head_px = max(8, body_px - 1), max(10, head_px - 2)
    kept = len(lines)
    while kept > 1 and sum(heights[:kept]) > room:
        kept -= 1
    y = bounds.y() + max(_MARGIN, (bounds.height() - sum(heights[:kept])) // 2)
    blocks = []
    for index in range(kept):
        rect = QRect(bounds.x() + _MARGIN, y, width, heights[index])
        blocks.append(TextBlock(rect, head if index == 0 else body, lines[index], index == 0))
        y += heights[index]
    return blocks


def paint_placeholder(
    painter: QPainter, bounds: QRect, kind: Placeholder, lines: list[str]
) -> None:
    """Fill ``bounds`` with ``kind``'s picture: a plain background and centred, wrapped text."""
    painter.fillRect(bounds, BACKGROUNDS[kind])
    for block in placeholder_layout(bounds, lines):
        painter.setPen(TEXT if block.head else DIM_TEXT)
        painter.setFont(block.font)
        painter.drawText(block.rect, _WRAP, block.text)


def paint_label(
    painter: QPainter,
    bounds: QRect,
    text: str,
    *,
    left: bool,
    top: bool,
    pixels: int,
    dot: QColor | None = None,
) -> None:
    """A text box (one or more lines) with a dark backdrop in a corner of ``bounds``."""
    pad = max(3, pixels // 3)
    device = painter.device()
    ratio = float(device.devicePixelRatioF()) if device is not None else 1.0
    image = _label_image(text, pixels, dot, bounds.width(), ratio)
    w = round(image.width() / ratio)
    h = round(image.height() / ratio)
    x = bounds.left() + pad if left else bounds.right() - w - pad
    y = bounds.top() + pad if top else bounds.bottom() - h - pad
    painter.drawImage(QPoint(x, y), image)


#: Rendered labels by (text, pixels, dot, bounds width, device pixel ratio), newest last.
#: A view draws the same title and badge on every frame; laying out and rasterising their
#: text each time cost ≈0.3 ms of UI thread per frame (bench/wall.py), blitting the cached
#: image a few µs.
_LABELS: OrderedDict[tuple[str, int, int | None, int, float], QImage] = OrderedDict()
_LABELS_MAX = 128


def _label_image(
    text: str, pixels: int, dot: QColor | None, bounds_width: int, ratio: float
) -> QImage:
    key = (text, pixels, None if dot is None else dot.rgba(), bounds_width, ratio)
    image = _LABELS.get(key)
    if image is not None:
        _LABELS.move_to_end(key)
        return image
    image = _render_label(text, pixels, dot, bounds_width, ratio)
    _LABELS[key] = image
    if len(_LABELS) > _LABELS_MAX:
        _LABELS.popitem(last=False)
    return image


def _render_label(
    text: str, pixels: int, dot: QColor | None, bounds_width: int, ratio: float
) -> QImage:
    """The label as an image with its backdrop (transparent where there is none)."""
    font = _font(pixels, bold=dot is not None)
    metrics = QFontMetrics(font)
    pad = max(3, pixels // 3)
    line_h = metrics.height()
    dot_w = line_h // 2 + pad if dot is not None else 0
    max_text = max(1, bounds_width - 4 * pad - dot_w)
    lines = [
        metrics.elidedText(line, Qt.TextElideMode.ElideRight, max_text) for line in text.split("\n")
    ]
    w = max(metrics.horizontalAdvance(line) for line in lines) + 2 * pad + dot_w
    h = line_h * len(lines) + pad
    image = QImage(
        max(1, round(w * ratio)),
        max(1, round(h * ratio)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.fillRect(QRect(0, 0, w, h), LABEL_BACKGROUND)
        if dot is not None:
            d = line_h // 2
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(dot)
            painter.drawEllipse(QRectF(pad, (h - d) / 2, d, d))
        painter.setPen(TEXT)
        painter.setFont(font)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        line_y = pad // 2
        for line in lines:
            painter.drawText(QRect(pad + dot_w, line_y, w - 2 * pad - dot_w, line_h), flags, line)
            line_y += line_h
    finally:
        painter.end()
    return image


def paint_highlight(painter: QPainter, bounds: QRect) -> None:
    """A frame around a selected view."""
    pen_w = 3
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    r = bounds
    painter.fillRect(QRect(r.left(), r.top(), r.width(), pen_w), HIGHLIGHT)
    painter.fillRect(QRect(r.left(), r.bottom() - pen_w + 1, r.width(), pen_w), HIGHLIGHT)
    painter.fillRect(QRect(r.left(), r.top(), pen_w, r.height()), HIGHLIGHT)
    painter.fillRect(QRect(r.right() - pen_w + 1, r.top(), pen_w, r.height()), HIGHLIGHT)
