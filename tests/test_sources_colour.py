"""Colour: the stream's matrix (BT.601/BT.709) and range (limited/full) at every size.

Known RGB patches are turned into YUV with each standard's own formula (not swscale's, so
the yardstick is independent of the code under test), encoded losslessly with libx264 and
tagged in the H.264 stream (VUI) as cameras do, then decoded by PyAVSource and converted at
full size (the enlarged camera) and at half size (a grid tile).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from camwall.sources import SourceSettings, open_source
from camwall.sources.avframe import PyAVFrame

W, H = 320, 192
#: Saturated, in-gamut colours (RGB) on which BT.601 and BT.709 differ by far more than the
#: tolerance, in a 2×2 grid.
PATCHES = [(200, 40, 40), (40, 170, 60), (40, 60, 200), (200, 190, 50)]
#: (Kr, Kb) and the AVColorSpace tag of each matrix.
MATRICES = {"bt601": ((0.299, 0.114), 6), "bt709": ((0.2126, 0.0722), 1)}
RANGES = {"limited": 1, "full": 2}  # AVColorRange: MPEG, JPEG


def yuv_of(rgb: tuple[int, int, int], matrix: str, full: bool) -> tuple[float, float, float]:
    """Y'CbCr (8-bit code values) of an RGB colour, by the standard's formula."""
    (kr, kb), _ = MATRICES[matrix]
    r, g, b = (c / 255 for c in rgb)
    y = kr * r + (1 - kr - kb) * g + kb * b
    pb, pr = (b - y) / (2 * (1 - kb)), (r - y) / (2 * (1 - kr))
    if full:
        return 255 * y, 128 + 255 * pb, 128 + 255 * pr
    return 16 + 219 * y, 128 + 224 * pb, 128 + 224 * pr


def patch_slices(width: int, height: int) -> list[tuple[slice, slice]]:
    """The inner half of each patch (away from chroma and scaling edges)."""
    out = []
    for i in range(4):
        x0, y0 = (i % 2) * width // 2, (i // 2) * height // 2
        out.append(
            (
                slice(y0 + height // 8, y0 + height * 3 // 8),
                slice(x0 + width // 8, x0 + width * 3 // 8),
            )
        )
    return out


def encode_patches(path: Path, matrix: str, rng: str) -> Path:
    """A short lossless H.264 MPEG-TS clip of the patches, tagged with matrix and range."""
    full = rng == "full"
    planes = np.empty((H * 3 // 2, W), np.uint8)
    y_plane = planes[:H]
    chroma = planes[H:].reshape(2, H // 2, W // 2)
    for i, rgb in enumerate(PATCHES):
        y, cb, cr = (round(v) for v in yuv_of(rgb, matrix, full))
        x0, y0 = (i % 2) * W // 2, (i // 2) * H // 2
        y_plane[y0 : y0 + H // 2, x0 : x0 + W // 2] = y
        chroma[0, y0 // 2 : (y0 + H // 2) // 2, x0 // 2 : (x0 + W // 2) // 2] = cb
        chroma[1, y0 // 2 : (y0 + H // 2) // 2, x0 // 2 : (x0 + W // 2) // 2] = cr
    _, tag = MATRICES[matrix]
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=10, options={"preset": "ultrafast", "qp": "0"})
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        cc = stream.codec_context
        cc.colorspace, cc.color_range = tag, RANGES[rng]
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.colorspace, frame.color_range = tag, RANGES[rng]
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def patch_means(bgra: np.ndarray) -> list[np.ndarray]:
    """Mean RGB of each patch's inner half."""
    h, w = bgra.shape[:2]
    return [bgra[ys, xs, 2::-1].reshape(-1, 3).mean(axis=0) for ys, xs in patch_slices(w, h)]


@pytest.mark.parametrize("rng", ["limited", "full"])
@pytest.mark.parametrize("matrix", ["bt601", "bt709"])
def test_colours_follow_the_stream_tags_at_every_size(
    tmp_path: Path, matrix: str, rng: str
) -> None:
    """Full size and a half-size tile show the patches' RGB (±6), and agree (±4)."""
    clip = encode_patches(tmp_path / f"{matrix}-{rng}.ts", matrix, rng)
    src = open_source(SourceSettings(str(clip), realtime=False))
    try:
        src.open()
        frame = src.read()
        assert isinstance(frame, PyAVFrame)
        assert frame.av_frame.colorspace == MATRICES[matrix][1]  # the tags reached the decoder
        full = np.zeros((H, W, 4), np.uint8)
        tile = np.zeros((H // 2, W // 2, 4), np.uint8)
        frame.convert_into(full)
        full_path = src._converter.last_path
        frame.convert_into(tile)
    finally:
        src.close()
    for rgb, at_full, at_tile in zip(PATCHES, patch_means(full), patch_means(tile), strict=True):
        assert np.abs(at_full - rgb).max() <= 6, (rgb, at_full.round(1), full_path)
        assert np.abs(at_tile - rgb).max() <= 6, (rgb, at_tile.round(1))
        assert np.abs(at_full - at_tile).max() <= 4, (at_full.round(1), at_tile.round(1))
    if (matrix, rng) == ("bt601", "limited"):
        assert full_path == "i420-cv"  # the fast path stays where it is right
    else:
        assert full_path.startswith("sws"), full_path


def test_the_matrices_really_differ_on_these_patches() -> None:
    """The yardstick can fail: decoding BT.709 data as BT.601 misses by far more than 6."""
    (kr, kb), _ = MATRICES["bt601"]
    worst = 0.0
    for rgb in PATCHES:
        y, cb, cr = yuv_of(rgb, "bt709", full=False)
        yy, pb, pr = (y - 16) / 219, (cb - 128) / 224, (cr - 128) / 224
        r = yy + 2 * (1 - kr) * pr
        b = yy + 2 * (1 - kb) * pb
        g = (yy - kr * r - kb * b) / (1 - kr - kb)
        worst = max(worst, *(abs(255 * c - e) for c, e in zip((r, g, b), rgb, strict=True)))
    assert worst > 15, worst
