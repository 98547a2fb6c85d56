"""JSON lines out of the runtime, written by a thread of their own.

Events arrive on the capture supervisor's and the detection service's threads. Writing there
would let a slow reader (a full pipe, a stalled terminal, a slow disk) stall those threads,
then the workers' pipes, then capture itself. So events are queued (bounded) and written by
one thread; when the queue is full, events are dropped and counted, and a ``dropped`` line
says how many once writing catches up.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

log = logging.getLogger(__name__)

MAX_PENDING = 10_000


class JsonLinesWriter:
    """Queue dicts from any thread; one owned thread writes them as JSON lines to ``stream``.

    ``on_broken`` is called (once, from the writer thread) when the stream cannot be written
    any more — e.g. the reader of a pipe went away.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        max_pending: int = MAX_PENDING,
        on_broken: Callable[[], None] | None = None,
    ) -> None:
        """Prepare; :meth:`start` starts the writer thread."""
        self._stream = stream
        self._max_pending = max_pending
        self._on_broken = on_broken
        self._pending: collections.deque[dict[str, Any]] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False
        self._broken = False
        self._dropped = 0  # not yet reported
        self.dropped_total = 0
        self.written = 0
        self._thread: threading.Thread | None = None

    def start(self) -> JsonLinesWriter:
        """Start the writer thread. Returns self."""
        if self._thread is not None:
            raise RuntimeError("JsonLinesWriter already started")
        self._thread = threading.Thread(target=self._run, name="camwall-jsonlines", daemon=True)
        self._thread.start()
        return self

    def write(self, data: dict[str, Any]) -> None:
        """Queue one line; never blocks (drops and counts when the queue is full)."""
        with self._cond:
            if self._closing or self._broken:
                return
            if len(self._pending) >= self._max_pending:
                self._dropped += 1
                self.dropped_total += 1
                return
            self._pending.append(data)
            self._cond.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (for up to ``timeout`` s), then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the event writer did not finish within %.1f s", timeout)

    @property
    def broken(self) -> bool:
        """True once the stream could not be written."""
        return self._broken

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._dropped and not self._closing:
                    self._cond.wait()
                batch = list(self._pending)
                self._pending.clear()
                dropped, self._dropped = self._dropped, 0
                done = self._closing
            lines = [json.dumps(item, default=str, ensure_ascii=False) for item in batch]
            if dropped:
                lines.append(
                    json.dumps(
                        {
                            "type": "dropped",
                            "time": round(time.time(), 3),
                            "camera": None,
                            "events": dropped,
                            "reason": "the event output was too slow; events were dropped",
                        }
                    )
                )
            if lines and not self._put(lines):
                return
            if done:
                with self._cond:
                    if not self._pending:
                        return

    def _put(self, lines: list[str]) -> bool:
        try:
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            # ValueError: the stream was closed under us. Either way nobody reads any more.
            with self._cond:
                self._broken = True
                self._pending.clear()
            log.info("event output closed (%s); stopping", type(exc).__name__)
            if self._on_broken is not None:
                self._on_broken()
            return False
        self.written += len(lines)
        return True
