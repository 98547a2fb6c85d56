"""What a video view measures about itself: rates in and out, latency, and its own paint cost."""

from __future__ import annotations

import time
from dataclasses import dataclass

#: Length of one measurement interval.
INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class ViewStats:
    """One interval of a view's measurements (the overlay shows these)."""

    #: Frames published into the ring per second (from its sequence numbers).
    fps_in: float
    #: Distinct frames painted per second.
    fps_shown: float
    #: Frames published but never painted (the view only paints the newest), in total.
    skipped: int
    #: Mean and worst capture→paint latency of the frames painted in the interval.
    latency_ms: float | None
    latency_max_ms: float | None
    #: Mean and worst UI-thread time of one paintEvent in the interval.
    paint_ms: float | None
    paint_max_ms: float | None
    #: Paints whose slot was overwritten while painting (repainted at once), in total.
    torn: int
    #: Size of the last painted frame (0×0: none yet).
    width: int = 0
    height: int = 0


class StatsCollector:
    """Accumulates per-frame numbers on the UI thread and rolls them into :class:`ViewStats`."""

    def __init__(self) -> None:
        """Start with an empty interval."""
        self.latest: ViewStats | None = None
        self.skipped = 0
        self.torn = 0
        self.width = 0
        self.height = 0
        self._begin(time.monotonic())

    def _begin(self, now: float) -> None:
        self._start = now
        self._published = 0
        self._shown = 0
        self._latency_sum = 0.0
        self._latency_max = 0.0
        self._paints = 0
        self._paint_sum = 0.0
        self._paint_max = 0.0

    def published(self, frames: int) -> None:
        """``frames`` new frames appeared in the ring since the last poll."""
        self._published += frames

    def shown(self, latency_ns: int, width: int, height: int) -> None:
        """A new frame was painted, ``latency_ns`` after it was captured."""
        ms = latency_ns / 1e6
        self._shown += 1
        self._latency_sum += ms
        self._latency_max = max(self._latency_max, ms)
        self.width, self.height = width, height

    def paint_cost(self, ns: int) -> None:
        """One paintEvent took ``ns`` of UI-thread time."""
        ms = ns / 1e6
        self._paints += 1
        self._paint_sum += ms
        self._paint_max = max(self._paint_max, ms)

    def due(self, now: float) -> bool:
        """True once the current interval is over."""
        return now - self._start >= INTERVAL_S

    def roll(self, now: float) -> ViewStats:
        """Close the interval, publish it as :attr:`latest`, and start the next."""
        span = max(1e-6, now - self._start)
        self.latest = ViewStats(
            fps_in=self._published / span,
            fps_shown=self._shown / span,
            skipped=self.skipped,
            latency_ms=self._latency_sum / self._shown if self._shown else None,
            latency_max_ms=self._latency_max if self._shown else None,
            paint_ms=self._paint_sum / self._paints if self._paints else None,
            paint_max_ms=self._paint_max if self._paints else None,
            torn=self.torn,
            width=self.width,
            height=self.height,
        )
        self._begin(now)
        return self.latest
