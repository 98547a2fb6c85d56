"""The bridge from the camera-control thread to the UI thread: futures and calls, as queued signals.

:class:`camwall.control.ControlService` runs every camera request on its own thread and
completes a :class:`concurrent.futures.Future` there; its callbacks (``on_capabilities``,
``on_error``) also run there. Widgets must not be touched from that thread, so every result
crosses over here: :meth:`ControlBridge.watch` runs a callback with the finished future, and
:meth:`ControlBridge.call_soon` runs any function, both later on the bridge's own thread (the
UI thread) through a queued signal. Nothing ever waits for a camera on the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from qtpy.QtCore import QObject

from camwall.ui.qt_compat import Signal, connect_queued

T = TypeVar("T")


class ControlBridge(QObject):
    """Delivers control-thread results on the thread the bridge lives in (see module docstring)."""

    _deliver = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        """Create the bridge on the thread that should run the callbacks (the UI thread)."""
        super().__init__(parent)
        self._lock = threading.Lock()
        self._closed = False
        connect_queued(self._deliver, self._run)

    def watch(self, future: Future[T], callback: Callable[[Future[T]], object]) -> Future[T]:
        """Run ``callback(future)`` on the UI thread once ``future`` is done (never inline)."""

        def done(finished: Future[T]) -> None:
            """Runs on whichever thread completed the future: hand over, do nothing else."""
            self.call_soon(callback, finished)

        future.add_done_callback(done)
        return future

    def call_soon(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` on the UI thread soon (callable from any thread)."""
        with self._lock:
            # Held while emitting so close() cannot let the QObject go mid-emit.
            if not self._closed:
                self._deliver.emit(fn, args)

    def _run(self, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        if not self._closed:
            fn(*args)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Drop every later delivery, also those already queued (call before deleting it)."""
        with self._lock:
            self._closed = True
