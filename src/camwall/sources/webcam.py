"""Local webcams through OpenCV's ``cv2.VideoCapture`` — the only place OpenCV captures.

URL forms: ``0`` (a device index), ``webcam://0``, optionally with the wanted mode:
``webcam://0?width=1280&height=720&fps=30`` (the driver may pick the nearest it supports).

``VideoCapture`` can block for a long time in its constructor (a wedged USB device, a driver
probing formats). The open therefore runs in a helper thread the source owns and waits at
most ``open_timeout_s`` for it; a helper that never returns is abandoned (a daemon thread,
released by the capture worker's process exit) and the open fails with a timeout, so the
worker is never stuck. Reads use OpenCV's read timeout where the backend honours it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from camwall.errors import (
    InvalidSourceError,
    SourceAuthError,
    SourceRefusedError,
    SourceTimeoutError,
    StreamLostError,
    StreamNotFoundError,
)
from camwall.sources.base import Pixels, Source, SourceFrame, SourceSettings, StreamInfo

log = logging.getLogger(__name__)

#: Consecutive failed reads after which the device counts as gone (unplugged).
MAX_FAILED_READS = 3


def parse_webcam_url(url: str) -> tuple[int, dict[str, float]]:
    """Device index and requested mode (width/height/fps) from ``0`` or ``webcam://0?...``."""
    text = url.strip()
    if text.isdigit():
        return int(text), {}
    parts = urlsplit(text)
    if parts.scheme != "webcam" or not (parts.netloc or parts.path.strip("/")).isdigit():
        raise InvalidSourceError(
            f"{text!r} is not a webcam; use a device number such as 0 or webcam://0"
        )
    index = int(parts.netloc or parts.path.strip("/"))
    mode: dict[str, float] = {}
    for key, values in parse_qs(parts.query).items():
        if key not in ("width", "height", "fps"):
            raise InvalidSourceError(
                f"webcam {index}: unknown parameter {key!r}; known: width, height, fps"
            )
        try:
            mode[key] = float(values[-1])
        except ValueError:
            raise InvalidSourceError(
                f"webcam {index}: {key}={values[-1]!r} is not a number"
            ) from None
    return index, mode


class WebcamFrame(SourceFrame):
    """A BGR frame from OpenCV; converted (and scaled if needed) into BGRA on demand."""

    def __init__(self, bgr: Pixels, source: WebcamSource, capture_ns: int, decode_ns: int) -> None:
        """Wrap the capture buffer (valid until the source's next read)."""
        self.bgr = bgr
        self._source = source
        self.height, self.width = bgr.shape[:2]
        self.pts = None
        self.capture_ns = capture_ns
        self.decode_ns = decode_ns

    def convert_into(self, dst: Pixels) -> None:
        """Write the frame as BGRA into ``dst``, scaling to its size if it differs."""
        h, w = dst.shape[:2]
        src: Any = self.bgr
        if (w, h) != (self.width, self.height):
            src = cv2.resize(
                src,
                (w, h),
                dst=self._source.scratch(w, h),
                interpolation=cv2.INTER_AREA if w < self.width else cv2.INTER_LINEAR,
            )
        out = cv2.cvtColor(src, cv2.COLOR_BGR2BGRA, dst=dst)
        if out is not dst and not np.shares_memory(out, dst):
            np.copyto(dst, out)


