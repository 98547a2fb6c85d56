"""The bridge from the detection service's thread to the UI thread.

:class:`~camwall.detect.DetectionService` calls its ``on_message`` callback on its own
supervisor thread. :class:`DetectionBridge` turns each message into a queued Qt signal,
delivered on the thread the bridge lives in (the UI thread). Messages are small (boxes as
plain numbers, stats once a second): no pixels travel here. Each message is tagged with the
generation of the service that sent it, so messages of a service the wall has replaced
(another detector was chosen) can be told apart and dropped.
"""

from __future__ import annotations

import threading

from qtpy.QtCore import QObject

from camwall.detect.messages import Message
from camwall.ui.qt_compat import Signal


class DetectionBridge(QObject):
    """Thread-safe ``post(generation, message)`` → ``message_received(generation, message)``."""

    #: A detection message and the generation of the service that sent it, on the UI thread.
    message_received = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        """Create the bridge in the thread that should receive the messages (the UI thread)."""
        super().__init__(parent)
        self._lock = threading.Lock()
        self._closed = False

    def post(self, generation: int, message: Message) -> None:
        """Deliver ``message`` (callable from any thread; ignored once closed)."""
        with self._lock:
            # Held while emitting so close() cannot let the QObject go mid-emit.
            if not self._closed:
                self.message_received.emit(generation, message)

    def close(self) -> None:
        """Drop every later message (call before the bridge is deleted)."""
        with self._lock:
            self._closed = True
