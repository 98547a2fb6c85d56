"""The one bridge from the capture supervisor's thread to the UI thread.

The supervisor calls its event callback from its own thread. :class:`EventBridge` turns each
event into a queued Qt signal, delivered on the thread the bridge lives in (the UI thread).
Events are small (state, stats once a second, log lines): no pixels ever travel here.
"""

from __future__ import annotations

import threading

from qtpy.QtCore import QObject

from camwall.capture.events import CaptureEvent
from camwall.ui.qt_compat import Signal


class EventBridge(QObject):
    """Thread-safe ``post(event)`` → ``event_received(event)`` on the bridge's own thread."""

    #: A capture event, delivered on the UI thread.
    event_received = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        """Create the bridge in the thread that should receive the events (the UI thread)."""
        super().__init__(parent)
        self._lock = threading.Lock()
        self._closed = False

    def post(self, event: CaptureEvent) -> None:
        """Deliver ``event`` (callable from any thread; ignored once closed)."""
        with self._lock:
            # Held while emitting so close() cannot let the QObject go mid-emit.
            if not self._closed:
                self.event_received.emit(event)

    def close(self) -> None:
        """Drop every later event (call before the bridge is deleted)."""
        with self._lock:
            self._closed = True
