"""One runtime, two faces: the wall and headless run the same code for the same config.

Real parts: a looping H.264 file camera that records, synthetic cameras, real capture worker
processes, the wall as a real `camwall --config` process (offscreen Qt) stopped by signals
and killed with SIGKILL, and `camwall run --headless` as a real process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import av
import psutil
import pytest
from pytestqt.qtbot import QtBot

from camwall.config import load
from camwall.frames.stale import reclaim_stale
from camwall.record.naming import parse_segment_name
from camwall.runtime import RuntimeEvent
from camwall.ui.wall.main_window import CameraWall
from conftest import camwall_segments
from support.h264clip import make_h264_clip

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

CONFIG = """
version = 1
[recording]
dir = "rec"
segment_seconds = 2
[[camera]]
name = "door"
url = "door.mp4"
record = true
[[camera]]
name = "yard"
url = "synthetic://yard?width=160&height=90&fps=10"
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    """A folder with a config: a recording file camera and a synthetic one."""
    make_h264_clip(tmp_path / "door.mp4", seconds=3.0, width=320, height=180, gop=25)
    (tmp_path / "camwall.toml").write_text(CONFIG)
    yield tmp_path


def segments(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.mp4"))


def playable_seconds(path: Path) -> float:
    """Seconds of video PyAV decodes from ``path`` (raises if it cannot open it)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [
            float(frame.pts * stream.time_base)
            for frame in container.decode(stream)
            if frame.pts is not None
        ]
    return (max(times) - min(times)) if len(times) > 1 else 0.0


def decoded_frames(path: Path) -> int:
    """Frames PyAV decodes from ``path`` (raises if it cannot open it)."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def closed_segments(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for e in events if e["type"] == "recording" and e.get("event") == "segment_closed"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_wall_and_headless_run_the_same_config(qtbot: QtBot, site: Path, make_wall: object) -> None:
    """Same config through both faces: segments recorded, the same kinds of events."""
    config = load(site / "camwall.toml")
    # The wall, in this process, over its runtime.
    wall_events: list[dict[str, object]] = []
    wall: CameraWall = make_wall("process", config=config)  # type: ignore[operator]
    wall.runtime.subscribe(lambda e: wall_events.append(RuntimeEvent.to_dict(e)))
    wall.add_cameras(config.cameras)
    assert wall.tile("door").recording  # record = true reaches the wall: the REC badge
    qtbot.waitUntil(lambda: len(closed_segments(wall_events)) >= 2, timeout=60000)
    wall.close()
    qtbot.waitUntil(lambda: wall.is_shut_down, timeout=20000)
    wall_segments = segments(site / "rec")
    assert len(wall_segments) >= 2
    assert "recorded" in wall.tile("door").stats_text()

    # Headless, on the same config, in another folder.
    other = site / "headless"
    other.mkdir()
    (other / "camwall.toml").write_text(CONFIG)
    make_h264_clip(other / "door.mp4", seconds=3.0, width=320, height=180, gop=25)
    command = ["run", "--headless", "--config", str(other / "camwall.toml"), "--seconds", "6"]
    command += ["--stats-interval", "1"]
    ran = subprocess.run(
        [sys.executable, "-m", "camwall", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    headless_events = [json.loads(line) for line in ran.stdout.splitlines() if line.strip()]
    headless_segments = segments(other / "rec")
    assert len(headless_segments) >= 2

    # Both recorded playable segments of the same camera into the same layout (a looping
    # file starts a new segment where it loops, so lengths vary; together they add up).
    for files in (wall_segments, headless_segments):
        durations = [playable_seconds(path) for path in files]
        assert sum(durations) > 2.0, durations
    rel = {p.relative_to(site / "rec").parts[0] for p in wall_segments}
    assert rel == {p.relative_to(other / "rec").parts[0] for p in headless_segments}
    # The same kinds of events about the cameras, from the same runtime.
    kinds = {"state", "ring", "info", "stats", "recording", "camera", "runtime"}
    for name, events in (("wall", wall_events), ("headless", headless_events)):
        seen = {str(e["type"]) for e in events}
        assert kinds <= seen, (name, kinds - seen)
        cameras = {e["camera"] for e in events if e["type"] == "state"}
        assert cameras == {"door", "yard"}, (name, cameras)


class WallProcess:
    """`camwall --config FILE` as a real process on Qt's offscreen platform."""

    def __init__(self, folder: Path) -> None:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        self.err = (folder / "wall-stderr.txt").open("w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "camwall", "--config", str(folder / "camwall.toml")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.err,
            env=env,
        )
        self.children: set[int] = set()

    def note_children(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.children |= {p.pid for p in psutil.Process(self.proc.pid).children(True)}

    def stderr(self) -> str:
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pid in self.children:
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()
        self.err.close()


@pytest.fixture
def wall_process(site: Path) -> Iterator[WallProcess]:
    wall = WallProcess(site)
    yield wall
    wall.close()


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.add(pid)
    return out


def shm_of(pid: int) -> set[str]:
    return {name for name in camwall_segments() if name.startswith(f"camwall-{pid}-")}


def wait_recording(wall: WallProcess, site: Path) -> None:
    """Until the wall's workers run and a first segment is complete."""
    wait_for(lambda: len(segments(site / "rec")) >= 2, 90, "two segments from the wall")
    wall.note_children()
    assert wall.children, "the wall runs its cameras in worker processes"
    assert shm_of(wall.proc.pid), "the wall owns frame rings"


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_the_wall_stops_cleanly_on_signals(
    site: Path, wall_process: WallProcess, sig: signal.Signals
) -> None:
    """SIGTERM, SIGHUP and SIGINT close the wall as its close button does: nothing left."""
    wait_recording(wall_process, site)
    wall_process.proc.send_signal(sig)
    assert wall_process.proc.wait(30) == 0, wall_process.stderr()[-2000:]
    wait_for(lambda: not alive(wall_process.children), 10, "the workers to exit")
    assert shm_of(wall_process.proc.pid) == set(), "the wall left shared memory behind"
    # The segment open at the signal was finished: every file plays.
    for path in segments(site / "rec"):
        assert decoded_frames(path) > 0, path


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_wall_killed_while_recording_loses_at_most_a_second(
    site: Path, wall_process: WallProcess
) -> None:
    """SIGKILL: the workers follow their owner, every segment plays, stale memory is reclaimed."""
    wait_recording(wall_process, site)
    wall_process.proc.kill()
    killed_at = datetime.now(UTC)
    wall_process.proc.wait(10)
    wait_for(lambda: not alive(wall_process.children), 15, "orphaned workers to exit")
    files = segments(site / "rec")
    for path in files:
        playable_seconds(path)  # every file opens and decodes
    # The segment open at the kill holds all but (at most) about its last second.
    last = files[-1]
    parsed = parse_segment_name(last.name)
    assert parsed is not None
    age = (killed_at - parsed[1]).total_seconds()
    assert playable_seconds(last) >= age - 1.0 - 0.5, (age, playable_seconds(last))
    # The next start of camwall reclaims the dead wall's rings.
    pid = wall_process.proc.pid
    reclaim_stale()
    assert shm_of(pid) == set()
