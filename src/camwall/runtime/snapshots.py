"""Full-resolution frames and snapshot files for the runtime, off every caller's thread.

A camera shown in a small tile publishes tile-sized frames (the worker scales while
converting; see ``CameraSpec.max_size``). A snapshot must still be full resolution: the
grabber asks the worker for full-size frames, waits (bounded) for one to land in the ring,
copies it, and puts the size back. Encoding and writing the file happen on the same owned
thread, so neither the UI nor a command handler ever waits for a disk.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from camwall.errors import CamwallError, RingError
from camwall.frames import Frame, FrameRing
from camwall.record import save_snapshot

log = logging.getLogger(__name__)

SnapshotKind = Literal["png", "jpeg"]
#: How long a snapshot waits for a full-size frame after asking for one.
FULL_FRAME_WAIT_S = 3.0
_POLL_S = 0.02


class FrameGrabber:
    """Full-size frame copies and snapshot files; owns one worker thread (see module doc)."""

    def __init__(self) -> None:
        """Nothing runs until the first request."""
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False

    def _submit(self, fn: Callable[[], object]) -> concurrent.futures.Future[object]:
        with self._lock:
            if self._closed:
                raise CamwallError("the runtime is closing; no snapshots any more")
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="camwall-snapshot"
                )
            return self._executor.submit(fn)

    def full_frame(
        self,
        camera: str,
        ring_name: Callable[[], str | None],
        native_width: int | None,
        ask_full_size: Callable[[bool], None],
    ) -> concurrent.futures.Future[Frame]:
        """Camera ``camera``'s newest frame at the stream's full width (a copy).

        ``ring_name()`` gives the camera's current ring (it may change while waiting);
        ``ask_full_size(True)`` asks the worker for unscaled frames, ``(False)`` restores.
        Raises CamwallError at once if the camera has no picture yet.
        """
        first = _read(ring_name())
        if first is None:
            raise CamwallError(f"{camera} has no picture to save yet")
        if native_width is None or first.width >= native_width:
            done: concurrent.futures.Future[Frame] = concurrent.futures.Future()
            done.set_result(first)
            return done

        def wait_full() -> Frame:
            """Snapshot thread: the newest frame once it is full size (or the best we got)."""
            ask_full_size(True)
            try:
                best = first
                deadline = time.monotonic() + FULL_FRAME_WAIT_S
                while time.monotonic() < deadline:
                    frame = _read(ring_name())
                    if frame is not None:
                        best = frame
                        if frame.width >= native_width:
                            return frame
                    time.sleep(_POLL_S)  # polling another process's ring: nothing to wait on
                log.warning(
                    "%s: no full-size frame within %.0f s; saving %d×%d",
                    camera,
                    FULL_FRAME_WAIT_S,
                    best.width,
                    best.height,
                    extra={"camera": camera},
                )
                return best
            finally:
                ask_full_size(False)

        return self._submit(wait_full)  # type: ignore[return-value]

    def save(
        self,
        camera: str,
        frame: concurrent.futures.Future[Frame],
        directory: Path,
        kind: SnapshotKind = "png",
    ) -> concurrent.futures.Future[Path]:
        """Write ``frame`` (when it is there) as an image file under ``directory``."""
        result: concurrent.futures.Future[Path] = concurrent.futures.Future()

        def write(got: concurrent.futures.Future[Frame]) -> None:
            exc = got.exception()
            if exc is not None:
                result.set_exception(exc)
                return
            image = got.result()
            try:
                saved = self._submit(
                    lambda: save_snapshot(image.array, image.fmt, directory, camera, kind)
                )
            except CamwallError as closing:
                result.set_exception(closing)
                return
            saved.add_done_callback(lambda f: _settle(result, f))

        frame.add_done_callback(write)
        return result

    def close(self) -> None:
        """Finish pending snapshots and stop the thread."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


def _read(ring_name: str | None) -> Frame | None:
    """A copy of the newest frame of ring ``ring_name`` (attached just for this read)."""
    if not ring_name:
        return None
    try:
        ring = FrameRing.attach(ring_name)
    except (RingError, FileNotFoundError):
        return None  # re-created meanwhile; the caller asks again
    try:
        return ring.read_latest()
    finally:
        ring.close()


def _settle(
    result: concurrent.futures.Future[Path], saved: concurrent.futures.Future[object]
) -> None:
    exc = saved.exception()
    if exc is None:
        value = saved.result()
        assert isinstance(value, Path)
        result.set_result(value)
    else:
        result.set_exception(exc)
