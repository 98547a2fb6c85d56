"""One clock per application that tells visible video views to look for new frames.

This is how frame notification is coalesced: no signal per frame exists. On every tick each
visible view reads one shared-memory word, its ring's latest sequence number, and schedules
a repaint only if it changed and no repaint is pending. However fast a camera publishes, a
view repaints at most once per tick, and always shows the newest frame.

A tick comes from one of two places:

* a **frame-notification descriptor** (:meth:`FrameClock.watch`): capture workers write a
  byte into a pipe per published frame, so the clock wakes exactly when there is news —
  no idle wake-ups, no polling delay. Bytes that pile up while the UI is busy are drained
  in one read: one tick covers them all.
* a **timer**: every 8 ms while nothing is watched (a view fed by a ring from elsewhere),
  and a slow 40 ms fallback while a descriptor is watched (countdowns, stats, and any ring
  whose writer does not notify).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from qtpy.QtCore import QCoreApplication, QObject, QSocketNotifier, Qt, QTimer

log = logging.getLogger(__name__)

#: Tick interval: faster than any display refresh, so a new frame waits at most this long.
DEFAULT_INTERVAL_MS = 8
#: Timer interval while a notification descriptor drives the ticks.
FALLBACK_INTERVAL_MS = 40


class FrameClockClient(Protocol):
    """What the clock calls on each registered view."""

    def poll_frame(self) -> None:
        """Check the ring for a new frame and schedule a repaint if there is one."""


class FrameClock(QObject):
    """A timer that polls registered views; it runs only while at least one is registered."""

    _shared: FrameClock | None = None

    def __init__(self, interval_ms: int = DEFAULT_INTERVAL_MS, parent: QObject | None = None):
        """Create a clock; most code wants the application's :meth:`shared` clock instead."""
        super().__init__(parent)
        self._clients: dict[int, FrameClockClient] = {}
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick)
        self._paused = False
        self._interval_ms = interval_ms
        self._notifiers: dict[int, QSocketNotifier] = {}
        #: Ticks delivered so far (for tests and diagnostics).
        self.ticks = 0

    @classmethod
    def shared(cls) -> FrameClock:
        """The one clock of the running QApplication (created on first use)."""
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create a QApplication before using camwall video views")
        clock = cls._shared
        if clock is not None:
            try:
                if clock.parent() is app:
                    return clock
            except RuntimeError:
                pass  # the previous application, and the clock with it, was destroyed
        clock = cls._shared = cls(parent=app)
        return clock

    @property
    def interval_ms(self) -> int:
        """Milliseconds between ticks."""
        return int(self._timer.interval())

    def set_interval_ms(self, interval_ms: int) -> None:
        """Change the polling interval (e.g. to the display's refresh period)."""
        self._interval_ms = max(1, int(interval_ms))
        self._update_interval()

    def _update_interval(self) -> None:
        slow = max(self._interval_ms, FALLBACK_INTERVAL_MS)
        self._timer.setInterval(slow if self._notifiers else self._interval_ms)

    def watch(self, fd: int, drain: Callable[[], object]) -> None:
        """Tick whenever ``fd`` becomes readable; ``drain()`` must empty it (non-blocking).

        While a descriptor is watched the timer only runs as a slow fallback.
        """
        if fd in self._notifiers:
            return
        # An int works in every binding; the PyQt5 stubs mypy reads only admit sip.voidptr.
        notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)  # type: ignore[arg-type]

        def on_ready(*_: object) -> None:
            drain()
            if not self._paused:
                self.tick()

        notifier.activated.connect(on_ready)
        self._notifiers[fd] = notifier
        self._update_interval()

    def unwatch(self, fd: int) -> None:
        """Stop watching ``fd`` (before it is closed)."""
        notifier = self._notifiers.pop(fd, None)
        if notifier is not None:
            notifier.setEnabled(False)
            notifier.deleteLater()
        self._update_interval()

    @property
    def running(self) -> bool:
        """True while the timer is ticking."""
        return bool(self._timer.isActive())

    @property
    def clients(self) -> int:
        """Number of registered views."""
        return len(self._clients)

    def register(self, client: FrameClockClient) -> None:
        """Start polling ``client`` (a view that became visible)."""
        self._clients[id(client)] = client
        if not self._paused and not self._timer.isActive():
            self._timer.start()

    def unregister(self, client: FrameClockClient) -> None:
        """Stop polling ``client`` (hidden or destroyed); the timer stops with the last one."""
        self._clients.pop(id(client), None)
        if not self._clients:
            self._timer.stop()

    def pause(self) -> None:
        """Stop ticking until :meth:`resume` (tests drive :meth:`tick` by hand this way)."""
        self._paused = True
        self._timer.stop()

    def resume(self) -> None:
        """Tick again after :meth:`pause`."""
        self._paused = False
        if self._clients:
            self._timer.start()

    def tick(self) -> None:
        """Poll every registered view once."""
        self.ticks += 1
        for key, client in list(self._clients.items()):
            try:
                client.poll_frame()
            except RuntimeError:
                # The view's C++ side was deleted without a hide event (its parent went
                # first): forget it rather than fail every later tick.
                log.debug("frame clock: dropping a deleted view")
                self._clients.pop(key, None)
        if not self._clients:
            self._timer.stop()
