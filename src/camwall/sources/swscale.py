"""swscale called directly, writing BGRA straight into a ring slot with the frame's colours.

PyAV's ``reformat`` honours a frame's matrix (BT.601/BT.709/BT.2020) and range (limited/
full), but makes a new 14.7 MB frame per 1440p conversion, which then has to be copied into
the slot: twice the cost of OpenCV's ``cvtColor`` (bench/convert.py), which knows BT.601
limited only. Calling ``sws_scale`` with the slot as its destination does the same
conversion as ``reformat`` (bit-identical output) with neither the frame nor the copy.

The library is the libswscale PyAV itself loaded (the wheel's ``av.libs`` copy, else the
system's), through ctypes, with the long-stable C API (``sws_getCachedContext``,
``sws_setColorspaceDetails``, ``sws_scale``). If it cannot be found, :func:`available` is
False and callers use ``reformat``. Only 4:2:0 8-bit input (yuv420p, yuvj420p, nv12: what
cameras send) takes this path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from pathlib import Path

import av
from av.video.frame import VideoFrame

from camwall.sources.base import Pixels

log = logging.getLogger(__name__)

#: AVPixelFormat numbers (unchanged across FFmpeg versions) and whether the format itself
#: means full range (the deprecated ``yuvj`` formats, passed to swscale as their plain twin).
_SOURCE_FORMATS = {"yuv420p": (0, False), "yuvj420p": (0, True), "nv12": (23, False)}
_BGRA = 28
_SWS_BILINEAR = 2
#: AVColorSpace → SWS_CS_*: BT.709, FCC, BT.470BG, SMPTE 170M, SMPTE 240M, BT.2020 (NCL, CL).
_MATRICES = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}
#: swscale's default, BT.601: what unspecified (and unknown) tags mean on every path.
_SWS_CS_DEFAULT = 5
_AVCOL_RANGE_JPEG = 2
_ONE = 1 << 16  # contrast and saturation 1.0 in swscale's 16.16 fixed point


@functools.cache
def _library() -> ctypes.CDLL | None:
    """PyAV's libswscale with the prototypes set, or None."""
    libs = Path(av.__file__).resolve().parent.parent / "av.libs"
    candidates = [str(p) for p in sorted(libs.glob("libswscale*.so*"))]
    system = ctypes.util.find_library("swscale")
    if system:
        candidates.append(system)
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        vp, i = ctypes.c_void_p, ctypes.c_int
        lib.sws_getCachedContext.restype = vp
        lib.sws_getCachedContext.argtypes = [vp, i, i, i, i, i, i, i, vp, vp, vp]
        lib.sws_getCoefficients.restype = ctypes.POINTER(i)
        lib.sws_getCoefficients.argtypes = [i]
        lib.sws_setColorspaceDetails.restype = i
        lib.sws_setColorspaceDetails.argtypes = [vp, ctypes.POINTER(i), i, ctypes.POINTER(i)]
        lib.sws_setColorspaceDetails.argtypes += [i, i, i, i]
        lib.sws_scale.restype = i
        lib.sws_scale.argtypes = [vp, ctypes.POINTER(vp), ctypes.POINTER(i), i, i]
        lib.sws_scale.argtypes += [ctypes.POINTER(vp), ctypes.POINTER(i)]
        lib.sws_freeContext.restype = None
        lib.sws_freeContext.argtypes = [vp]
        return lib
    log.info("libswscale not found for direct conversion; using PyAV's reformat")
    return None


def available() -> bool:
    """True when direct conversion can be used in this process."""
    return _library() is not None


class DirectScaler:
    """One swscale context, re-made when the size, format or colours change. Not thread-safe."""

    def __init__(self) -> None:
        """Nothing is allocated until the first conversion."""
        self._ctx: int | None = None
        self._key: tuple[int, ...] | None = None

    def convert(self, frame: VideoFrame, dst: Pixels, full_range: bool) -> bool:
        """Write ``frame`` as BGRA into ``dst`` (same size); False if this path cannot."""
        lib = _library()
        fmt = _SOURCE_FORMATS.get(frame.format.name)
        h, w = dst.shape[:2]
        if (
            lib is None
            or fmt is None
            or (w, h) != (frame.width, frame.height)
            or dst.strides[1:] != (4, 1)
            or not dst.flags.writeable
        ):
            return False
        pix, format_full = fmt
        matrix = _MATRICES.get(frame.colorspace, _SWS_CS_DEFAULT)
        src_range = int(full_range or format_full)
        key = (w, h, pix, matrix, src_range)
        ctx = lib.sws_getCachedContext(
            self._ctx, w, h, pix, w, h, _BGRA, _SWS_BILINEAR, None, None, None
        )
        if not ctx:
            return False
        if ctx != self._ctx or key != self._key:
            table = lib.sws_getCoefficients(matrix)
            # Source matrix and range; the output is full-range RGB.
            lib.sws_setColorspaceDetails(ctx, table, src_range, table, 1, 0, _ONE, _ONE)
        self._ctx, self._key = ctx, key
        planes = frame.planes
        n = len(planes)
        src = (ctypes.c_void_p * 4)(*(p.buffer_ptr for p in planes), *([None] * (4 - n)))
        src_stride = (ctypes.c_int * 4)(*(p.line_size for p in planes), *([0] * (4 - n)))
        out = (ctypes.c_void_p * 4)(dst.ctypes.data, None, None, None)
        out_stride = (ctypes.c_int * 4)(dst.strides[0], 0, 0, 0)
        return bool(lib.sws_scale(ctx, src, src_stride, 0, h, out, out_stride) == h)

    def close(self) -> None:
        """Free the swscale context. Idempotent."""
        ctx, self._ctx = self._ctx, None
        lib = _library()
        if ctx and lib is not None:
            lib.sws_freeContext(ctx)

    def __del__(self) -> None:
        self.close()


def is_full_range(frame: VideoFrame) -> bool:
    """True for full-range (JPEG) YUV frames."""
    return frame.format.name.startswith("yuvj") or frame.color_range == _AVCOL_RANGE_JPEG
