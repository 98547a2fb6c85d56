"""WebcamSource: URL forms and the clear error for a camera that is not there.

No webcam exists on the test machines, so only the failure paths run for real.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from camwall.errors import InvalidSourceError, StreamLostError, StreamNotFoundError
from camwall.sources import SourceSettings, open_source
from camwall.sources.webcam import WebcamFrame, WebcamSource, parse_webcam_url


@pytest.mark.parametrize(
    ("url", "index", "mode"),
    [
        ("0", 0, {}),
        ("3", 3, {}),
        ("webcam://1", 1, {}),
        ("webcam://2?width=1280&height=720&fps=30", 2, {"width": 1280, "height": 720, "fps": 30}),
    ],
)
def test_url_forms(url: str, index: int, mode: dict[str, float]) -> None:
    """Device numbers and webcam:// URLs with an optional mode."""
    assert parse_webcam_url(url) == (index, mode)
    assert isinstance(open_source(SourceSettings(url)), WebcamSource)


@pytest.mark.parametrize(
    "url", ["webcam://front", "webcam://0?zoom=2", "webcam://0?width=wide"], ids=str
)
def test_bad_webcam_urls(url: str) -> None:
    """A bad device or parameter fails when the source is made, naming the problem."""
    with pytest.raises(InvalidSourceError):
        WebcamSource(SourceSettings(url))


def test_missing_device_is_a_clear_error() -> None:
    """Device 57 does not exist: StreamNotFoundError at once, saying which device."""
    src = open_source(SourceSettings("57"))
    t0 = time.monotonic()
    with pytest.raises(StreamNotFoundError, match=r"webcam 57: no such camera") as err:
        src.open()
    assert time.monotonic() - t0 < 2
    assert "/dev/video57" in str(err.value) or "cannot be opened" in str(err.value)
    with pytest.raises(StreamLostError, match="before open"):
        src.read()
    src.close()


def test_frame_conversion_and_scaling() -> None:
    """A BGR capture buffer converts into BGRA, at its size or scaled to a tile."""
    src = WebcamSource(SourceSettings("0"))
    bgr = np.zeros((120, 160, 3), np.uint8)
    bgr[:] = (10, 200, 30)
    frame = WebcamFrame(bgr, src, time.monotonic_ns(), 0)
    same = np.zeros((120, 160, 4), np.uint8)
    frame.convert_into(same)
    assert (same == (10, 200, 30, 255)).all()
    tile = np.zeros((60, 80, 4), np.uint8)
    frame.convert_into(tile)
    assert (tile == (10, 200, 30, 255)).all()
