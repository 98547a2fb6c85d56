"""A ``QImage`` over a NumPy frame without copying, for every Qt binding qtpy supports.

The bindings take a raw pixel buffer differently: PySide6 wants a bytes-like object (a
memoryview), PyQt5/PyQt6 want a ``sip.voidptr``. :func:`wrap_frame` hides that. The image
does not own its pixels, so it must not outlive the array it wraps: use it only inside the
``with`` block (the video view builds it inside ``paintEvent`` and drops it before returning).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import qtpy
from qtpy.QtGui import QImage

from camwall.frames import PixelFormat

Pixels = npt.NDArray[np.uint8]

#: How each ring pixel format maps onto a QImage format. BGRA bytes on a little-endian
#: machine are exactly Qt's RGB32 (0xffRRGGBB words), the one format Qt paints without
#: converting first; the others work but cost a conversion per paint.
QT_FORMATS: dict[PixelFormat, QImage.Format] = {
    PixelFormat.BGRA: QImage.Format.Format_RGB32,
    PixelFormat.RGB: QImage.Format.Format_RGB888,
    PixelFormat.BGR: QImage.Format.Format_BGR888,
    PixelFormat.GRAY: QImage.Format.Format_Grayscale8,
}

_PYQT = bool(getattr(qtpy, "PYQT5", False) or getattr(qtpy, "PYQT6", False))


def _span(array: Pixels) -> Pixels:
    """A 1-D view of every byte from the first pixel to the last one, rows included.

    Ring slots may have a row stride wider than the visible row, which makes the H×W×C view
    non-contiguous; the span is contiguous and starts at the same address.
    """
    if array.ndim not in (2, 3) or array.dtype != np.uint8:
        raise ValueError(f"expected an H×W or H×W×C uint8 frame, not {array.dtype} {array.shape}")
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    row, pixel = array.strides[0], array.strides[1]
    if pixel != channels or (array.ndim == 3 and array.strides[2] != 1) or row < width * channels:
        raise ValueError(
            f"frame rows must be packed pixels (strides {array.strides} for shape {array.shape})"
        )
    length = row * (height - 1) + width * channels
    return np.lib.stride_tricks.as_strided(array, shape=(length,), strides=(1,), writeable=False)


def _buffer_argument(span: Pixels) -> Any:
    """The pixel-pointer argument this binding's QImage constructor accepts, without a copy."""
    if _PYQT:
        from qtpy import sip

        return sip.voidptr(span.data)
    return span.data  # a memoryview of the same memory


@contextmanager
def wrap_frame(array: Pixels, fmt: PixelFormat = PixelFormat.BGRA) -> Iterator[QImage]:
    """Yield a QImage that paints straight from ``array``'s memory; valid inside the block only."""
    try:
        qt_format = QT_FORMATS[PixelFormat(fmt)]
    except (KeyError, ValueError):
        raise ValueError(f"no QImage format for pixel format {fmt!r}") from None
    span = _span(array)
    height, width = array.shape[:2]
    image = QImage(_buffer_argument(span), width, height, array.strides[0], qt_format)
    try:
        yield image
    finally:
        # Drop our reference before ``span`` goes: nothing here may keep the image alive.
        del image