class WebcamSource(Source):
    """A local camera by device index, through OpenCV."""

    def __init__(self, settings: SourceSettings) -> None:
        """Parse the URL now, so a bad one fails before any worker starts."""
        super().__init__(settings)
        self.index, self.mode = parse_webcam_url(settings.url)
        self._cap: cv2.VideoCapture | None = None
        self._opener: threading.Thread | None = None
        self._buf: Pixels | None = None
        self._scratch: Pixels | None = None
        self._failed_reads = 0
        self._last_frame_at = 0.0

    @property
    def display_url(self) -> str:
        """``webcam N`` (a device index carries no credentials)."""
        return f"webcam {self.index}"

    def scratch(self, width: int, height: int) -> Pixels:
        """A reusable BGR buffer for scaling to ``width``×``height``."""
        if self._scratch is None or self._scratch.shape[:2] != (height, width):
            self._scratch = np.empty((height, width, 3), np.uint8)
        return self._scratch

    def open(self) -> StreamInfo:
        """Open the device within ``open_timeout_s``; raise a specific SourceError otherwise."""
        self.close()
        if self.interrupted:
            raise StreamLostError(f"{self.display_url}: interrupted")
        if sys.platform.startswith("linux"):
            device = f"/dev/video{self.index}"
            if not Path(device).exists():
                raise StreamNotFoundError(
                    f"{self.display_url}: no such camera ({device} does not exist); "
                    "check that it is plugged in, or try another number"
                )
            if not os.access(device, os.R_OK | os.W_OK):
                raise SourceAuthError(
                    f"{self.display_url}: permission denied on {device} "
                    "(add your user to the 'video' group)"
                )
        cap = self._open_in_thread()
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise SourceRefusedError(
                f"{self.display_url}: the camera exists but cannot be opened "
                "(is another program using it?)"
            )
        for prop, key in (
            (cv2.CAP_PROP_FRAME_WIDTH, "width"),
            (cv2.CAP_PROP_FRAME_HEIGHT, "height"),
            (cv2.CAP_PROP_FPS, "fps"),
        ):
            if key in self.mode:
                cap.set(prop, self.mode[key])
        self._cap = cap
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ") or "raw"
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.info = StreamInfo(
            url=self.display_url,
            codec=codec.lower(),
            width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fps=fps if fps > 0 else None,
            bitrate=None,
            pix_fmt="bgr24",
            transport=cap.getBackendName().lower(),
        )
        self._failed_reads = 0
        self._last_frame_at = time.monotonic()
        log.info("%s: opened %dx%d", self.display_url, self.info.width, self.info.height)
        return self.info

    def _open_in_thread(self) -> cv2.VideoCapture | None:
        timeout_ms = int(self.settings.open_timeout_s * 1000)
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.settings.base_read_timeout_s * 1000),
        ]
        result: list[cv2.VideoCapture] = []
        abandoned = threading.Event()

        def run() -> None:
            cap = cv2.VideoCapture(self.index, cv2.CAP_ANY, params)
            if abandoned.is_set():
                cap.release()  # the open timed out long ago: nobody will use it
            else:
                result.append(cap)

        opener = threading.Thread(target=run, name=f"webcam-open-{self.index}", daemon=True)
        opener.start()
        deadline = time.monotonic() + self.settings.open_timeout_s
        while opener.is_alive() and time.monotonic() < deadline and not self.interrupted:
            opener.join(0.05)
        if opener.is_alive():
            abandoned.set()
            if self.interrupted:
                raise StreamLostError(f"{self.display_url}: interrupted while opening")
            raise SourceTimeoutError(
                f"{self.display_url}: the camera did not open within "
                f"{self.settings.open_timeout_s:.1f} s"
            )
        return result[0] if result else None

    def read(self) -> WebcamFrame:
        """The next frame; StreamLostError when the device stops delivering (unplugged)."""
        cap = self._cap
        if cap is None:
            raise StreamLostError(f"{self.display_url}: read before open (or after close)")
        while True:
            if self.interrupted:
                raise StreamLostError(f"{self.display_url}: interrupted")
            t0 = time.perf_counter_ns()
            ok, grabbed = cap.read(self._buf)
            decode_ns = time.perf_counter_ns() - t0
            if ok and grabbed is not None:
                img: Pixels = np.asarray(grabbed, dtype=np.uint8)
                self._buf = img
                self._failed_reads = 0
                self._last_frame_at = time.monotonic()
                self.stats.frames += 1
                return WebcamFrame(img, self, time.monotonic_ns(), decode_ns)
            self._failed_reads += 1
            self.stats.decode_errors += 1
            age = time.monotonic() - self._last_frame_at
            if self._failed_reads >= MAX_FAILED_READS or age > self.settings.stall_timeout_s:
                raise StreamLostError(
                    f"{self.display_url}: the camera stopped delivering frames "
                    f"(no frame for {age:.1f} s; unplugged?)"
                )

    def close(self) -> None:
        """Release the device. Idempotent."""
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

    def __repr__(self) -> str:
        return f"<WebcamSource {self.index}>"
