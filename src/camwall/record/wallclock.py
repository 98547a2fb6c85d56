"""The wall-clock time of a stream's frames, from when their packets arrived.

A packet arrives some time after its frame was captured: network, the camera's encoder and
our own scheduling add a delay that is never negative and often jumps by tens of
milliseconds on a busy machine. The least-delayed packet is the best witness, so the
estimate is ``media time + min(arrival - media time)`` over the packets of the last
``window_s`` seconds (a sliding minimum, O(1) per packet). The window lets the estimate follow
a camera clock that drifts against ours; a stream whose timestamps jump starts afresh
(:meth:`WallClock.reset`).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable

#: Seconds of packets the minimum delay is taken over.
WINDOW_S = 10.0


class WallClock:
    """Estimates the wall-clock time (epoch s) of media instants; see the module docstring."""

    def __init__(self, clock: Callable[[], float] = time.time, window_s: float = WINDOW_S) -> None:
        """``clock`` gives the arrival time of the packet being observed."""
        self._clock = clock
        self._window_s = window_s
        # (arrival, arrival - media): values increase from left to right (a monotonic queue).
        self._offsets: collections.deque[tuple[float, float]] = collections.deque()

    def reset(self) -> None:
        """Forget the past: the stream's timestamps no longer continue the old ones."""
        self._offsets.clear()

    def observe(self, media_s: float) -> float:
        """A packet of media time ``media_s`` arrives now; its frame's wall-clock time."""
        now = self._clock()
        offset = now - media_s
        offsets = self._offsets
        while offsets and offsets[-1][1] >= offset:
            offsets.pop()
        offsets.append((now, offset))
        while offsets[0][0] < now - self._window_s:
            offsets.popleft()
        return media_s + offsets[0][1]
