"""The wall and the decode budget: the enlarged camera is full rate, a minimised wall pauses.

Real parts: capture worker processes whose synthetic decoder burns real CPU (``cost_ms``),
the runtime's decode budget, the wall window on Qt's offscreen platform.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from camwall.config import Camera
from camwall.ui.wall.main_window import CameraWall

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

COSTLY = "synthetic://{}?width=320&height=180&fps=10&cost_ms=40"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_enlarged_camera_stays_full_and_a_minimised_wall_pauses(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall("process", size=(1000, 700))
    wall.runtime.decode.overload = 1.01  # judge by the workers' measured cost alone
    names = [f"cam{i}" for i in range(6)]
    for name in names:
        wall.add_camera(Camera(name=name, url=COSTLY.format(name)))
    # 6 × 40 ms × 10 fps = 2.4 cores wanted, 1.5 budgeted: some go keyframes-only.
    qtbot.waitUntil(
        lambda: sum(wall.runtime.decode_policy(n) == "keyframes" for n in names) >= 2,
        timeout=60000,
    )
    wall.grid.set_focused("cam3")  # double-click: cam3 fills the wall
    qtbot.waitUntil(lambda: wall.runtime.decode_policy("cam3") == "full", timeout=10000)
    qtbot.waitUntil(lambda: "keyframes" not in wall.tile("cam3").decode_badge, timeout=10000)
    # The others are hidden behind it now: paused.
    qtbot.waitUntil(lambda: wall.runtime.decode_policy("cam0") == "paused", timeout=10000)
    wall.grid.set_focused(None)
    wall.showMinimized()
    qtbot.waitUntil(
        lambda: all(wall.runtime.decode_policy(n) == "paused" for n in names), timeout=10000
    )
    wall.showNormal()
    qtbot.waitUntil(
        lambda: all(wall.runtime.decode_policy(n) != "paused" for n in names), timeout=10000
    )
