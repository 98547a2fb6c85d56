"""FrameConverter: every pixel format lands in BGRA correctly, in place, without allocating."""

from __future__ import annotations

import resource

import av
import numpy as np
import pytest

from camwall.sources.convert import FrameConverter
from support.media import picture


def reference_bgra(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """What swscale makes of the frame (the yardstick)."""
    return frame.reformat(width=width, height=height, format="bgra").to_ndarray()


def frame_in(fmt: str, width: int = 320, height: int = 180, index: int = 3) -> av.VideoFrame:
    """A test picture as a VideoFrame of pixel format ``fmt``."""
    return av.VideoFrame.from_ndarray(picture(index, width, height), format="bgr24").reformat(
        format=fmt
    )


@pytest.mark.parametrize(
    ("fmt", "path"),
    [
        ("yuv420p", "i420-cv"),
        ("nv12", "nv12-cv"),
        ("gray", "gray-cv"),
        ("bgr24", "bgr24-cv"),
        ("rgb24", "rgb24-cv"),
        ("rgba", "rgba-cv"),
        ("bgra", "bgra-copy"),
        ("yuvj420p", "sws-direct"),
        ("yuv422p", "sws-bilinear"),
        ("yuv444p", "sws-bilinear"),
    ],
)
def test_each_format_converts_like_swscale(fmt: str, path: str) -> None:
    """Same picture as swscale's conversion (±4 levels), through the expected path."""
    frame = frame_in(fmt)
    conv = FrameConverter()
    dst = np.zeros((180, 320, 4), np.uint8)
    conv.convert(frame, dst)
    assert conv.last_path == path
    ref = reference_bgra(frame, 320, 180)
    diff = np.abs(dst.astype(int) - ref.astype(int))
    assert np.percentile(diff[..., :3], 99) <= 4, (fmt, diff.max())
    assert (dst[..., 3] == 255).all()


def test_padded_lines_are_handled() -> None:
    """A width whose planes carry line padding (line_size > width) converts correctly."""
    frame = frame_in("yuv420p", width=330, height=100)
    assert frame.planes[0].line_size > 330
    dst = np.zeros((100, 330, 4), np.uint8)
    FrameConverter().convert(frame, dst)
    ref = reference_bgra(frame, 330, 100)
    assert np.percentile(np.abs(dst.astype(int) - ref.astype(int)), 99) <= 4


def test_odd_size_falls_back_to_swscale() -> None:
    """I420 needs even sizes for OpenCV; odd ones still convert (through swscale)."""
    frame = frame_in("yuv420p", width=321, height=181)
    conv = FrameConverter()
    dst = np.zeros((181, 321, 4), np.uint8)
    conv.convert(frame, dst)
    assert conv.last_path.startswith("sws")
    assert np.percentile(np.abs(dst.astype(int) - reference_bgra(frame, 321, 181)), 99) <= 4


@pytest.mark.parametrize("size", [(160, 90), (97, 55), (640, 360)], ids=str)
def test_scaling_into_a_different_size(size: tuple[int, int]) -> None:
    """A smaller (tile) or larger destination gets the scaled picture."""
    w, h = size
    frame = frame_in("yuv420p")
    conv = FrameConverter()
    dst = np.zeros((h, w, 4), np.uint8)
    conv.convert(frame, dst)
    assert conv.last_path == ("sws-area" if w < 320 else "sws-bilinear")
    blue = dst[int(h * 0.7) :, :, :3].reshape(-1, 3).mean(axis=0)
    assert np.allclose(blue, (255, 0, 0), atol=8), blue


def test_strided_destination_is_written_in_place() -> None:
    """A destination that is a view into a wider buffer (row padding) is filled in place."""
    frame = frame_in("yuv420p")
    big = np.zeros((180, 400, 4), np.uint8)
    view = big[:, :320]
    conv = FrameConverter()
    conv.convert(frame, view)
    assert (big[:, 320:] == 0).all()
    ref = reference_bgra(frame, 320, 180)
    assert np.percentile(np.abs(view.astype(int) - ref.astype(int)), 99) <= 4


def test_bad_destination_is_rejected() -> None:
    """Not H×W×4 uint8: a clear ValueError, nothing written."""
    with pytest.raises(ValueError, match="H×W×4 uint8"):
        FrameConverter().convert(frame_in("yuv420p"), np.zeros((180, 320, 3), np.uint8))


def test_no_allocation_per_frame_at_1440p() -> None:
    """The I420 buffer is made once per size: converting 1440p frames costs no fresh pages.

    A 5.5 MB temporary per frame would fault in ~1350 pages every frame; we allow a handful.
    """
    frames = [frame_in("yuv420p", 2560, 1440, i) for i in range(3)]
    conv = FrameConverter()
    dst = np.zeros((1440, 2560, 4), np.uint8)
    conv.convert(frames[0], dst)  # warm-up: the buffer is allocated and touched here
    buf = conv.i420_buffer(2560, 1440)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for i in range(12):
        conv.convert(frames[i % 3], dst)
    per_frame = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 12
    assert conv.i420_buffer(2560, 1440) is buf
    assert conv.last_path == "i420-cv"
    assert per_frame < 100, per_frame


@pytest.mark.parametrize("fmt", ["yuv420p", "nv12", "yuvj420p"])
@pytest.mark.parametrize("size", [(320, 180), (321, 181)], ids=str)
def test_tagged_frames_convert_in_place_exactly_like_reformat(
    fmt: str, size: tuple[int, int]
) -> None:
    """BT.709 (and full-range) frames: swscale writes straight into a strided slot view, with
    the very pixels PyAV's reformat makes from the same tags."""
    w, h = size
    frame = frame_in(fmt, w, h)
    frame.colorspace = 1  # BT.709
    big = np.zeros((h, w + 40, 4), np.uint8)
    view = big[:, :w]
    conv = FrameConverter()
    conv.convert(frame, view)
    assert conv.last_path == "sws-direct"
    assert (big[:, w:] == 0).all()
    assert np.array_equal(view, reference_bgra(frame, w, h))


def test_direct_conversion_allocates_nothing_per_frame_at_1440p() -> None:
    """The BT.709 path at 1440p writes into the slot: no fresh pages per frame."""
    frames = [frame_in("yuv420p", 2560, 1440, i) for i in range(3)]
    for f in frames:
        f.colorspace = 1
    conv = FrameConverter()
    dst = np.zeros((1440, 2560, 4), np.uint8)
    conv.convert(frames[0], dst)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for i in range(12):
        conv.convert(frames[i % 3], dst)
    per_frame = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 12
    assert conv.last_path == "sws-direct"
    assert per_frame < 100, per_frame
