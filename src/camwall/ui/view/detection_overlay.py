"""DetectionOverlay: a camera's newest detection boxes, drawn over its VideoView's picture.

An overlay is a callable the view invokes at the end of each frame paint (see
``VideoView.add_overlay``) with the painter, the on-screen rect of the picture, the part of
the frame shown (digital zoom) and the painted frame's size. Boxes arrive in the pixels of
the frame the detector saw (``DetectionResult.width``×``height``) and are mapped:

    result pixels ─▶ painted frame pixels ─▶ source rect (zoom) ─▶ target rect (letterboxed)

The first step matters because the ring may have been re-created at another size since the
detector read it (the tile was resized, the substream replaced the main stream).

A result is shown at full strength for ``stale_s`` after it arrived, then fades out over
``fade_s`` and is dropped: a detector that stops (worker restarting, camera removed from
detection) never leaves boxes frozen on a live picture. Drawing is a handful of rectangles
and labels rendered once into small images; the layout is computed once per result and
geometry. Its UI-thread time is measured on every call (:attr:`DetectionOverlay.cost`).
"""

from __future__ import annotations

import collections
import statistics
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qtpy.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt
from qtpy.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from camwall.detect.messages import DetectionResult

#: Seconds a result stays at full strength, then seconds it takes to fade out.
STALE_S = 1.0
FADE_S = 0.5
#: Boxes drawn per result at most (highest scores first), and how many of them get a label.
MAX_BOXES = 64
MAX_LABELS = 16
#: Colours and label images kept (a few labels × score percentages × sizes).
_CACHE_LIMIT = 512
#: Paints whose drawing time the median is taken over.
_RECENT_PAINTS = 1000

#: Fixed colours for common labels; others get a stable colour from their name.
LABEL_COLORS: dict[str, tuple[int, int, int]] = {
    "person": (255, 214, 0),
    "face": (0, 229, 255),
    "motion": (255, 0, 200),
    "car": (0, 230, 118),
    "truck": (0, 200, 160),
    "bicycle": (255, 145, 0),
    "motorcycle": (255, 110, 64),
    "dog": (170, 120, 255),
    "cat": (234, 128, 252),
}


def label_color(label: str) -> QColor:
    """The colour boxes of ``label`` are drawn in (the same in every run)."""
    rgb = LABEL_COLORS.get(label)
    if rgb is not None:
        return QColor(*rgb)
    hue = zlib.crc32(label.encode()) % 360
    return QColor.fromHsv(hue, 200, 255)


def map_point(x: float, y: float, source: QRectF, target: QRect | QRectF) -> QPointF:
    """Frame point (``x``, ``y`` in frame pixels) in widget coordinates.

    ``source`` is the part of the frame shown (frame pixels, digital zoom) and ``target``
    where that part lands on screen (inside any letterbox bars).
    """
    sw, sh = source.width(), source.height()
    if sw <= 0 or sh <= 0:
        return QPointF(target.x(), target.y())
    tx, ty = target.width() / sw, target.height() / sh
    return QPointF(target.x() + (x - source.x()) * tx, target.y() + (y - source.y()) * ty)


def map_fraction(
    fx: float, fy: float, frame_size: tuple[int, int], source: QRectF, target: QRect | QRectF
) -> QPointF:
    """A normalised frame point (0..1 of width and height) in widget coordinates."""
    return map_point(fx * frame_size[0], fy * frame_size[1], source, target)


def unmap_fraction(
    point: QPointF, frame_size: tuple[int, int], source: QRectF, target: QRect | QRectF
) -> tuple[float, float]:
    """The inverse of :func:`map_fraction`: the frame fractions painted at widget ``point``.

    Clamped into 0..1 (a click on a letterbox bar lands on the picture's edge).
    """
    fw, fh = frame_size
    tw, th = target.width(), target.height()
    if fw <= 0 or fh <= 0 or tw <= 0 or th <= 0:
        return 0.0, 0.0
    x = source.x() + (point.x() - target.x()) * source.width() / tw
    y = source.y() + (point.y() - target.y()) * source.height() / th
    return min(1.0, max(0.0, x / fw)), min(1.0, max(0.0, y / fh))


def map_box(
    box: Sequence[float],
    result_size: tuple[int, int],
    frame_size: tuple[int, int],
    source: QRectF,
    target: QRect | QRectF,
) -> QRectF:
    """``box`` (x0, y0, x1, y1 in a ``result_size`` frame) in widget coordinates.

    ``frame_size`` is the size of the frame being painted, ``source`` the part of it shown
    (frame pixels) and ``target`` where that part lands on screen.
    """
    rw, rh = result_size
    fw, fh = frame_size
    kx = fw / rw if rw > 0 else 1.0
    ky = fh / rh if rh > 0 else 1.0
    if source.width() <= 0 or source.height() <= 0:
        return QRectF()
    x0, y0, x1, y1 = (float(v) for v in box[:4])
    top_left = map_point(x0 * kx, y0 * ky, source, target)
    bottom_right = map_point(x1 * kx, y1 * ky, source, target)
    return QRectF(top_left, bottom_right).normalized()


