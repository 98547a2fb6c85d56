"""Files as stand-in cameras: paced by their timestamps, looping, or ending as a lost stream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from camwall.errors import StreamLostError
from camwall.sources import SourceSettings, open_source
from camwall.sources.base import Source
from camwall.sources.pyav import PyAVSource
from support.media import CLIP_BGR
from support.pictures import close_to, mean_color


@pytest.fixture
def opened() -> Iterator[list[Source]]:
    """Sources appended here are closed after the test."""
    sources: list[Source] = []
    yield sources
    for s in sources:
        s.close()


def test_file_info_and_picture(h264_clip: Path, opened: list[Source]) -> None:
    """A file opens like a camera: codec, size, rate; frames convert to the clip's colour."""
    src = open_source(SourceSettings(str(h264_clip), realtime=False))
    opened.append(src)
    assert isinstance(src, PyAVSource) and src.is_file
    info = src.open()
    assert (info.codec, info.width, info.height, info.fps) == ("h264", 320, 180, 25.0)
    assert info.transport == "file"
    dst = np.zeros((180, 320, 4), np.uint8)
    src.read().convert_into(dst)
    assert close_to(mean_color(dst, 0.6, 1.0, 0, 1), CLIP_BGR)


def test_realtime_file_is_paced_like_a_camera(h264_clip: Path, opened: list[Source]) -> None:
    """realtime=True: 25 frames of a 25 fps clip take about one second, not a few ms."""
    src = open_source(SourceSettings(str(h264_clip), realtime=True))
    opened.append(src)
    src.open()
    src.read()
    t0 = time.monotonic()
    for _ in range(25):
        src.read()
    took = time.monotonic() - t0
    assert 0.85 < took < 2.0, took


def test_fast_file_is_not_paced(h264_clip: Path, opened: list[Source]) -> None:
    """realtime=False: the whole 2 s clip decodes in far less than its duration."""
    src = open_source(SourceSettings(str(h264_clip), realtime=False))
    opened.append(src)
    src.open()
    t0 = time.monotonic()
    with pytest.raises(StreamLostError, match="end of stream"):
        while True:
            src.read()
    assert src.stats.frames == 50
    assert time.monotonic() - t0 < 1.5


def test_file_end_is_a_lost_stream_every_time(h264_clip: Path, opened: list[Source]) -> None:
    """Without loop the end is reported, and keeps being reported, as StreamLostError."""
    src = open_source(SourceSettings(str(h264_clip), realtime=False))
    opened.append(src)
    src.open()
    with pytest.raises(StreamLostError, match="end of stream"):
        while True:
            src.read()
    with pytest.raises(StreamLostError, match="end of stream"):
        src.read()


def test_loop_restarts_at_the_end(h264_clip: Path, opened: list[Source]) -> None:
    """loop=True: reading past the end starts again; pts go back to the start."""
    src = open_source(SourceSettings(str(h264_clip), realtime=False, loop=True))
    opened.append(src)
    src.open()
    pts = [src.read().pts for _ in range(120)]
    assert src.stats.frames == 120
    assert src.stats.extra.get("loops", 0) == 2
    starts = [i for i in range(1, len(pts)) if (pts[i] or 0) < (pts[i - 1] or 0)]
    assert starts == [50, 100]


def test_interrupt_ends_pacing_wait(tmp_path: Path, opened: list[Source]) -> None:
    """A paced wait (a 1 fps file) is cut short by interrupt()."""
    from support.media import encode_clip

    clip = encode_clip(tmp_path / "slow.ts", frames=5, fps=1)
    src = open_source(SourceSettings(str(clip), realtime=True))
    opened.append(src)
    src.open()
    src.read()
    src.interrupt()
    t0 = time.monotonic()
    with pytest.raises(StreamLostError, match="interrupted"):
        src.read()
    assert time.monotonic() - t0 < 0.5
