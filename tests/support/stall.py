"""Measuring UI event-loop stalls: a 5 ms Qt timer and the longest gap between its ticks.

Used by the wall's and the control panel's tests (the < 50 ms event-loop stall budget).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from qtpy.QtCore import QObject, Qt, QTimer


def _wait_ns(path: str) -> int:
    try:
        with open(path) as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def run_queue_waits() -> dict[str, int]:
    """Nanoseconds each thread of this process has spent runnable but waiting for a CPU."""
    try:
        tasks = list(Path("/proc/self/task").iterdir())
    except OSError:
        return {}
    return {task.name: _wait_ns(str(task / "schedstat")) for task in tasks}


def starved_s(before: dict[str, int], after: dict[str, int]) -> float:
    """Longest time any one thread of ours waited for a CPU between two readings.

    The UI thread waiting for a CPU is the machine's doing; so is the UI thread waiting for
    the GIL while the thread holding it waits for a CPU (thread-mode capture workers hold
    it in turns). The longest such wait of any thread bounds what the environment added.
    """
    return max((after[t] - before.get(t, after[t]) for t in after), default=0) / 1e9


class StallMeter(QObject):
    """A 5 ms timer on the UI thread; the longest gap between its ticks is the worst stall.

    ``worst_ms`` is the raw gap. ``worst_own_ms`` subtracts the longest time one of this
    process's threads was kept waiting for a CPU during that gap (see :func:`starved_s`): on a
    shared 2-core machine other test runs can starve the whole process for tens of ms, which
    says nothing about camwall. What is left is the stall camwall is responsible for.
    """

    def __init__(self) -> None:
        super().__init__()
        self.worst_ms = 0.0
        self.worst_own_ms = 0.0
        self._last = time.perf_counter()
        self._last_waits = run_queue_waits()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, waits = time.perf_counter(), run_queue_waits()
        gap = now - self._last
        self.worst_ms = max(self.worst_ms, gap * 1000)
        own = gap - starved_s(self._last_waits, waits)
        self.worst_own_ms = max(self.worst_own_ms, own * 1000)
        self._last, self._last_waits = now, waits

    def start(self) -> None:
        """Begin measuring."""
        # The wall freezes its start-up heap (camwall.ui.wall.app.run_wall) so the cyclic GC
        # does not re-scan it; a test process has also accumulated every earlier test's
        # objects, whose full collections (100+ ms late in a run) are not camwall's stalls.
        gc.collect()
        gc.freeze()
        self._last, self._last_waits = time.perf_counter(), run_queue_waits()
        self._timer.start()

    def stop(self) -> float:
        """Stop measuring; the worst stall in ms without time spent waiting for a CPU."""
        self._timer.stop()
        gc.unfreeze()
        return self.worst_own_ms
