"""The runtime's recordings indexes: one :class:`RecordingIndex` per recording folder, kept live.

Opening an index may rebuild it from the folder (every segment probed: minutes for a large
folder), and indexing a closed segment reads the file, so none of it runs on the thread that
emits events: :class:`IndexKeeper` owns one thread ("camwall-recordings-index") that opens
the indexes asked for, feeds them every runtime event payload in order
(:meth:`RecordingIndex.observe`), and, while a face shows recordings, re-reads the segments
being written every few seconds (:meth:`RecordingIndex.refresh_open`: the live edge of
review). Payloads that arrive while an index is still being opened wait in the queue, so no
closed segment is missed.

Why only while watched: re-reading a segment being written opens the whole file (FFmpeg
reads every fragment's header), so it costs in proportion to the segment's length; with
every camera recording, doing it unwatched cost the wall ~0.06 cores at 4 cameras — more
than recording itself.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from camwall.errors import RecordError
from camwall.record.index import RecordingIndex

log = logging.getLogger(__name__)

#: Seconds between two refresh_open() passes (the live edge of review).
REFRESH_OPEN_S = 5.0
#: Payloads kept while the thread is busy (a rebuild); beyond that the oldest are dropped
#: (the files stay the truth: the next refresh finds their segments).
QUEUE_MAX = 10_000

_Open = tuple[str, Path]
_Item = _Open | object | None


class IndexKeeper:
    """Owns the recordings indexes of a runtime and the thread that keeps them live."""

    def __init__(self, refresh_open_s: float = REFRESH_OPEN_S) -> None:
        """Nothing runs until the first :meth:`index` call."""
        self._refresh_open_s = refresh_open_s
        self._lock = threading.Lock()
        self._futures: dict[Path, concurrent.futures.Future[RecordingIndex]] = {}
        self._open: dict[Path, RecordingIndex] = {}
        self._queue: queue.Queue[_Item] = queue.Queue(QUEUE_MAX)
        self._thread: threading.Thread | None = None
        self._closed = False
        #: Faces showing recordings now (see watch_live_edge).
        self._watchers = 0

    def index(self, directory: Path) -> concurrent.futures.Future[RecordingIndex]:
        """The index of ``directory``, opened (built if missing) on the keeper's thread."""
        directory = Path(directory)
        with self._lock:
            future = self._futures.get(directory)
            if future is not None:
                return future
            future = concurrent.futures.Future()
            if self._closed:
                future.set_exception(RecordError("the runtime is closed"))
                return future
            self._futures[directory] = future
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="camwall-recordings-index", daemon=True
                )
                self._thread.start()
        self._put(("open", directory))
        return future

    def observe(self, payload: object) -> None:
        """Queue a runtime event payload for every index (never blocks; a no-op until an
        index was asked for)."""
        if self._thread is None or self._closed:
            return
        self._put(payload)

    def watch_live_edge(self, on: bool) -> None:
        """A face starts (True) or stops (False) showing recordings: while any does, the
        segments being written are re-read every few seconds, starting at once."""
        with self._lock:
            self._watchers = max(0, self._watchers + (1 if on else -1))
            wake = on and self._watchers == 1 and self._thread is not None
        if wake and not self._closed:
            self._put(_REFRESH)

    def remover(self, directory: Path) -> Callable[[list[Path]], None]:
        """A retention ``on_deleted`` hook that forgets deleted files in ``directory``'s
        index (once it is open; an index opened later does not list them anyway)."""

        def remove(paths: Iterable[Path]) -> None:
            with self._lock:
                index = self._open.get(Path(directory))
            if index is not None:
                index.remove(list(paths))

        return remove

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (after the payloads queued so far) and close every index."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._put(None)
            thread.join(timeout)
        with self._lock:
            indexes, self._open = list(self._open.values()), {}
            futures = list(self._futures.values())
        for future in futures:
            if not future.done():
                future.set_exception(RecordError("the runtime closed before the index opened"))
        for index in indexes:
            index.close()

    # -- the thread ----------------------------------------------------------------------------

    def _put(self, item: _Item) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()  # drop the oldest; see QUEUE_MAX
                except queue.Empty:
                    pass

    def _run(self) -> None:
        next_refresh = time.monotonic() + self._refresh_open_s
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_refresh - time.monotonic()))
            except queue.Empty:
                item = _TICK
            if item is None:
                return
            if item is _REFRESH or item is _TICK or time.monotonic() >= next_refresh:
                next_refresh = time.monotonic() + self._refresh_open_s
                with self._lock:
                    watched = self._watchers > 0
                if watched:
                    self._refresh_open()
                if item is _TICK or item is _REFRESH:
                    continue
            if isinstance(item, tuple) and len(item) == 2 and item[0] == "open":
                self._open_index(Path(item[1]))
                continue
            with self._lock:
                indexes = list(self._open.values())
            for index in indexes:
                index.observe(item)

    def _open_index(self, directory: Path) -> None:
        with self._lock:
            future = self._futures[directory]
        try:
            directory.mkdir(parents=True, exist_ok=True)
            index = RecordingIndex.open(directory)
        except (RecordError, OSError) as exc:
            log.error("cannot open the recordings index of %s: %s", directory, exc)
            with self._lock:
                # Asked again later (the folder fixed), it is tried again.
                self._futures.pop(directory, None)
            if not future.cancelled():
                future.set_exception(
                    exc if isinstance(exc, RecordError) else RecordError(f"{directory}: {exc}")
                )
            return
        with self._lock:
            self._open[directory] = index
        if not future.cancelled():
            future.set_result(index)

    def _refresh_open(self) -> None:
        with self._lock:
            indexes = list(self._open.values())
        for index in indexes:
            try:
                index.refresh_open()
            except (RecordError, OSError, sqlite3.Error) as exc:
                log.warning("recordings index of %s: cannot refresh: %s", index.root, exc)


_TICK = object()
_REFRESH = object()  # a face started watching: refresh now
