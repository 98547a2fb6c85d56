"""The design camwall grew from, written out faithfully as the baseline of bench/wall.py.

A well-known PyQt5 camera monitor: per camera a capture ``QThread`` reads frames with
``cv2.VideoCapture``, copies each 2560×1440 BGR frame into ONE fixed shared-memory block and
emits ``Signal(str, int, int)`` — (block name, width, height) — per frame, because sending
the image itself through a signal crashed the program. The UI slot, on the UI thread, for
every signal: opens the block by name, converts BGR→RGB, wraps a ``QImage``, scales it with
``QImage.scaled(..., SmoothTransformation)``, makes a ``QPixmap`` and ``setPixmap``s it on a
``QLabel``.

This file is the baseline: it is NOT fixed. Its known faults stay in: torn frames (the block
is rewritten while the UI reads it), a queued signal per frame (when the UI is slower,
signals pile up), the block opened by name on every frame (and, on Python 3.11, registered
with the resource tracker each time), BGR→RGB plus a smooth scale plus a pixmap upload per
frame on the UI thread, ``stop()`` waiting on the UI thread.

The only changes, none of which touch the per-frame path:

- It is written against qtpy; bench/wall.py runs every design on one binding, PyQt5 (the
  binding this design was written for) unless told otherwise. (On PySide6 6.12.0 with
  Python 3.11 it cannot run for long: every
  ``SignalInstance.emit()`` there releases a reference to ``True`` it never took, and after
  a few thousand emitted frames the interpreter aborts with "Fatal Python error:
  bool_dealloc". PyQt5 does not have that bug.)
- Each camera gets its own fixed block name (``original_frame_<n>``): with one name for all
  cameras the original cannot run two cameras at all.
- Instrumentation for the benchmark, outside the pixel path: the capture thread records
  (frame number, ``time.monotonic_ns()`` after ``read()``) for the frame in the block, the
  slot picks that pair up when it opens the block, and the label notes when it paints a new
  frame. Counters only; the work per frame is the original's.
- ``release()`` unlinks the blocks after the run (the original left them behind), once the
  event loop has ended: a slot still queued would find its block gone, and an exception in
  a PyQt5 slot aborts the program.
"""

from __future__ import annotations

import time
from multiprocessing import shared_memory

import cv2
import numpy as np
from qtpy.QtCore import Qt, QThread, Slot
from qtpy.QtGui import QImage, QPaintEvent, QPixmap
from qtpy.QtWidgets import QGridLayout, QLabel, QWidget

from camwall.ui.qt_compat import Signal


class CaptureThread(QThread):
    """The original's capture thread: VideoCapture → one shared block → a signal per frame."""

    frame_ready = Signal(str, int, int)

    def __init__(self, url: str, shm_name: str) -> None:
        super().__init__()
        self.url = url
        self.shm_name = shm_name
        self.running = True
        self.shm: shared_memory.SharedMemory | None = None
        # Instrumentation: (frame number, capture time) of the frame now in the block.
        self.frames = 0
        self.last: tuple[int, int] = (0, 0)

    def run(self) -> None:
        cap = cv2.VideoCapture(self.url)
        while self.running:
            ret, frame = cap.read()
            if not ret:
                continue
            captured = time.monotonic_ns()
            h, w = frame.shape[:2]
            if self.shm is None:
                self.shm = shared_memory.SharedMemory(
                    name=self.shm_name, create=True, size=frame.nbytes
                )
            buf = np.ndarray(frame.shape, dtype=np.uint8, buffer=self.shm.buf)
            buf[:] = frame
            del buf
            self.frames += 1
            self.last = (self.frames, captured)
            self.frame_ready.emit(self.shm_name, w, h)
        cap.release()

    def stop(self) -> None:
        self.running = False
        self.wait()

    def release(self) -> None:
        """Benchmark hygiene: remove the block (the original never did)."""
        if self.shm is not None:
            self.shm.close()
            try:
                self.shm.unlink()
            except FileNotFoundError:
                pass
            self.shm = None


class VideoLabel(QLabel):
    """A QLabel, plus the benchmark's note of when each new frame reaches the screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixmap_frame: tuple[int, int] = (0, 0)  # (frame number, capture ns) set last
        self.painted_frame = 0
        self.on_new_frame_painted = lambda latency_ns: None

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        number, captured = self.pixmap_frame
        if number and number != self.painted_frame:
            self.painted_frame = number
            self.on_new_frame_painted(time.monotonic_ns() - captured)


class MonitorWidget(QWidget):
    """The original's window body: one label per camera in a grid, one slot for all."""

    def __init__(self, urls: list[str], tile: tuple[int, int], columns: int) -> None:
        super().__init__()
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.labels: dict[str, VideoLabel] = {}
        self.threads: dict[str, CaptureThread] = {}
        self.slot_calls = 0
        for i, url in enumerate(urls):
            name = f"original_frame_{i}"
            label = VideoLabel(self)
            label.setFixedSize(*tile)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("background: black;")
            layout.addWidget(label, i // columns, i % columns)
            thread = CaptureThread(url, name)
            thread.frame_ready.connect(self.update_frame)
            self.labels[name] = label
            self.threads[name] = thread

    def start(self) -> None:
        for thread in self.threads.values():
            thread.start()

    @Slot(str, int, int)
    def update_frame(self, name: str, w: int, h: int) -> None:
        """The original UI slot, once per captured frame."""
        self.slot_calls += 1
        label = self.labels[name]
        shm = shared_memory.SharedMemory(name=name)
        frame_info = self.threads[name].last  # instrumentation (see the module docstring)
        frame = np.ndarray((h, w, 3), dtype=np.uint8, buffer=shm.buf)
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        del frame
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        scaled = image.scaled(
            label.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        label.setPixmap(QPixmap.fromImage(scaled))
        label.pixmap_frame = frame_info
        shm.close()

    def stop(self) -> None:
        for thread in self.threads.values():
            thread.stop()

    def release(self) -> None:
        """Benchmark hygiene, once no slot can run any more: remove the blocks."""
        for thread in self.threads.values():
            thread.release()