@dataclass(frozen=True, slots=True)
class OverlayCost:
    """UI-thread time spent drawing boxes: mean and worst per paint, over ``paints`` paints."""

    paints: int
    mean_us: float
    max_us: float
    #: Boxes drawn per paint, on average.
    mean_boxes: float = 0.0
    #: The median of the last paints: unlike the mean, not raised by the odd paint during
    #: which the UI thread was preempted (a shared machine).
    median_us: float = 0.0


class DetectionOverlay:
    """Draws the newest :class:`DetectionResult` of one camera; see the module docstring.

    UI thread only. ``clock`` (seconds, monotonic) can be replaced in tests.
    """

    def __init__(
        self,
        *,
        stale_s: float = STALE_S,
        fade_s: float = FADE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """An empty overlay; results shown ``stale_s`` at full strength, then fading ``fade_s``."""
        if stale_s < 0 or fade_s < 0:
            raise ValueError(f"stale_s and fade_s must not be negative ({stale_s}, {fade_s})")
        self.stale_s = stale_s
        self.fade_s = fade_s
        self._clock = clock
        self._result: DetectionResult | None = None
        self._received = 0.0
        self._colors: dict[str, QColor] = {}
        self._labels: dict[tuple[str, str, int], QImage] = {}
        self._layout_key: tuple[object, ...] | None = None
        self._layout_result: DetectionResult | None = None
        self._layout_items: list[_Item] = []
        self._cost_ns = 0
        self._cost_max_ns = 0
        self._paints = 0
        self._boxes = 0
        self._recent: collections.deque[int] = collections.deque(maxlen=_RECENT_PAINTS)
        #: Clock time of the last paint that called the overlay (None: never).
        self.painted_at: float | None = None
        #: Boxes drawn by the last call, the seq of the result they came from, and its alpha.
        self.drawn_boxes = 0
        self.drawn_seq = 0
        self.drawn_alpha = 0.0

    # -- the result ------------------------------------------------------------------------

    @property
    def result(self) -> DetectionResult | None:
        """The result being shown (None: none, or it has faded out)."""
        return self._result

    @property
    def received_at(self) -> float:
        """Clock time the current result arrived (its age decides the fading)."""
        return self._received

    def set_result(self, result: DetectionResult) -> None:
        """Show ``result`` from now on (it replaces the previous one at once)."""
        self._result = result
        self._received = self._clock()

    def clear(self) -> None:
        """Show nothing (detection switched off, camera stopped)."""
        self._result = None

    def alpha_at(self, now: float) -> float:
        """Strength of the boxes at ``now``: 1 while fresh, fading to 0 once stale."""
        if self._result is None:
            return 0.0
        age = now - self._received
        if age <= self.stale_s:
            return 1.0
        if self.fade_s <= 0:
            return 0.0
        return max(0.0, 1.0 - (age - self.stale_s) / self.fade_s)

    def needs_repaint(self, now: float, every_s: float = 0.1) -> bool:
        """True if a fading or expired result has not been painted for ``every_s``.

        The view repaints with every new frame anyway; this is for a picture that stopped
        changing while boxes are still on it. An expired result is dropped here.
        """
        if self._result is None:
            return False
        if self.alpha_at(now) <= 0.0:
            self._result = None
            return self.drawn_boxes > 0
        if now - self._received <= self.stale_s:
            return False
        return self.painted_at is None or now - self.painted_at >= every_s

    # -- cost ------------------------------------------------------------------------------

    @property
    def cost(self) -> OverlayCost:
        """Drawing time per paint since the last :meth:`reset_cost`."""
        n = self._paints
        if not n:
            return OverlayCost(0, 0.0, 0.0)
        median = statistics.median(self._recent) / 1e3 if self._recent else 0.0
        return OverlayCost(
            n, self._cost_ns / n / 1e3, self._cost_max_ns / 1e3, self._boxes / n, median
        )

    def reset_cost(self) -> None:
        """Start measuring the drawing time afresh."""
        self._cost_ns = self._cost_max_ns = self._paints = self._boxes = 0
        self._recent.clear()

    # -- drawing ---------------------------------------------------------------------------

    def __call__(self, painter: QPainter, target: QRect, source: QRectF, frame: QSize) -> None:
        """Draw the boxes over the picture painted into ``target`` (the VideoView hook)."""
        start = time.perf_counter_ns()
        now = self._clock()
        self.painted_at = now
        self.drawn_boxes = 0
        result = self._result
        alpha = self.alpha_at(now)
        if result is None or alpha <= 0.0:
            self._result = None
            return
        self.drawn_seq = result.seq
        self.drawn_alpha = alpha
        if result.detections and target.width() > 0 and target.height() > 0:
            items = self._layout(result, target, source, frame)
            painter.save()
            try:
                painter.setClipRect(target)
                # Whole-pixel rects and label positions, no smoothing: Qt's blit fast paths.
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
                painter.setOpacity(alpha)
                for item in items:
                    # Four solid fills: several times cheaper than stroking a 2 px outline.
                    for edge in item.edges:
                        painter.fillRect(edge, item.color)
                    if item.label is not None:
                        painter.drawImage(item.label_at, item.label)
            finally:
                painter.restore()
            self.drawn_boxes = len(items)
        # Wall time (as the view's own paint cost): the thread CPU clock is a system call on
        # some virtual machines, which would cost more than the drawing it measures.
        spent = time.perf_counter_ns() - start
        self._paints += 1
        self._boxes += self.drawn_boxes
        self._cost_ns += spent
        self._cost_max_ns = max(self._cost_max_ns, spent)
        self._recent.append(spent)

    def _layout(
        self, result: DetectionResult, target: QRect, source: QRectF, frame: QSize
    ) -> list[_Item]:
        """What to draw for ``result`` in this geometry; cached, as it rarely changes per paint."""
        key: tuple[object, ...] = (
            id(result),
            target.x(),
            target.y(),
            target.width(),
            target.height(),
            source.x(),
            source.y(),
            source.width(),
            source.height(),
            frame.width(),
            frame.height(),
        )
        if key == self._layout_key and self._layout_result is result:
            return self._layout_items
        pen_w = max(2, target.height() // 360)
        font_px = max(9, min(15, target.height() // 32))
        dets = result.detections
        if len(dets) > MAX_BOXES:
            dets = sorted(dets, key=lambda d: -float(d.get("score", 0.0)))[:MAX_BOXES]
        size = (result.width, result.height)
        frame_size = (frame.width(), frame.height())
        items: list[_Item] = []
        for det in dets:
            rect = map_box(det["box"], size, frame_size, source, target).toRect()
            if rect.isEmpty() or not rect.intersects(target):
                continue
            label = str(det.get("label", ""))
            image = None
            at = QPoint()
            if len(items) < MAX_LABELS:
                image = self._label_image(_caption(det, label), label, font_px)
                w, h = image.width(), image.height()
                # Above the box if there is room on the picture, else just inside its top.
                y = rect.top() - h if rect.top() - h >= target.top() else rect.top()
                x = min(max(rect.left(), target.left()), target.right() + 1 - w)
                at = QPoint(x, y)
            items.append(_Item(rect, _edges(rect, pen_w), self._color(label), image, at))
        self._layout_key, self._layout_result, self._layout_items = key, result, items
        return items

    def _color(self, label: str) -> QColor:
        color = self._colors.get(label)
        if color is None:
            if len(self._colors) >= _CACHE_LIMIT:
                self._colors.clear()
            color = self._colors[label] = label_color(label)
        return color

    def _label_image(self, text: str, label: str, pixels: int) -> QImage:
        """``text`` in black on the label's colour, rendered once (a blit per paint after)."""
        key = (text, label, pixels)
        image = self._labels.get(key)
        if image is not None:
            return image
        if len(self._labels) >= _CACHE_LIMIT:
            self._labels.clear()
        font = QFont()
        font.setPixelSize(pixels)
        font.setBold(True)
        metrics = QFontMetrics(font)
        pad = 2
        image = QImage(
            metrics.horizontalAdvance(text) + 2 * pad,
            metrics.height(),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.fill(label_color(label))
        painter = QPainter(image)
        try:
            painter.setFont(font)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(
                QRect(pad, 0, image.width() - 2 * pad, image.height()),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                text,
            )
        finally:
            painter.end()
        self._labels[key] = image
        return image


@dataclass(frozen=True, slots=True)
class _Item:
    """One box to draw: its rect on screen, its outline as four rects, colour, label image."""

    rect: QRect
    edges: tuple[QRect, QRect, QRect, QRect]
    color: QColor
    label: QImage | None
    label_at: QPoint


def _edges(rect: QRect, width: int) -> tuple[QRect, QRect, QRect, QRect]:
    """The outline of ``rect``, ``width`` pixels thick inside it, as top/bottom/left/right."""
    w = max(1, min(width, rect.width() // 2, rect.height() // 2))
    x, y, rw, rh = rect.x(), rect.y(), rect.width(), rect.height()
    return (
        QRect(x, y, rw, w),
        QRect(x, y + rh - w, rw, w),
        QRect(x, y + w, w, rh - 2 * w),
        QRect(x + rw - w, y + w, w, rh - 2 * w),
    )


def _caption(det: dict[str, object], label: str) -> str:
    """``person 87%``; motion boxes carry no meaningful score, so just ``motion``."""
    score = det.get("score")
    if label == "motion" or not isinstance(score, int | float):
        return label
    return f"{label} {round(float(score) * 100)}%"
