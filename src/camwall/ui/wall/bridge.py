"""The one bridge from the runtime's threads to the UI thread.

The runtime calls its subscribers from worker threads (capture supervisor, detection service,
control loop). :class:`RuntimeBridge` subscribes once and turns each event into a queued Qt
signal, delivered on the thread the bridge lives in (the UI thread). Events are small
(state, stats once a second, log lines, detections): no pixels ever travel here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from qtpy.QtCore import QObject

from camwall.runtime import Runtime, RuntimeEvent
from camwall.ui.qt_compat import Signal


class RuntimeBridge(QObject):
    """Subscribes to ``runtime``; ``event_received(RuntimeEvent)`` fires on the UI thread."""

    #: A runtime event, delivered on the bridge's thread.
    event_received = Signal(object)

    def __init__(self, runtime: Runtime, parent: QObject | None = None) -> None:
        """Create the bridge in the thread that should receive the events (the UI thread)."""
        super().__init__(parent)
        self._lock = threading.Lock()
        self._closed = False
        self._unsubscribe: Callable[[], None] = runtime.subscribe(self.post)

    def post(self, event: RuntimeEvent) -> None:
        """Deliver ``event`` (callable from any thread; ignored once closed)."""
        with self._lock:
            # Held while emitting so close() cannot let the QObject go mid-emit.
            if not self._closed:
                self.event_received.emit(event)

    def close(self) -> None:
        """Unsubscribe and drop every later event (call before the bridge is deleted)."""
        with self._lock:
            self._closed = True
        self._unsubscribe()
