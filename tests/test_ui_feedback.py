"""Feedback people see without the log: notifications over the wall and the status bar."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from camwall.capture import CameraState
from camwall.config import Camera
from camwall.ui.wall.main_window import CameraWall

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

SMALL = "width=160&height=90&fps=10"


def test_snapshot_saved_and_failed_are_notified(
    qtbot: QtBot, make_wall: Callable[..., CameraWall], tmp_path: Path
) -> None:
    wall = make_wall()
    wall.add_camera(Camera(name="yard", url=f"synthetic://yard?{SMALL}"))
    wall.add_camera(Camera(name="off", url=f"synthetic://off?{SMALL}"), start=False)
    # No picture yet: said over the wall at once, not only in the log.
    wall._on_snapshot_requested("off", "png")
    notice = wall.notifications.notices()[-1]
    assert notice.kind == "error" and "Snapshot of off" in notice.text

    tile = wall.tile("yard")
    qtbot.waitUntil(
        lambda: tile.state is CameraState.STREAMING and tile.shown_seq > 0, timeout=20000
    )
    wall._on_snapshot_requested("yard", "jpeg")
    qtbot.waitUntil(
        lambda: any("Saved a snapshot of yard" in n.text for n in wall.notifications.notices()),
        timeout=10000,
    )
    notice = next(n for n in wall.notifications.notices() if "Saved a snapshot" in n.text)
    assert notice.button("Open folder") is not None
    assert not notice.isHidden() and not wall.notifications.isHidden()
    assert list((tmp_path / "snapshots").glob("*.jpg"))
    # Notices go away by themselves.
    notice.timer.start(10)
    qtbot.waitUntil(lambda: notice not in wall.notifications.notices(), timeout=3000)


def test_status_bar_counts_recording_detection_and_cpu(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall()
    wall.add_camera(Camera(name="a", url=f"synthetic://a?{SMALL}"))
    wall.add_camera(Camera(name="b", url=f"synthetic://b?{SMALL}"))
    status = wall.status
    qtbot.waitUntil(lambda: status.cameras.text() == "2 cameras, 2 live", timeout=20000)
    assert status.recording.text() == "REC off"
    assert status.detecting.text() == "detection off"
    wall.tile("b").set_detecting(True)
    wall._update_summary()
    assert status.detecting.text() == "detecting 1"
    status.sample_cpu()
    assert re.fullmatch(r"CPU \d+%", status.cpu.text())
