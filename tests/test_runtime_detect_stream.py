"""Detection reads a fixed stream per camera (``detect_stream``), whatever the wall shows.

Real parts: the GStreamer RTSP test server with a main stream (640×360) and a substream
(320×180) of a moving ball, counting its RTSP sessions; capture workers (processes and
threads) publishing view and detect rings; the detection worker process (motion detector).
The detect frames' size tells which stream the detector saw: 640×360 for the main stream,
320×180 for the substream (the detect size is 640 wide, never enlarged).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

import camwall.config as config
from camwall.config import Camera, Config, ConfigDocument, DetectionConfig, RecordingConfig
from camwall.errors import ConfigError
from camwall.frames import FrameRing
from camwall.runtime import Runtime, detect_stream
from camwall.testing.rtsp import RtspServer
from fixtures.rtsp import ServerFactory
from support.runtime_events import Collector

MOUNTS = (
    "main:width=640,height=360,fps=15,pattern=ball",
    "sub:width=320,height=180,fps=15,pattern=ball",
)
MAIN, SUB = (640, 360), (320, 180)
TILE = (320, 180)


def sessions(server: RtspServer) -> int:
    """RTSP sessions open at the server now."""
    return int(server.command("clients").split()[1])


def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def view_size(rt: Runtime, name: str) -> tuple[int, int] | None:
    """The size of the newest frame in camera ``name``'s view ring."""
    ring_name = rt.ring_name(name)
    if ring_name is None:
        return None
    ring = FrameRing.attach(ring_name)
    try:
        info = ring.latest_info()
        return None if info is None else (info.width, info.height)
    finally:
        ring.close()


def detect_sizes(events: Collector, after: int = 0) -> set[tuple[int, int]]:
    """The frame sizes of every detection result from event index ``after`` on."""
    return {(d["width"], d["height"]) for d in events.of_type("detections")[after:]}


def worker_processes(rt: Runtime) -> int:
    """This process's spawned worker processes other than the detection service's."""
    service = rt.detection_service
    skip = service.pid if service is not None else None
    count = 0
    for child in psutil.Process().children(recursive=True):
        try:
            spawned = "spawn_main" in " ".join(child.cmdline())
            alive = child.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            continue
        count += spawned and alive and child.pid != skip
    return count


