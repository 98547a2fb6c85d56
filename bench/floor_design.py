"""The floor of bench/wall.py: bare decode + one conversion + one copy + one paint per frame.

The least work a process-per-camera wall can do for each shown frame, with nothing a real
wall needs (no reconnects, no seqlock, no stats, no state pictures): per camera a spawned
process decodes the RTSP stream with PyAV (camwall's decoder threading: one thread) and
writes each frame into one shared-memory block, then writes one byte into a pipe unless a
repaint is already pending (a flag in the block); the UI process watches the pipe with a
``QSocketNotifier``, calls ``update()``, and its ``paintEvent`` draws the block with one
``QPainter.drawImage`` (a ``QImage`` over the shared memory, no copy). Frames may tear:
nothing here checks.

Two ways to spend the one conversion, both measured by the wall benchmark:

- ``full``: the three I420 planes copied into one buffer, ``cv2.cvtColor`` → BGRA at the
  stream's size into the block, and a smooth scale into the tile at paint time;
- ``tile``: swscale (area filter) scales and converts to BGRA at the tile's size in one pass,
  copied into the block, and painted 1:1.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.synchronize
import os
import time
from multiprocessing import shared_memory
from multiprocessing.connection import Connection

import av
import cv2
import numpy as np
from qtpy.QtCore import QRectF, QSocketNotifier, Qt
from qtpy.QtGui import QImage, QPainter, QPaintEvent
from qtpy.QtWidgets import QGridLayout, QWidget

HEADER = 64  # int64 words: 0 frame number, 1 capture ns, 2 width, 3 height, 4 repaint pending


def _worker(
    url: str,
    shm_name: str,
    mode: str,
    tile: tuple[int, int],
    notify: Connection,
    stop: multiprocessing.synchronize.Event,
) -> None:
    """One camera's process: decode, convert into the block, nudge the UI."""
    cv2.setNumThreads(1)  # one process per camera is the parallelism (as in camwall)
    shm = shared_memory.SharedMemory(name=shm_name)
    words = np.ndarray((HEADER // 8,), np.int64, buffer=shm.buf)
    container = av.open(url, options={"rtsp_transport": "tcp"}, timeout=(5.0, 5.0))
    try:
        stream = container.streams.video[0]
        stream.codec_context.thread_type = "NONE"
        stream.codec_context.thread_count = 1
        i420: np.ndarray | None = None
        for packet in container.demux(stream):
            if stop.is_set():
                break
            for frame in stream.decode(packet):
                captured = time.monotonic_ns()
                w, h = (frame.width, frame.height) if mode == "full" else tile
                pixels = np.ndarray((h, w, 4), np.uint8, buffer=shm.buf, offset=HEADER)
                if mode == "full":
                    if i420 is None or i420.shape != (h * 3 // 2, w):
                        i420 = np.empty((h * 3 // 2, w), np.uint8)
                    flat = i420[h:].reshape(-1)
                    np.copyto(i420[:h], _plane(frame, 0, w, h))
                    np.copyto(
                        flat[: h * w // 4].reshape(h // 2, w // 2), _plane(frame, 1, w // 2, h // 2)
                    )
                    np.copyto(
                        flat[h * w // 4 :].reshape(h // 2, w // 2), _plane(frame, 2, w // 2, h // 2)
                    )
                    cv2.cvtColor(i420, cv2.COLOR_YUV2BGRA_I420, dst=pixels)
                else:
                    small = frame.reformat(w, h, "bgra", interpolation="AREA")
                    np.copyto(pixels, _plane(small, 0, w * 4, h).reshape(h, w, 4))
                del pixels
                words[0] += 1
                words[1], words[2], words[3] = captured, w, h
                if not words[4]:
                    words[4] = 1
                    notify.send_bytes(b"!")
    finally:
        container.close()
        del words
        shm.close()
        notify.close()


def _plane(frame: av.VideoFrame, i: int, width_bytes: int, h: int) -> np.ndarray:
    plane = frame.planes[i]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
    return rows[:h, :width_bytes]


class FloorView(QWidget):
    """Paints its camera's block: one drawImage per frame."""

    def __init__(self, shm: shared_memory.SharedMemory, notify: Connection, smooth: bool) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._shm = shm
        self._words = np.ndarray((HEADER // 8,), np.int64, buffer=shm.buf)
        self._notify = notify
        self._smooth = smooth
        os.set_blocking(notify.fileno(), False)
        self._notifier = QSocketNotifier(notify.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notify)
        self.painted = 0
        self.shown = 0
        self.on_new_frame_painted = lambda latency_ns: None

    def _on_notify(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self._notify.fileno(), 4096)
        self.update()

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        words = self._words
        words[4] = 0  # the next frame may nudge us again
        number, captured, w, h = int(words[0]), int(words[1]), int(words[2]), int(words[3])
        if not number:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
        image = QImage(
            self._shm.buf[HEADER : HEADER + w * h * 4], w, h, w * 4, QImage.Format.Format_RGB32
        )
        if (w, h) == (self.width(), self.height()):
            painter.drawImage(0, 0, image)
        else:
            painter.drawImage(QRectF(self.rect()), image, QRectF(0, 0, w, h))
        painter.end()
        del image
        if number != self.painted:
            self.painted = number
            self.shown += 1
            self.on_new_frame_painted(time.monotonic_ns() - captured)

    @property
    def decoded(self) -> int:
        """Frames the worker has written so far."""
        return int(self._words[0])

    def close_block(self) -> None:
        """Let go of the pipe and of our view of the block (before it is closed)."""
        self._notifier.setEnabled(False)
        self._words = np.zeros(HEADER // 8, np.int64)
        self._notify.close()


class FloorWall(QWidget):
    """N floor cameras in a grid of fixed-size tiles."""

    def __init__(
        self, url: str, cameras: int, tile: tuple[int, int], columns: int, mode: str
    ) -> None:
        super().__init__()
        self.mode = mode
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        ctx = mp.get_context("spawn")
        self.stop_event = ctx.Event()
        self.blocks: list[shared_memory.SharedMemory] = []
        self.views: list[FloorView] = []
        self.procs: list[mp.process.BaseProcess] = []
        self._worker_ends: list[Connection] = []
        for i in range(cameras):
            shm = shared_memory.SharedMemory(
                name=f"wallfloor_{os.getpid()}_{i}", create=True, size=HEADER + 2560 * 1440 * 4
            )
            ui_end, worker_end = ctx.Pipe(duplex=False)
            view = FloorView(shm, ui_end, smooth=True)
            view.setFixedSize(*tile)
            layout.addWidget(view, i // columns, i % columns)
            self.procs.append(
                ctx.Process(
                    target=_worker,
                    args=(url, shm.name, mode, tile, worker_end, self.stop_event),
                    name=f"floor-{i}",
                    daemon=True,
                )
            )
            self.blocks.append(shm)
            self.views.append(view)
            self._worker_ends.append(worker_end)

    def start(self) -> None:
        """Start the camera processes."""
        for proc, worker_end in zip(self.procs, self._worker_ends, strict=True):
            proc.start()
            worker_end.close()  # the child has its own; EOF reaches the UI when it exits

    def decoded(self) -> int:
        """Frames written by all workers so far."""
        return sum(view.decoded for view in self.views)

    def stop(self) -> None:
        """Stop the workers, then close and unlink the blocks."""
        self.stop_event.set()
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for view in self.views:
            view.close_block()
        for shm in self.blocks:
            shm.close()
            shm.unlink()
