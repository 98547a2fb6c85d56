"""The one pixel conversion a decoded frame needs: into a BGRA ring-slot view, in place.

Measured on the 2-core development box for 2560×1440 (``bench/convert.py``; compare ratios):
copying the three I420 planes into one reusable buffer and ``cv2.cvtColor(...,
COLOR_YUV2BGRA_I420, dst=slot)`` is the cheapest same-size path, with no page faults per
frame because every buffer is allocated once per size. Scaling down to a tile is cheaper
through swscale (one pass: scale + convert, area filter) than converting at full size and
then ``cv2.resize(INTER_AREA)`` (a non-integer area resize of a 14.7 MB image is slow).

Colour: OpenCV's YUV→RGB conversions know one matrix and range, BT.601 limited. Every frame
whose tags say otherwise — BT.709 (most HD cameras), BT.2020, full range (``yuvj*``, MJPEG
cameras) — goes through swscale at full size too, which reads the frame's matrix and range
like the scaled path does, so a camera looks the same enlarged and in the grid. Untagged
frames are BT.601 on both paths (swscale's default). For 4:2:0 input swscale is called
directly with the slot as destination (:mod:`camwall.sources.swscale`), which measured
cheaper than the ``cvtColor`` path (docs/benchmarks.md "## Conversion"); PyAV's ``reformat``
plus the copy into the slot cost 2.5× as much, and doing the matrix with OpenCV (upsample
chroma, merge, ``cv2.transform``) 27×. Formats OpenCV has no conversion for (yuv422p,
yuv444p, 10-bit...) go through ``reformat``.
"""

from __future__ import annotations

import cv2
import numpy as np
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter

from camwall.sources.base import Pixels
from camwall.sources.swscale import DirectScaler, is_full_range

#: AVColorSpace values whose YUV→RGB matrix is BT.601, the one OpenCV's conversions use:
#: BT470BG (5), SMPTE170M (6), and unspecified (2), which swscale takes as BT.601 too.
BT601_COLORSPACES = frozenset({2, 5, 6})
#: ``reformat``'s swscale threads: one, like the decoder and OpenCV in a capture worker. A
#: process per camera is the wall's parallelism; swscale's own pool saved no CPU (measured
#: with bench/convert.py on 2026-12-06: +2.17 vs +2.21 ms per 1440p BT.709 frame).
SWS_THREADS = 1

#: Pixel formats converted with one OpenCV call (after at most a plane copy).
_I420 = "yuv420p"
_NV12 = "nv12"
_GRAY = "gray"
_PACKED = {
    "bgr24": cv2.COLOR_BGR2BGRA,
    "rgb24": cv2.COLOR_RGB2BGRA,
    "rgba": cv2.COLOR_RGBA2BGRA,
}


def plane_view(frame: VideoFrame, index: int, width: int, height: int, channels: int = 1) -> Pixels:
    """A zero-copy view of one plane without its line padding."""
    plane = frame.planes[index]
    rows: Pixels = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[:height]
    view = rows[:, : width * channels]
    return view.reshape(height, width, channels) if channels > 1 else view


