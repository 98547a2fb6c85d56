"""When a live stream counts as lost: read, stall and first-frame limits that adapt to it.

Real cameras have habits a fixed timeout mistakes for death:

- A long GOP ("smart codec" cameras send a keyframe every 4–10 s): a client that joins
  mid-GOP gets packets at the normal rate but nothing decodable until the next keyframe.
  Packets arriving is not a stall; only the *first-frame* limit (``first_frame_timeout_s``,
  adaptive: 12 s) bounds the wait for a picture.
- A slow camera (0.25 fps in event or timelapse modes) sends nothing for 4 s between frames:
  the read and stall limits follow the observed frame interval (3 intervals, at least the
  base read timeout, at most 20 s) when ``read_timeout_s`` is left adaptive (None).

The rhythm is learned from packet arrival times and decode timestamps (whichever gap is
larger: packets FFmpeg buffered while probing arrive together but keep their timestamps).
Until one interval is known the read wait is the first-frame limit: a stream is not declared
dead before it had a chance to show its pace.

One :class:`Liveness` per source, used from the source's thread; :meth:`lost` runs inside
FFmpeg's interrupt polls, so it only compares numbers computed when packets and frames come.
"""

from __future__ import annotations

import collections
from typing import Literal

from camwall.sources.base import (
    FIRST_FRAME_TIMEOUT_S,
    READ_TIMEOUT_BASE_S,
    READ_TIMEOUT_INTERVALS,
    READ_TIMEOUT_MAX_S,
    SourceSettings,
)

LostReason = Literal["read-timeout", "stall", "no-keyframe"]
#: Frame intervals remembered for the rhythm (the longest of them counts).
RHYTHM_WINDOW = 8
#: Gaps longer than this are outages or timestamp jumps, not the stream's rhythm.
MAX_RHYTHM_GAP_S = 60.0


class Liveness:
    """Tracks a stream's packets and frames; says when (and why) it counts as lost."""

    def __init__(self, settings: SourceSettings) -> None:
        """Limits come from ``settings``; None there means adaptive."""
        self.settings = settings
        self._gaps: collections.deque[float] = collections.deque(maxlen=RHYTHM_WINDOW)
        self.last_frame_at = 0.0
        self.last_progress_at = 0.0
        self._last_arrival: float | None = None
        self._last_dts_s: float | None = None
        self.read_limit = settings.base_read_timeout_s
        self.stall_limit = settings.stall_timeout_s
        self.first_frame_limit = FIRST_FRAME_TIMEOUT_S
        self._update_limits()

    def reset(self, now: float) -> None:
        """A fresh connection: forget the rhythm, start every clock at ``now``."""
        self._gaps.clear()
        self.last_frame_at = self.last_progress_at = now
        self._last_arrival = self._last_dts_s = None
        self._update_limits()

    @property
    def interval_s(self) -> float | None:
        """The stream's frame interval as observed (the longest recent one), if known."""
        return max(self._gaps) if self._gaps else None

    def packet(self, now: float, dts_s: float | None) -> None:
        """A packet arrived at ``now`` with decode timestamp ``dts_s`` (seconds, if known)."""
        gap = 0.0
        if self._last_arrival is not None:
            gap = now - self._last_arrival
        if dts_s is not None and self._last_dts_s is not None:
            gap = max(gap, dts_s - self._last_dts_s)
        if self._last_arrival is not None and 0.0 < gap <= MAX_RHYTHM_GAP_S:
            self._gaps.append(gap)
            self._update_limits()
        self._last_arrival = now
        if dts_s is not None:
            self._last_dts_s = dts_s

    def progress(self, now: float) -> None:
        """A packet the decoder accepted (or skipped on the way to a keyframe)."""
        self.last_progress_at = now

    def frame(self, now: float) -> None:
        """A decoded frame was delivered."""
        self.last_frame_at = self.last_progress_at = now

    def _update_limits(self) -> None:
        s = self.settings
        interval = self.interval_s
        # A set read timeout longer than the adaptive cap raises the cap: the user knows
        # the camera is that slow.
        cap = max(READ_TIMEOUT_MAX_S, s.read_timeout_s or 0.0)
        rhythm = min(cap, READ_TIMEOUT_INTERVALS * interval) if interval is not None else None
        first = s.first_frame_timeout_s
        if first is None:
            first = max(FIRST_FRAME_TIMEOUT_S, rhythm or 0.0)
        self.first_frame_limit = first
        if s.read_timeout_s is not None:
            self.read_limit = s.read_timeout_s
        elif rhythm is None:
            # The pace is unknown yet: a slow camera's second frame may be seconds away.
            self.read_limit = max(READ_TIMEOUT_BASE_S, first)
        else:
            self.read_limit = max(READ_TIMEOUT_BASE_S, rhythm)
        if rhythm is None:
            self.stall_limit = max(s.stall_timeout_s, min(self.read_limit, first))
        else:
            self.stall_limit = max(s.stall_timeout_s, rhythm)

    def lost(self, now: float, read_started: float | None = None) -> LostReason | None:
        """Why the stream counts as lost at ``now`` (a read blocked since ``read_started``)."""
        if read_started is not None and now - read_started > self.read_limit:
            return "read-timeout"
        if now - self.last_progress_at > self.stall_limit:
            return "stall"
        if now - self.last_frame_at > self.first_frame_limit:
            return "no-keyframe"
        return None

    def limit(self, reason: LostReason) -> float:
        """The limit (seconds) behind ``reason``."""
        if reason == "read-timeout":
            return self.read_limit
        if reason == "stall":
            return self.stall_limit
        return self.first_frame_limit
