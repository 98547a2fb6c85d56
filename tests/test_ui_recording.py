"""The wall records: `record = true` and the record toggles, through the one runtime.

Real parts: the GStreamer RTSP server on 127.0.0.1 fed by x264, capture worker processes
that remux into fragmented MP4, PyAV reading the segments back, Qt offscreen.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from pytestqt.qtbot import QtBot

from camwall.capture import CameraState
from camwall.config import Camera, Config, RecordingConfig
from camwall.record import SegmentClosed
from camwall.runtime import RuntimeEvent
from camwall.testing.rtsp import RtspServer
from camwall.ui.wall.main_window import CameraWall
from support.h264clip import Clip

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]


def closed(events: list[RuntimeEvent]) -> list[SegmentClosed]:
    out = []
    for event in events:
        record = getattr(event.payload, "record", None)
        if isinstance(record, SegmentClosed):
            out.append(record)
    return out


def play(path: Path) -> tuple[int, float]:
    """Frames decoded and seconds of video in a segment (raises if it is unplayable)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [f.pts for f in container.decode(stream) if f.pts is not None]
    seconds = float((max(pts) - min(pts)) * stream.time_base) if len(pts) > 1 else 0.0
    return len(pts), seconds


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_wall_records_and_the_toggle_closes_the_segment_cleanly(
    qtbot: QtBot,
    make_wall: Callable[..., CameraWall],
    rtsp_server: RtspServer,
    tmp_path: Path,
) -> None:
    rec = tmp_path / "rec"
    config = Config(recording=RecordingConfig(dir=rec, segment_seconds=2.0))
    wall = make_wall("process", config=config)
    events: list[RuntimeEvent] = []
    wall.runtime.subscribe(events.append)
    wall.add_camera(Camera(name="door", url=rtsp_server.url("cam"), record=True))
    tile = wall.tile("door")
    qtbot.waitUntil(lambda: tile.state is CameraState.STREAMING, timeout=30000)
    qtbot.waitUntil(lambda: tile.recording_badge() == "REC", timeout=20000)

    # Segments appear, each opens in PyAV, and their durations add up.
    qtbot.waitUntil(lambda: len(closed(events)) >= 2, timeout=30000)
    for segment in closed(events)[:2]:
        frames, seconds = play(segment.path)
        assert frames > 10 and seconds == pytest.approx(segment.duration_s, abs=0.5)
        assert segment.duration_s == pytest.approx(2.0, abs=1.0)
    qtbot.waitUntil(lambda: "recorded 2 segments" in tile.stats_text(), timeout=5000)

    # Off from the tile's menu: the open segment is finished (and plays), no new one starts,
    # the live picture never stops.
    before = len(closed(events))
    shown = tile.shown_seq
    tile.record_toggled.emit("door", False)
    assert tile.recording_badge() == ""
    qtbot.waitUntil(lambda: len(closed(events)) == before + 1, timeout=10000)
    last = closed(events)[-1]
    assert play(last.path)[0] > 0
    files = set(rec.rglob("*.mp4"))
    qtbot.waitUntil(lambda: tile.shown_seq > shown + 25, timeout=10000)  # ≥ 1 s of live video
    assert set(rec.rglob("*.mp4")) == files
    assert tile.state is CameraState.STREAMING

    # On again from the dock: a new segment.
    wall.select_camera("door")
    box = wall.controls.record_box
    assert box.isEnabled() and not box.isChecked()
    box.setChecked(True)
    assert wall.runtime.is_recording("door")
    qtbot.waitUntil(lambda: len(set(rec.rglob("*.mp4"))) > len(files), timeout=20000)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_unwritable_recording_folder_is_shown_on_the_tile(
    qtbot: QtBot, make_wall: Callable[..., CameraWall], tmp_path: Path, h264_clip_7s: Clip
) -> None:
    """The reason is on the tile and in the log; the live view goes on regardless."""
    if os.geteuid() == 0:
        # root writes anywhere: make the folder a file instead, which nobody can write into.
        blocked = tmp_path / "rec"
        blocked.write_text("not a folder")
    else:
        blocked = tmp_path / "rec"
        blocked.mkdir(mode=0o500)
    config = Config(recording=RecordingConfig(dir=blocked, segment_seconds=2.0))
    wall = make_wall("thread", config=config)
    wall.add_camera(Camera(name="door", url=str(h264_clip_7s.path), record=True))
    tile = wall.tile("door")
    qtbot.waitUntil(
        lambda: tile.state is CameraState.STREAMING and tile.shown_seq > 0, timeout=30000
    )
    qtbot.waitUntil(
        lambda: "REC failed" in tile.recording_badge() or bool(tile.problem), timeout=20000
    )
    text = tile.recording_badge() or tile.problem
    assert str(blocked) in text or "rec" in text
    qtbot.waitUntil(lambda: "cannot record" in wall.log_panel.shown_text(), timeout=5000)
    shown = tile.shown_seq
    qtbot.waitUntil(lambda: tile.shown_seq > shown + 10, timeout=10000)
