"""Detection that informs: a log line per track (not per frame), the Events panel with
thumbnails, a badge on detecting tiles."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from camwall.config import Camera
from camwall.detect.messages import DetectionResult, TrackEvent
from camwall.runtime import RuntimeEvent
from camwall.ui.wall.main_window import CameraWall

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]


def track(kind: str, track_id: int, at: float, snapshot: str | None = None) -> TrackEvent:
    return TrackEvent(
        kind=kind,  # type: ignore[arg-type]
        camera="door",
        label="person",
        track_id=track_id,
        time=at,
        capture_ns=0,
        seq=track_id,
        box=(10.0, 10.0, 50.0, 80.0),
        best_score=0.87,
        snapshot=snapshot,
    )


def result(seq: int) -> DetectionResult:
    box = {"x0": 10.0, "y0": 10.0, "x1": 50.0, "y1": 80.0, "score": 0.8, "label": "person"}
    return DetectionResult("door", seq, 0, 160, 90, [box], 3.0, "people")


def test_a_log_line_per_track_and_a_row_with_a_thumbnail(
    qtbot: QtBot,
    make_wall: Callable[..., CameraWall],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wall = make_wall()
    wall.add_camera(Camera(name="door", url="synthetic://door?width=160&height=90"), start=False)
    snapshot = tmp_path / "door-person-1.jpg"
    cv2.imwrite(str(snapshot), np.full((360, 640, 3), 200, np.uint8))
    t0 = time.time()
    with caplog.at_level(logging.INFO, logger="camwall.ui.wall.wall_detection"):
        wall.detection.on_event(RuntimeEvent(track("appeared", 1, t0, str(snapshot))))
        for seq in range(50):  # 50 frames with the person in them: no line each
            wall.detection.on_event(RuntimeEvent(result(seq)))
        wall.detection.on_event(RuntimeEvent(track("appeared", 2, t0 + 1)))
        wall.detection.on_event(RuntimeEvent(track("left", 1, t0 + 12)))
        wall.detection.on_event(RuntimeEvent(track("left", 2, t0 + 3)))
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("wall_detection")]
    assert len(lines) == 4, lines  # appeared + left, per track
    assert "person appeared" in lines[0] and str(snapshot) in lines[0]
    assert lines[2] == "person left after 12 s"

    panel = wall.events_panel
    rows = panel.rows()
    assert len(rows) == 2  # one row per track, newest first
    assert "person · door" in rows[1] and rows[1].endswith("left after 12 s")
    assert rows[0].endswith("left after 2 s")
    qtbot.waitUntil(lambda: panel.has_thumbnail(1), timeout=5000)
    assert not panel.has_thumbnail(0)  # no snapshot for that one: a placeholder, not a hole
    placeholder = panel.list.item(0).icon().pixmap(64, 36).toImage()  # type: ignore[union-attr]
    assert placeholder.pixelColor(32, 18).alpha() == 255
    assert "No snapshot" in panel.list.item(0).toolTip()  # type: ignore[union-attr]


def test_a_detecting_tile_wears_a_badge(qtbot: QtBot, make_wall: Callable[..., CameraWall]) -> None:
    wall = make_wall()
    tile = wall.add_camera(
        Camera(name="door", url="synthetic://door?width=160&height=90"), start=False
    )
    assert "DETECTING" not in tile.corner_badge()
    tile.set_detecting(True)
    assert tile.corner_badge() == "DETECTING"
    tile.set_recording(True, active=True)
    assert tile.corner_badge() == "REC · DETECTING"