def camera(server: RtspServer, **extra: Any) -> Camera:
    return Camera(
        name="gate",
        url=server.url("main"),
        substream_url=server.url("sub"),
        detect=True,
        **extra,
    )


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_substream_detection_stays_on_the_substream_while_the_view_is_enlarged(
    rtsp_server_factory: ServerFactory,
) -> None:
    """(a) grid → enlarged → grid: the detector sees 320×180 throughout; enlarged, a
    detect-only worker is the second connection; (c) detection off stops it."""
    server = rtsp_server_factory(MOUNTS)
    events = Collector()
    rt = Runtime(Config(detection=DetectionConfig(fps=5.0)), events, mode="process")
    try:
        rt.set_detector("motion")
        rt.add_camera(camera(server, detect_stream="substream"), start=False)
        assert rt.detect_stream("gate") == "sub"
        rt.set_view("gate", stream="sub", max_size=TILE)
        rt.start_camera("gate")
        # The grid: one connection (the substream) shows the tile and feeds detection.
        events.wait(lambda e: e.get("type") == "detections", timeout=60)
        assert rt.stream("gate") == "sub" and rt.detect_worker("gate") is None
        until(lambda: sessions(server) == 1, 20, "one RTSP session in the grid")
        assert rt.supervisor.cameras() == ["gate (sub)"]

        # Enlarged: the picture switches to the main stream, detection stays on the substream.
        mark = len(events.of_type("detections"))
        rt.set_view("gate", stream="main", max_size=None, focused=True)
        until(lambda: view_size(rt, "gate") == MAIN, 60, "the enlarged tile shows 640×360")
        assert rt.stream("gate") == "main"
        extra = rt.detect_worker("gate")
        assert extra is not None
        until(lambda: sessions(server) == 2, 20, "main + the detect-only substream")
        assert sorted(rt.supervisor.cameras()) == sorted(["gate", extra])
        events.wait(lambda e: e.get("type") == "detections", timeout=30, after=len(events))
        # Its decode is detection's cost; the main stream makes no detect frames.
        until(
            lambda: (s := rt.detect_capture_stats("gate")) is not None and s.fps_detect > 0,
            30,
            "stats of the detect-only worker",
        )
        cost = rt.detect_capture_stats("gate")
        assert cost is not None and cost.detect_ms > 0 and (cost.width, cost.height) == SUB
        shown = events.wait_type("stats", 30, after=len(events), camera="gate")
        assert shown["width"] == 640 and shown["detect_ms"] == 0.0
        # The faces never hear of the detect-only worker.
        assert all(e.get("camera") in (None, "gate") for e in events.items)

        # Changing one's mind at once (grid and straight back to enlarged): the detect-only
        # worker is asked to paint, then not; it stays, nothing reconnects.
        rt.set_view("gate", stream="sub", max_size=TILE, focused=False)
        rt.set_view("gate", stream="main", max_size=None, focused=True)
        assert rt.detect_worker("gate") == extra and rt.stream("gate") == "main"
        assert sorted(rt.supervisor.cameras()) == sorted(["gate", extra])

        # Back to the grid: the detect-only worker paints again and is the tile's (no new
        # connection); the main stream's worker stops.
        rt.set_view("gate", stream="sub", max_size=TILE, focused=False)
        until(lambda: rt.stream("gate") == "sub", 60, "back on the substream")
        assert rt.detect_worker("gate") is None
        until(lambda: rt.supervisor.cameras() == [extra], 10, "the former detect-only worker")
        until(lambda: sessions(server) == 1, 20, "one RTSP session in the grid again")
        until(lambda: view_size(rt, "gate") == TILE, 20, "the tile's picture")
        later = len(events.of_type("detections"))
        events.wait(lambda e: e.get("type") == "detections", timeout=30, after=len(events))
        assert detect_sizes(events, later) == {SUB}
        assert detect_sizes(events, mark) == {SUB}
        assert detect_sizes(events) == {SUB}

        # (c) Enlarged again, then detection off: the detect-only worker stops, no process left.
        rt.set_view("gate", stream="main", max_size=None, focused=True)
        until(lambda: rt.detect_worker("gate") is not None, 60, "a detect-only worker")
        until(lambda: worker_processes(rt) == 2, 30, "two capture processes")
        until(lambda: sessions(server) == 2, 20, "two RTSP sessions")
        rt.set_detection("gate", False)
        assert rt.detect_worker("gate") is None
        until(lambda: worker_processes(rt) == 1, 30, "one capture process")
        until(lambda: rt.detection_service is None, 10, "no detection service")
        until(lambda: sessions(server) == 1, 20, "one RTSP session")
        assert rt.supervisor.cameras() == ["gate"] and rt.stream("gate") == "main"
    finally:
        assert rt.close(timeout=20)


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_main_stream_detection_keeps_one_connection_on_the_main_stream(
    rtsp_server_factory: ServerFactory,
) -> None:
    """(b) A grid tile would like the substream, detection reads the main stream: the camera
    is captured once, on its main stream; the tile gets a scaled copy of the same decode."""
    server = rtsp_server_factory(MOUNTS)
    events = Collector()
    rt = Runtime(Config(detection=DetectionConfig(fps=5.0)), events, mode="thread")
    try:
        rt.set_detector("motion")
        rt.add_camera(camera(server, detect_stream="main"), start=False)
        rt.set_view("gate", stream="sub", max_size=TILE)
        rt.start_camera("gate")
        events.wait(lambda e: e.get("type") == "detections", timeout=60)
        until(lambda: view_size(rt, "gate") == TILE, 30, "a tile-sized view")
        until(lambda: sessions(server) == 1, 20, "one RTSP session")
        assert rt.stream("gate") == "main" and rt.supervisor.cameras() == ["gate"]
        assert rt.detect_worker("gate") is None
        # The one worker reports the detect output's own cost.
        stats = events.wait(
            lambda e: e.get("type") == "stats" and e.get("fps_detect", 0) > 0, timeout=30
        )
        assert stats["detect_ms"] > 0 and (stats["width"], stats["height"]) == TILE
        mark = len(events.of_type("detections"))
        events.wait(lambda e: e.get("type") == "detections", timeout=30, after=len(events))
        assert detect_sizes(events) == {MAIN} and detect_sizes(events, mark) == {MAIN}

        # Detection off: nothing holds the camera on its main stream; the tile's wish wins.
        rt.set_detection("gate", False)
        until(lambda: rt.stream("gate") == "sub", 60, "the substream once detection is off")
        until(lambda: sessions(server) == 1, 20, "one RTSP session, on the substream")
        until(lambda: rt.supervisor.cameras() == ["gate (sub)"], 10, "one worker")
    finally:
        assert rt.close(timeout=20)


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_recording_camera_detects_on_its_substream_and_headless_needs_one_connection(
    rtsp_server_factory: ServerFactory, tmp_path: Path
) -> None:
    """Nobody watching (headless): "auto" captures the substream once, for detection, even
    with masks. Recording moves the picture to the main stream; detection stays on the
    substream worker it already had; stopping the camera stops both."""
    server = rtsp_server_factory(MOUNTS)
    events = Collector()
    cfg = Config(
        detection=DetectionConfig(fps=5.0), recording=RecordingConfig(dir=tmp_path / "rec")
    )
    rt = Runtime(cfg, events, mode="thread")
    try:
        rt.set_detector("motion")
        corner = ((0.0, 0.0), (64.0, 0.0), (64.0, 36.0))
        rt.add_camera(camera(server, masks=(corner,)))
        events.wait(lambda e: e.get("type") == "detections", timeout=60)
        assert rt.stream("gate") == "sub" and rt.detect_stream("gate") == "sub"
        until(lambda: sessions(server) == 1, 20, "one RTSP session")

        rt.set_recording("gate", True)
        events.wait_type("recording", 60, camera="gate", event="segment_opened")
        assert rt.stream("gate") == "main"
        extra = rt.detect_worker("gate")
        assert extra == "gate (sub)"  # the worker that already fed detection, kept
        until(lambda: sessions(server) == 2, 20, "main (recording) + substream (detection)")
        mark = len(events.of_type("detections"))
        events.wait(lambda e: e.get("type") == "detections", timeout=30, after=len(events))
        assert detect_sizes(events) == {SUB} and detect_sizes(events, mark) == {SUB}
        # Only the main stream is recorded, under the camera's own name.
        assert {p.parent.parent.name for p in (tmp_path / "rec").rglob("*.mp4")} == {"gate"}

        rt.stop_camera("gate")
        until(lambda: rt.supervisor.cameras() == [], 20, "no worker")
        assert rt.detect_worker("gate") is None
        until(lambda: sessions(server) == 0, 20, "no RTSP session")
    finally:
        assert rt.close(timeout=20)