class FrameConverter:
    """Converts decoded frames into BGRA destinations; owns the buffers it reuses.

    One converter per source: its buffers are sized for that source's frames and reused for
    every frame, so converting allocates nothing in steady state.
    """

    def __init__(self, sws_threads: int = SWS_THREADS) -> None:
        """Buffers are allocated on first use, per frame size."""
        self.sws_threads = sws_threads
        self._i420: Pixels | None = None
        self._reformatter = VideoReformatter()
        self._direct = DirectScaler()
        #: Which path the last conversion took (for stats and tests).
        self.last_path = ""

    def i420_buffer(self, width: int, height: int) -> Pixels:
        """The reusable contiguous (H·3/2)×W I420 buffer for this size."""
        buf = self._i420
        if buf is None or buf.shape != (height * 3 // 2, width):
            buf = self._i420 = np.empty((height * 3 // 2, width), np.uint8)
        return buf

    def convert(self, frame: VideoFrame, dst: Pixels) -> None:
        """Write ``frame`` as BGRA into ``dst`` (H'×W'×4 uint8), scaling if the size differs."""
        if dst.ndim != 3 or dst.shape[2] != 4 or dst.dtype != np.uint8:
            raise ValueError(f"destination must be H×W×4 uint8 (BGRA), not {dst.shape} {dst.dtype}")
        h, w = dst.shape[:2]
        fw, fh = frame.width, frame.height
        fmt = frame.format.name
        if (w, h) != (fw, fh):
            self._swscale(frame, dst, "AREA" if w <= fw and h <= fh else "BILINEAR")
            return
        if fmt == _I420 and fw % 2 == 0 and fh % 2 == 0 and opencv_colours(frame):
            buf = self.i420_buffer(fw, fh)
            quarter = (fh // 2) * (fw // 2)
            flat_chroma = buf[fh:].reshape(-1)
            np.copyto(buf[:fh], plane_view(frame, 0, fw, fh))
            np.copyto(
                flat_chroma[:quarter].reshape(fh // 2, fw // 2),
                plane_view(frame, 1, fw // 2, fh // 2),
            )
            np.copyto(
                flat_chroma[quarter:].reshape(fh // 2, fw // 2),
                plane_view(frame, 2, fw // 2, fh // 2),
            )
            self._cv(cv2.cvtColor, (buf, cv2.COLOR_YUV2BGRA_I420), dst, "i420-cv")
        elif fmt == _NV12 and fw % 2 == 0 and fh % 2 == 0 and opencv_colours(frame):
            y = plane_view(frame, 0, fw, fh)
            uv = plane_view(frame, 1, fw // 2, fh // 2, 2)
            self._cv(cv2.cvtColorTwoPlane, (y, uv, cv2.COLOR_YUV2BGRA_NV12), dst, "nv12-cv")
        elif not opencv_colours(frame) and self._direct.convert(frame, dst, _full_range(frame)):
            self.last_path = "sws-direct"
        elif fmt == _GRAY:
            self._cv(
                cv2.cvtColor, (plane_view(frame, 0, fw, fh), cv2.COLOR_GRAY2BGRA), dst, "gray-cv"
            )
        elif fmt in _PACKED:
            src = plane_view(frame, 0, fw, fh, 3 if fmt.endswith("24") else 4)
            self._cv(cv2.cvtColor, (src, _PACKED[fmt]), dst, f"{fmt}-cv")
        elif fmt == "bgra":
            np.copyto(dst, plane_view(frame, 0, fw, fh, 4))
            self.last_path = "bgra-copy"
        else:
            self._swscale(frame, dst, "BILINEAR")

    def _cv(self, fn: object, args: tuple[object, ...], dst: Pixels, path: str) -> None:
        """Call an OpenCV conversion with ``dst=``; copy only if OpenCV could not write in place."""
        out = fn(*args, dst=dst)  # type: ignore[operator]
        if out is not dst and not np.shares_memory(out, dst):
            # OpenCV allocates a new array when dst's layout does not suit it (a strided slot
            # view); correct, but a copy and an allocation per frame: say so in the path.
            np.copyto(dst, out)
            path += "+copy"
        self.last_path = path

    def _swscale(self, frame: VideoFrame, dst: Pixels, interpolation: str) -> None:
        """Scale and convert in one swscale pass, then copy the result into ``dst``."""
        h, w = dst.shape[:2]
        # The source's matrix and range are the frame's tags (PyAV's default for src_*).
        out = self._reformatter.reformat(
            frame,
            width=w,
            height=h,
            format="bgra",
            interpolation=interpolation,
            threads=self.sws_threads,
        )
        np.copyto(dst, plane_view(out, 0, w, h, 4))
        self.last_path = f"sws-{interpolation.lower()}"


def opencv_colours(frame: VideoFrame) -> bool:
    """True when OpenCV's YUV→RGB (BT.601, limited range) is right for this frame's tags."""
    return frame.colorspace in BT601_COLORSPACES and not _full_range(frame)


def _full_range(frame: VideoFrame) -> bool:
    """True for full-range (JPEG) YUV, which OpenCV's conversions would render too contrasty."""
    return is_full_range(frame)
