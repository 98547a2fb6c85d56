"""Measuring UI event-loop stalls: a 5 ms Qt timer and the longest gap between its ticks.

Used by the wall's and the control panel's tests (the < 50 ms event-loop stall budget).
"""

from __future__ import annotations

import time

from qtpy.QtCore import QObject, Qt, QTimer


def run_queue_wait_s() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux schedstat)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class StallMeter(QObject):
    """A 5 ms timer on the UI thread; the longest gap between its ticks is the worst stall.

    ``worst_ms`` is the raw gap. ``worst_own_ms`` subtracts the time the kernel kept the UI
    thread waiting for a CPU during that gap: on a shared 2-core machine other test runs can
    starve the whole process for tens of ms, which says nothing about camwall. What is left
    is time the UI thread was running or blocked — the stalls camwall is responsible for.
    """

    def __init__(self) -> None:
        super().__init__()
        self.worst_ms = 0.0
        self.worst_own_ms = 0.0
        self._last = time.perf_counter()
        self._last_wait = run_queue_wait_s()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, wait = time.perf_counter(), run_queue_wait_s()
        gap = now - self._last
        self.worst_ms = max(self.worst_ms, gap * 1000)
        self.worst_own_ms = max(self.worst_own_ms, (gap - (wait - self._last_wait)) * 1000)
        self._last, self._last_wait = now, wait

    def start(self) -> None:
        """Begin measuring."""
        self._last, self._last_wait = time.perf_counter(), run_queue_wait_s()
        self._timer.start()

    def stop(self) -> float:
        """Stop measuring; the worst stall in ms without time spent waiting for a CPU."""
        self._timer.stop()
        return self.worst_own_ms