def test_auto_is_the_substream_when_there_is_one() -> None:
    both = Camera("a", "rtsp://10.0.0.2/main", substream_url="rtsp://10.0.0.2/sub")
    assert detect_stream(both) == "sub"
    assert detect_stream(Camera("b", "rtsp://10.0.0.2/main")) == "main"
    # Recording or masks keep the picture on the main stream; detection's choice is its own.
    assert detect_stream(Camera("c", both.url, both.substream_url, record=True)) == "sub"
    assert detect_stream(Camera("d", both.url, both.substream_url, detect_stream="main")) == "main"


def load_error(tmp_path: Path, table: str) -> str:
    file = tmp_path / "camwall.toml"
    file.write_text(f'version = 1\n[[camera]]\nname = "gate"\nurl = "rtsp://10.0.0.2/m"\n{table}')
    with pytest.raises(ConfigError) as info:
        config.load(file)
    return str(info.value)


def test_config_errors_name_the_key_and_the_fix(tmp_path: Path) -> None:
    """(d) An unknown value and "substream" without a substream are refused, clearly."""
    message = load_error(tmp_path, 'detect_stream = "sub"\n')
    assert "camera[0].detect_stream" in message
    assert '"auto", "main", "substream"' in message
    message = load_error(tmp_path, "detect_stream = 1\n")
    assert "camera[0].detect_stream" in message
    message = load_error(tmp_path, 'detect_stream = "substream"\n')
    assert "camera[0].detect_stream" in message and "needs a substream_url" in message
    # A Camera made in code gets the same check when it joins a runtime.
    rt = Runtime(Config())
    try:
        with pytest.raises(ConfigError, match="no substream_url"):
            rt.add_camera(Camera("x", "rtsp://10.0.0.2/m", detect_stream="substream"))
        assert rt.cameras() == []
    finally:
        assert rt.close()


def test_detect_stream_round_trips_through_the_document(tmp_path: Path) -> None:
    file = tmp_path / "camwall.toml"
    file.write_text("version = 1\n")
    doc = ConfigDocument.load(file)
    base = Camera("gate", "rtsp://10.0.0.2/m", substream_url="rtsp://10.0.0.2/s")
    doc.set_camera(dataclasses.replace(base, detect_stream="substream"))
    doc.set_camera(dataclasses.replace(base, name="yard"))
    doc.save()
    text = file.read_text()
    assert text.count("detect_stream") == 1 and 'detect_stream = "substream"' in text
    loaded = config.load(file)
    assert loaded.camera("gate").detect_stream == "substream"
    assert loaded.camera("yard").detect_stream == "auto"  # the default is left out
    # Case is forgiven, as for the other choices.
    file.write_text(text.replace('"substream"', '"Main"'))
    assert config.load(file).camera("gate").detect_stream == "main"
