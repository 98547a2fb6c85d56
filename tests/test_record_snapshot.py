"""Snapshots from ring-format frames: right colours in the file, exact for PNG."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest

from camwall.errors import StorageError
from camwall.frames.pixfmt import PixelFormat
from camwall.record import save_snapshot


def sample_frame() -> np.ndarray:
    """A 90×160 BGR frame with distinct colours everywhere (so a channel swap shows)."""
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)


def as_format(bgr: np.ndarray, fmt: PixelFormat) -> np.ndarray:
    if fmt is PixelFormat.BGRA:
        # Ring frames carry an alpha byte that means nothing (often 0): it must not matter.
        return np.dstack([bgr, np.zeros(bgr.shape[:2], np.uint8)])
    if fmt is PixelFormat.RGB:
        return np.ascontiguousarray(bgr[:, :, ::-1])
    if fmt is PixelFormat.GRAY:
        return np.ascontiguousarray(bgr[:, :, 1])
    return bgr


@pytest.mark.parametrize("fmt", list(PixelFormat), ids=lambda f: f.name)
def test_png_round_trips_exactly(tmp_path: Path, fmt: PixelFormat) -> None:
    """Every pixel format comes back from the PNG with exactly the same colours (as BGR)."""
    bgr = sample_frame()
    path = save_snapshot(as_format(bgr, fmt), fmt, tmp_path / "shot.png", "front")
    assert path == tmp_path / "shot.png"
    back = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    expected = bgr[:, :, 1] if fmt is PixelFormat.GRAY else bgr
    assert back.shape == expected.shape
    assert np.array_equal(back, expected)


@pytest.mark.parametrize("fmt", [PixelFormat.BGRA, PixelFormat.RGB, PixelFormat.BGR])
def test_jpeg_keeps_the_colours(tmp_path: Path, fmt: PixelFormat) -> None:
    """JPEG is lossy, but on a smooth image every channel stays close (no channel swap)."""
    y, x = np.mgrid[0:90, 0:160]
    bgr = np.dstack([x * 1.5, y * 2.5, (x + y)]).astype(np.uint8)
    path = save_snapshot(as_format(bgr, fmt), fmt, tmp_path, "front", kind="jpeg")
    back = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert back.shape == bgr.shape
    assert np.abs(back.astype(int) - bgr.astype(int)).mean(axis=(0, 1)).max() < 3


def test_directory_target_gets_a_camera_and_time_name(tmp_path: Path) -> None:
    """Given a folder (created if needed), the name carries the camera and UTC time; two
    snapshots in the same millisecond do not overwrite each other."""
    folder = tmp_path / "snaps"
    frame = sample_frame()
    paths = [save_snapshot(frame, PixelFormat.BGR, folder, "Front door") for _ in range(3)]
    assert len(set(paths)) == 3
    for path in paths:
        assert path.parent == folder
        assert re.fullmatch(r"front_door_\d{8}T\d{6}\.\d{3}Z(~\d+)?\.png", path.name), path.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)


def test_strided_view_of_a_larger_buffer(tmp_path: Path) -> None:
    """A frame that is a view into a bigger buffer (a ring slot with padding) is saved right."""
    big = np.zeros((90, 200, 4), np.uint8)
    bgr = sample_frame()
    big[:, :160, :3] = bgr
    path = save_snapshot(big[:, :160], PixelFormat.BGRA, tmp_path / "v.png", "cam")
    assert np.array_equal(cv2.imread(str(path)), bgr)


def test_mistakes_are_reported(tmp_path: Path) -> None:
    """Wrong channel count, mismatched suffix, and an unwritable place each say what is wrong."""
    frame = sample_frame()
    with pytest.raises(
        ValueError, match=r"a BGRA frame has 4 channel\(s\); got shape \(90, 160, 3\)"
    ):
        save_snapshot(frame, PixelFormat.BGRA, tmp_path / "a.png", "cam")
    with pytest.raises(ValueError, match="the suffix says jpeg but kind is 'png'"):
        save_snapshot(frame, PixelFormat.BGR, tmp_path / "a.jpg", "cam")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(StorageError) as info:
        save_snapshot(frame, PixelFormat.BGR, blocker / "shots", "cam")
    assert str(blocker / "shots") in str(info.value)
    assert "Not a directory" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]
