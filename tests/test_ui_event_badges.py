"""The camera's own motion and tamper events on its tile and in the log: the ONVIF simulator's
PullPoint service, the runtime following it, the wall showing it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from camwall.config import Camera, Config, OnvifConfig
from camwall.runtime import Runtime
from camwall.ui.wall.main_window import CameraWall
from support.onvif_sim import OnvifSimulator

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

WAIT_MS = 30000


@pytest.fixture
def event_wall(qtbot: QtBot, onvif_sim: OnvifSimulator) -> Iterator[CameraWall]:
    """A wall whose runtime knows the simulator's password (from the environment)."""
    logging.getLogger("camwall").setLevel(logging.INFO)  # the log panel shows INFO lines
    runtime = Runtime(Config(), mode="thread", env={"PW": onvif_sim.config.password})
    wall = CameraWall(runtime=runtime)
    wall.resize(640, 400)
    wall.show()
    qtbot.waitExposed(wall)
    yield wall
    wall.close()
    qtbot.waitUntil(lambda: wall.is_shut_down, timeout=WAIT_MS)
    wall.deleteLater()
    logging.getLogger("camwall").setLevel(logging.NOTSET)


def test_motion_and_tamper_badges_follow_the_camera(
    qtbot: QtBot, event_wall: CameraWall, onvif_sim: OnvifSimulator
) -> None:
    sim = onvif_sim
    event_wall.add_camera(
        Camera(
            name="door",
            url="synthetic://door?width=160&height=90&fps=5",
            onvif=OnvifConfig(
                host=sim.host, port=sim.port, user=sim.config.user, password_env="PW"
            ),
        )
    )
    tile = event_wall.tile("door")
    qtbot.waitUntil(lambda: sim.events.live() >= 1, timeout=WAIT_MS)
    assert tile.event_badges == ()

    sim.events.emit("motion", True)
    qtbot.waitUntil(lambda: tile.event_badges == ("MOTION",), timeout=WAIT_MS)
    sim.events.emit("tamper", True)
    qtbot.waitUntil(lambda: tile.event_badges == ("MOTION", "TAMPER"), timeout=WAIT_MS)
    # Another motion source ends: the first one still holds the badge.
    sim.events.emit("motion", True, source="vsc1")
    sim.events.emit("motion", False, source="vsc1")
    sim.events.emit("motion", False)
    qtbot.waitUntil(lambda: tile.event_badges == ("TAMPER",), timeout=WAIT_MS)
    sim.events.emit("tamper", False)
    qtbot.waitUntil(lambda: tile.event_badges == (), timeout=WAIT_MS)
    tile.grab()  # paints the overlay with and without badges without error

    log = event_wall.log_panel
    qtbot.waitUntil(lambda: "tampering ended" in log.shown_text(), timeout=WAIT_MS)
    text = log.shown_text()
    assert "[door] camera reports motion" in text
    assert "[door] motion ended" in text
    assert "[door] camera reports tampering" in text
    # One line per change of state: vsc0 on and off, vsc1 on and off.
    assert text.count("camera reports motion") == 2
    assert text.count("motion ended") == 2
