"""wrap_frame: a QImage over NumPy/shared memory without a copy, under every binding."""

from __future__ import annotations

import os

import numpy as np
import pytest
import qtpy

from camwall.frames import FrameRing, PixelFormat
from camwall.ui.view.qimage import wrap_frame

pytestmark = pytest.mark.qt


def test_the_binding_is_the_one_qt_api_asks_for(qapp: object) -> None:
    """qtpy and pytest-qt run on the binding chosen by QT_API (see tests/fixtures/qt.py)."""
    from pytestqt.qt_compat import qt_api

    wanted = os.environ.get("QT_API", "pyside6").lower()
    assert qtpy.API_NAME.lower() == wanted
    assert qt_api.pytest_qt_api == wanted


def test_image_paints_from_the_array_memory_without_a_copy(qapp: object) -> None:
    frame = np.zeros((8, 16, 4), np.uint8)
    frame[:] = (0, 0, 255, 255)  # BGRA red
    with wrap_frame(frame) as image:
        assert (image.width(), image.height(), image.bytesPerLine()) == (16, 8, 64)
        assert image.pixelColor(3, 3).name() == "#ff0000"
        frame[3, 3] = (255, 0, 0, 255)  # blue, written after the QImage was made
        assert image.pixelColor(3, 3).name() == "#0000ff"


def test_rows_with_padding_use_the_row_stride(qapp: object) -> None:
    """A slot whose stride is wider than the row (a non-contiguous view) still wraps."""
    backing = np.zeros((6, 64), np.uint8)
    frame = backing[:, :40].reshape(6, 10, 4)
    assert not frame.flags["C_CONTIGUOUS"]
    frame[:] = (0, 255, 0, 255)
    backing[:, 40:] = 255  # padding must never show
    with wrap_frame(frame) as image:
        assert image.bytesPerLine() == 64
        assert {image.pixelColor(x, y).name() for x in range(10) for y in range(6)} == {"#00ff00"}


@pytest.mark.parametrize(
    ("fmt", "pixel", "want"),
    [
        (PixelFormat.BGRA, (10, 20, 30, 255), "#1e140a"),
        (PixelFormat.RGB, (10, 20, 30), "#0a141e"),
        (PixelFormat.BGR, (10, 20, 30), "#1e140a"),
        (PixelFormat.GRAY, (77,), "#4d4d4d"),
    ],
)
def test_every_ring_pixel_format(
    qapp: object, fmt: PixelFormat, pixel: tuple[int, ...], want: str
) -> None:
    shape = (4, 6) if fmt is PixelFormat.GRAY else (4, 6, fmt.channels)
    frame = np.empty(shape, np.uint8)
    frame[:] = pixel[0] if fmt is PixelFormat.GRAY else pixel
    with wrap_frame(frame, fmt) as image:
        assert image.pixelColor(2, 2).name() == want


def test_wraps_a_shared_memory_slot(qapp: object) -> None:
    ring = FrameRing.create(FrameRing.capacity_for(32, 16))
    try:
        ring.publish(np.full((16, 32, 4), (0, 255, 255, 255), np.uint8))
        with ring.view_latest() as view:
            assert view is not None
            with wrap_frame(view.array, view.info.fmt) as image:
                assert image.pixelColor(31, 15).name() == "#ffff00"
            assert view.intact()
    finally:
        ring.unlink()
        ring.close()


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4, 4), np.float32),
        np.zeros((4,), np.uint8),
        np.zeros((4, 4, 4), np.uint8)[:, ::2],  # pixels not packed
    ],
)
def test_rejects_arrays_qt_cannot_read_in_place(qapp: object, bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"uint8|packed"), wrap_frame(bad):
        pass
