"""VideoView: a widget that paints the newest frame of a FrameRing, and its camera's state.

Usable on its own: give it a ring name (from any process on this host) and it shows that
ring's newest frame, scaled to fit with its aspect ratio kept. Nothing per frame crosses
threads: the application's :class:`~camwall.ui.view.frame_clock.FrameClock` polls the ring's
sequence word at display rate and the view repaints only when it changed and no repaint is
pending; ``paintEvent`` wraps the shared-memory slot in a ``QImage`` (no copy), draws it,
and then checks the slot was not overwritten meanwhile (if it was, it repaints at once).

Feed it capture events with :meth:`VideoView.apply_event` (or :meth:`VideoView.set_state`)
and it draws "Connecting…", "No Signal" with the reason and a retry countdown, "Failed" and
"Stopped" by itself.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from typing import Protocol

from qtpy.QtCore import QRect, QRectF, QSize, Qt
from qtpy.QtGui import QColor, QHideEvent, QImage, QPainter, QPaintEvent, QShowEvent
from qtpy.QtWidgets import QSizePolicy, QWidget

from camwall.capture.events import (
    CameraState,
    CaptureEvent,
    InfoEvent,
    RingEvent,
    StateEvent,
    StatsEvent,
)
from camwall.errors import RingError
from camwall.frames import FrameRing
from camwall.ui.qt_compat import Signal
from camwall.ui.view.frame_clock import FrameClock
from camwall.ui.view.qimage import wrap_frame
from camwall.ui.view.view_painting import (
    Placeholder,
    fill_letterbox,
    fit_rect,
    paint_highlight,
    paint_label,
    paint_placeholder,
)
from camwall.ui.view.view_stats import StatsCollector, ViewStats

log = logging.getLogger(__name__)


class RectLike(Protocol):
    """Anything with x, y, width and height (e.g. ``camwall.control.FrameRect``)."""

    x: float
    y: float
    width: float
    height: float


#: The part of a frame to show, in frame pixels, given the frame's width and height: an
#: (x, y, width, height) tuple or a rect-like object. ``DigitalZoom.source_rect`` is one.
SourceRectProvider = Callable[[int, int], "tuple[float, float, float, float] | RectLike"]
#: Draws over the picture after each frame paint: ``overlay(painter, target_rect,
#: source_rect, frame_size)`` — where the picture landed, the part of the frame shown (frame
#: pixels), the painted frame's size. Runs on the UI thread inside paintEvent: keep it cheap.
FrameOverlay = Callable[[QPainter, QRect, QRectF, QSize], None]

#: States in which the ring's frames are painted (None: no events, just a ring).
_FRAME_STATES = (None, CameraState.STREAMING)
#: Look for a successor ring after this many polls without a new frame (~130 ms at 8 ms).
_SUCCESSOR_POLLS = 16
#: A repaint requested this long ago without a paint since is considered lost.
_PENDING_STALE_S = 0.25

#: A worker's reason starts with the (masked) URL it is about: "rtsp://***@cam/x: refused".
_URL_PREFIX = re.compile(r"^(?P<url>(?:[a-z][a-z0-9+.-]*://|/)\S*?): (?P<rest>.+)$", re.DOTALL)

_BADGES: dict[CameraState | None, tuple[str, tuple[int, int, int]]] = {
    None: ("LIVE", (60, 200, 90)),
    CameraState.STREAMING: ("LIVE", (60, 200, 90)),
    CameraState.CONNECTING: ("CONNECTING", (240, 180, 40)),
    CameraState.LOST: ("NO SIGNAL", (235, 70, 60)),
    CameraState.BACKOFF: ("NO SIGNAL", (235, 70, 60)),
    CameraState.FAILED: ("FAILED", (235, 70, 60)),
    CameraState.STOPPED: ("STOPPED", (150, 150, 150)),
}


class VideoView(QWidget):
    """Paints the newest frame of a FrameRing, or its camera's state; see the module docstring."""

    #: The camera state changed (a CameraState, or None for "no camera").
    state_changed = Signal(object)
    #: The view now reads from this ring ("" for none), e.g. after a resolution change.
    ring_changed = Signal(str)

    def __init__(
        self,
        ring_name: str | None = None,
        parent: QWidget | None = None,
        *,
        clock: FrameClock | None = None,
    ) -> None:
        """Create a view, attached to ``ring_name`` if given (raises RingNotFoundError if absent)."""
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._clock = clock if clock is not None else FrameClock.shared()
        self._ring: FrameRing | None = None
        self._ring_error: str | None = None
        self._successor_error: str | None = None
        self._state: CameraState | None = None
        self._reason = ""
        self._retry_deadline: float | None = None
        self._shown_countdown: int | None = None
        self._seen_seq = 0
        self._shown_seq = 0
        self._idle_polls = 0
        self._repaint_pending = False
        self._pending_since = 0.0
        self._title = ""
        #: Where the picture comes from (a masked URL), shown last under a state's reason.
        self._source_text = ""
        self._show_badge = False
        self._stats_visible = False
        self._highlighted = False
        self._smooth = True
        self._source_rect_provider: SourceRectProvider | None = None
        self._overlays: list[FrameOverlay] = []
        self._hidden_overlays: list[FrameOverlay] = []
        self.painted_pts: int | None = None
        self._stats_lines: list[Callable[[], str]] = []
        self._info: InfoEvent | None = None
        self._source_stats: StatsEvent | None = None
        self._collector = StatsCollector()
        #: Set by a face that shows something else than the camera (review): wins over state.
        self._forced: tuple[Placeholder, list[str]] | None = None
        self._badge_override: tuple[str, tuple[int, int, int]] | None = None
        self._overlays_hidden = False  # review: live detections do not belong on recordings
        #: paintEvents so far, and those that found their slot overwritten (tests, diagnostics).
        self.paint_count = 0
        self.torn_count = 0
        if ring_name:
            self.set_ring(ring_name)

    # -- ring ---------------------------------------------------------------------------------

    @property
    def ring_name(self) -> str | None:
        """Name of the ring being shown."""
        return self._ring.name if self._ring is not None else None

    @property
    def ring(self) -> FrameRing | None:
        """The attached ring (owned by this view: do not close it)."""
        return self._ring

    def set_ring(self, ring_name: str | None) -> None:
        """Show ring ``ring_name`` from now on (None: none); raises RingError if it is absent."""
        if ring_name == self.ring_name and ring_name is not None:
            return
        self._detach()
        self._ring_error = None
        self._successor_error = None
        if ring_name:
            self._ring = FrameRing.attach(ring_name)
            self._seen_seq = self._ring.latest_seq
        self.ring_changed.emit(ring_name or "")
        self.update()

    def close_ring(self) -> None:
        """Detach from the ring (e.g. before the widget goes away); the picture shows no camera."""
        if self._ring is not None:
            self._detach()
            self.ring_changed.emit("")
            self.update()

    def _detach(self) -> None:
        ring, self._ring = self._ring, None
        self._seen_seq = self._shown_seq = 0
        self._idle_polls = 0
        if ring is not None:
            ring.close()

    def _follow_successor(self, ring: FrameRing) -> None:
        """The ring was replaced (the camera's resolution changed): move to the new one."""
        successor = ring.successor
        if not successor:
            return
        try:
            self.set_ring(successor)
        except RingError as exc:
            # Already replaced again, or the camera stopped: the owner's next RingEvent or
            # StateEvent will put things right; say so once, not every poll.
            if self._successor_error != str(exc):
                self._successor_error = str(exc)
                log.debug("cannot follow ring %s to %s: %s", ring.name, successor, exc)
            return
        log.debug("followed ring %s to its successor %s", ring.name, successor)

    # -- state ----------------------------------------------------------------------------------

    @property
    def state(self) -> CameraState | None:
        """The camera state last set (None: no events so far)."""
        return self._state

    @property
    def reason(self) -> str:
        """Why the camera is in its state, as shown to people."""
        return self._reason

    def set_state(
        self, state: CameraState | None, reason: str = "", retry_in_s: float | None = None
    ) -> None:
        """Show ``state`` with ``reason``; ``retry_in_s`` starts a countdown to the next attempt."""
        changed = state is not self._state
        self._state = state
        self._reason = reason
        if state is CameraState.FAILED:
            retry_in_s = None  # never shown for Failed; no countdown repaints either
        self._retry_deadline = (
            time.monotonic() + max(0.0, retry_in_s) if retry_in_s is not None else None
        )
        self._shown_countdown = None
        if state is CameraState.STREAMING:
            self._shown_seq = 0  # paint the ring's newest frame even if painted before
        self.update()
        if changed:
            self.state_changed.emit(state)

    def apply_event(self, event: CaptureEvent) -> None:
        """Update the view from a capture event (state, ring, stats or stream info)."""
        if isinstance(event, StateEvent):
            retry = event.retry_in_s
            if retry is not None:
                # The countdown started when the event was made, not when it arrived.
                retry -= max(0.0, time.time() - event.at)
            self.set_state(event.state, event.reason, retry)
            if event.state is CameraState.STOPPED:
                self.close_ring()  # its owner unlinks it now; free the mapping too
        elif isinstance(event, RingEvent):
            try:
                self.set_ring(event.ring_name)
            except RingError as exc:
                self._ring_error = str(exc)
                log.warning("%s: cannot show ring %s: %s", event.camera, event.ring_name, exc)
                self.update()
        elif isinstance(event, StatsEvent):
            self._source_stats = event
            if self._stats_visible:
                self.update()
        elif isinstance(event, InfoEvent):
            self._info = event
            self.update()

    def status_lines(self) -> list[str]:
        """The text the view shows instead of a picture (empty while it paints frames)."""
        kind, lines = self._placeholder()
        return lines if kind is not None else []

    def status_text(self) -> str:
        """:meth:`status_lines` as one string, e.g. ``"No Signal\\nrefused\\nretrying in 3 s"``."""
        return "\n".join(self.status_lines())

    def _split_reason(self) -> tuple[str, str]:
        """(reason without a leading URL, the URL it named or the view's source text)."""
        reason, source = self._reason, self._source_text
        match = _URL_PREFIX.match(reason)
        if match is not None:
            return match.group("rest"), match.group("url")
        if source and reason.endswith(f" {source}"):
            # "connecting to <url>": the URL gets a line of its own.
            rest = reason[: -len(source) - 1]
            return ("" if rest.lower() == "connecting to" else rest), source
        return reason, source

    def short_reason(self) -> str:
        """The reason without the source's URL in front (the picture shows the URL last)."""
        return self._split_reason()[0]

    def full_status_text(self) -> str:
        """Everything the picture says, never shortened (tooltips, the Details dialog)."""
        kind, lines = self._choose_placeholder()
        head = lines[0] if kind is not None and lines else "Live"
        parts = [head, self._reason or self.short_reason()]
        if self._source_text and self._source_text not in parts[1]:
            parts.append(self._source_text)
        return "\n".join(part for part in parts if part)

    @property
    def source_text(self) -> str:
        """Where the picture comes from, as shown (a masked URL)."""
        return self._source_text

    def set_source_text(self, text: str) -> None:
        """Show ``text`` (a masked URL: never pass one with a password) under the reason."""
        self._source_text = text
        self.update()

    def _countdown(self) -> int | None:
        if self._retry_deadline is None:
            return None
        return max(0, math.ceil(self._retry_deadline - time.monotonic()))

    def _retry_line(self) -> list[str]:
        left = self._countdown()
        if left is None:
            return []
        return [f"retrying in {left} s" if left > 0 else "retrying now…"]

    def _has_frame(self) -> bool:
        return self._ring is not None and self._ring.latest_seq > 0

    def _placeholder(self) -> tuple[Placeholder | None, list[str]]:
        """Which picture to draw instead of a frame, and its text (None: paint the frame)."""
        kind, lines = self._choose_placeholder()
        return kind, [line for line in lines if line]

    def set_forced_placeholder(
        self, kind: Placeholder | None, lines: list[str] | None = None
    ) -> None:
        """Show ``kind``'s picture whatever the state or ring (None: back to normal)."""
        self._forced = None if kind is None else (kind, list(lines or []))
        self.update()

    def set_badge_override(self, badge: tuple[str, tuple[int, int, int]] | None) -> None:
        """Show (text, rgb) as the corner badge instead of the state's (None: the state's)."""
        self._badge_override = badge
        self.update()

    def set_overlays_hidden(self, hidden: bool, instead: list[FrameOverlay] | None = None) -> None:
        """Leave the overlays (detection boxes) out while ``hidden``; draw ``instead`` then
        (e.g. the recorded detections of a review)."""
        self._overlays_hidden = hidden
        self._hidden_overlays = list(instead or []) if hidden else []
        self.update()

    def _choose_placeholder(self) -> tuple[Placeholder | None, list[str]]:
        if self._forced is not None:
            return self._forced
        state = self._state
        reason, source = self._split_reason()
        if state in (CameraState.LOST, CameraState.BACKOFF):
            return Placeholder.NO_SIGNAL, ["No Signal", reason, *self._retry_line(), source]
        if state is CameraState.FAILED:
            # Failed is final until someone acts: no countdown, whatever the event carried.
            return Placeholder.FAILED, ["Failed", reason, source]
        if state is CameraState.CONNECTING:
            return Placeholder.CONNECTING, ["Connecting…", reason, source]
        if state is CameraState.STOPPED:
            reason = "" if reason in ("", "stopped") else reason
            return Placeholder.STOPPED, ["Stopped", reason]
        if self._ring is None:
            if self._ring_error:
                return Placeholder.NO_SIGNAL, ["No Signal", self._ring_error]
            if state is CameraState.STREAMING:
                return Placeholder.WAITING, ["Waiting for video…"]
            return Placeholder.NO_CAMERA, ["No camera"]
        if not self._has_frame():
            return Placeholder.WAITING, ["Waiting for video…"]
        return None, []

    # -- appearance -------------------------------------------------------------------------------

    @property
    def title(self) -> str:
        """Text in the top-left corner (the camera name in a wall)."""
        return self._title

    def set_title(self, title: str) -> None:
        """Show ``title`` in the top-left corner ("" for none)."""
        self._title = title
        self.update()

    def set_badge_visible(self, visible: bool) -> None:
        """Show the state badge (LIVE, NO SIGNAL, …) in the top-right corner."""
        self._show_badge = visible
        self.update()

    @property
    def stats_visible(self) -> bool:
        """True while the stats overlay is shown."""
        return self._stats_visible

    def set_stats_visible(self, visible: bool) -> None:
        """Show fps in/shown, dropped frames, latency and resolution over the picture."""
        self._stats_visible = visible
        self.update()

    def set_highlighted(self, highlighted: bool) -> None:
        """Draw a selection frame around the view."""
        if highlighted != self._highlighted:
            self._highlighted = highlighted
            self.update()

    def set_smooth_scaling(self, smooth: bool) -> None:
        """Bilinear (default) or nearest-neighbour scaling."""
        self._smooth = smooth
        self.update()

    def add_overlay(self, overlay: FrameOverlay) -> None:
        """Call ``overlay`` after every frame paint (e.g. detection boxes); see FrameOverlay."""
        self._overlays.append(overlay)
        self.update()

    def remove_overlay(self, overlay: FrameOverlay) -> None:
        """Stop calling ``overlay`` (no-op if it was not added)."""
        if overlay in self._overlays:
            self._overlays.remove(overlay)
            self.update()

    def add_stats_line(self, line: Callable[[], str]) -> None:
        """Append ``line()`` to the stats overlay (skipped while it returns "")."""
        self._stats_lines.append(line)

    def set_source_rect_provider(self, provider: SourceRectProvider | None) -> None:
        """Paint only part of each frame: ``provider(frame_w, frame_h) -> (x, y, w, h)``.

        This is the seam for digital zoom: ``view.set_source_rect_provider(zoom.source_rect)``
        with a ``camwall.control.DigitalZoom``. None shows the whole frame. Call
        :meth:`update` when the provider's answer changes.
        """
        self._source_rect_provider = provider
        self.update()

    @property
    def stream_info(self) -> InfoEvent | None:
        """What the source declared when it opened (codec, native size), if known."""
        return self._info

    def stats(self) -> ViewStats | None:
        """The view's measurements over the last complete interval (None: none yet)."""
        return self._collector.latest

    @property
    def shown_seq(self) -> int:
        """Sequence number of the frame painted last (0: none)."""
        return self._shown_seq

    def sizeHint(self) -> QSize:
        """A 16:9 default size."""
        return QSize(640, 360)

    def minimumSizeHint(self) -> QSize:
        """Small enough for a 4×4 wall on a laptop screen."""
        return QSize(96, 54)

    # -- frame clock -------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent | None) -> None:
        """Start polling for frames while visible."""
        super().showEvent(event)
        self._repaint_pending = False
        # Frames published while hidden were never meant to be painted: not "dropped".
        self._shown_seq = 0
        if self._ring is not None:
            self._seen_seq = self._ring.latest_seq
        self._clock.register(self)

    def hideEvent(self, event: QHideEvent | None) -> None:
        """Hidden views cost nothing."""
        super().hideEvent(event)
        self._clock.unregister(self)

    def poll_frame(self) -> None:
        """Called by the frame clock: repaint if the ring has a frame not painted yet."""
        now = time.monotonic()
        ring = self._ring
        if ring is not None:
            seq = ring.latest_seq
            if seq != self._seen_seq:
                if seq > self._seen_seq:
                    self._collector.published(seq - self._seen_seq)
                self._seen_seq = seq
                self._idle_polls = 0
            else:
                self._idle_polls += 1
                if self._idle_polls % _SUCCESSOR_POLLS == 0:
                    self._follow_successor(ring)
                    if self._ring is not ring:
                        return
            if seq and seq != self._shown_seq and self._state in _FRAME_STATES:
                self._request_repaint(now)
        if self._retry_deadline is not None and self._countdown() != self._shown_countdown:
            self._request_repaint(now)
        if self._collector.due(now):
            self._collector.roll(now)
            if self._stats_visible:
                self._request_repaint(now)

    def _request_repaint(self, now: float) -> None:
        """At most one repaint pending: more frames meanwhile are simply not painted."""
        if self._repaint_pending and now - self._pending_since < _PENDING_STALE_S:
            return
        self._repaint_pending = True
        self._pending_since = now
        self.update()

    # -- painting ------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent | None) -> None:
        """Draw the newest frame (or the state picture) and the overlays."""
        start = time.perf_counter_ns()
        self._repaint_pending = False
        painter = QPainter(self)
        try:
            bounds = self.rect()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
            kind, lines = self._placeholder()
            showing_video = kind is None and self._paint_frame(painter, bounds)
            if not showing_video:
                if kind is None:
                    kind, lines = Placeholder.WAITING, ["Waiting for video…"]
                paint_placeholder(painter, bounds, kind, lines)
                self._shown_countdown = self._countdown()
            self._paint_overlay(painter, bounds, showing_video)
        finally:
            painter.end()
        self.paint_count += 1
        self._collector.paint_cost(time.perf_counter_ns() - start)

    def _paint_frame(self, painter: QPainter, bounds: QRect) -> bool:
        """Draw the ring's newest frame; False if there is none."""
        ring = self._ring
        if ring is None:
            return False
        with ring.view_latest() as view:
            if view is None:
                return False
            info = view.info
            source = self._source_rect(info.width, info.height)
            target = fit_rect(source.width(), source.height(), bounds)
            fill_letterbox(painter, bounds, target)
            with wrap_frame(view.array, info.fmt) as image:
                self._draw_image(painter, target, image, source)
            intact = view.intact()
        #: The painted frame's pts (a recorded frame's time, in review).
        self.painted_pts = info.pts
        overlays = self._hidden_overlays if self._overlays_hidden else self._overlays
        for overlay in overlays:
            overlay(painter, target, source, QSize(info.width, info.height))
        if not intact:
            # The writer lapped us while we painted: what we drew may mix two frames.
            # Paint again at once with whatever is newest now.
            self.torn_count += 1
            self._collector.torn += 1
            self._shown_seq = 0
            self._repaint_pending = True
            self._pending_since = time.monotonic()
            self.update()
            return True
        if info.seq != self._shown_seq:
            if self._shown_seq and info.seq > self._shown_seq + 1:
                self._collector.skipped += info.seq - self._shown_seq - 1
            self._collector.shown(time.monotonic_ns() - info.capture_ns, info.width, info.height)
        self._shown_seq = info.seq
        return True

    def _draw_image(self, painter: QPainter, target: QRect, image: QImage, source: QRectF) -> None:
        """The one drawImage call (a separate method so tests can act in the middle of a paint)."""
        painter.drawImage(QRectF(target), image, source)

    def _source_rect(self, width: int, height: int) -> QRectF:
        if self._source_rect_provider is None:
            return QRectF(0, 0, width, height)
        got = self._source_rect_provider(width, height)
        if isinstance(got, tuple):
            x, y, w, h = got
        else:
            x, y, w, h = got.x, got.y, got.width, got.height
        rect = QRectF(x, y, w, h).intersected(QRectF(0, 0, width, height))
        return rect if rect.width() > 0 and rect.height() > 0 else QRectF(0, 0, width, height)

    def _paint_overlay(self, painter: QPainter, bounds: QRect, showing_video: bool) -> None:
        small = max(10, min(16, bounds.height() // 24))
        if self._title:
            paint_label(painter, bounds, self._title, left=True, top=True, pixels=small)
        if self._show_badge:
            text, rgb = self._badge_override or _BADGES.get(self._state, ("", (0, 0, 0)))
            if text:
                paint_label(
                    painter, bounds, text, left=False, top=True, pixels=small, dot=QColor(*rgb)
                )
        if self._stats_visible and showing_video:
            paint_label(painter, bounds, self.stats_text(), left=True, top=False, pixels=small)
        if self._highlighted:
            paint_highlight(painter, bounds)

    def stats_text(self) -> str:
        """The stats overlay: size and codec, then rates, dropped frames and latency."""
        stats = self._collector.latest
        source = self._source_stats
        width = stats.width if stats and stats.width else (source.width if source else 0)
        height = stats.height if stats and stats.height else (source.height if source else 0)
        first = [f"{width}×{height}"] if width else []
        if self._info is not None:
            first.append(self._info.codec)
            if (self._info.width, self._info.height) != (width, height) and self._info.width:
                first.append(f"from {self._info.width}×{self._info.height}")
        second: list[str] = []
        fps_in = source.fps_in if source is not None else (stats.fps_in if stats else None)
        if fps_in is not None:
            second.append(f"in {fps_in:.1f}")
        if stats is not None:
            second.append(f"shown {stats.fps_shown:.1f} fps")
        dropped = (source.dropped if source else 0) + (stats.skipped if stats else 0)
        second.append(f"dropped {dropped} frame{'' if dropped == 1 else 's'}")
        if stats is not None and stats.latency_ms is not None:
            second.append(f"{stats.latency_ms:.0f} ms")
        extra = [text for line in self._stats_lines if (text := line())]
        return "\n".join(line for line in (" · ".join(first), " · ".join(second), *extra) if line)
