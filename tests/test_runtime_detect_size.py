"""Detection sees what the camera sees: a fixed detect size from the same decode, zones.

Real parts: a capture worker process publishing a view ring at the tile's size and a
detect ring at the detect size from one decode, the detection worker process (motion
detector), the runtime routing zone events into its stream.
"""

from __future__ import annotations

import pytest

from camwall.config import Camera, Config, DetectionConfig
from camwall.detect.zones import Zone
from camwall.frames import FrameRing
from camwall.runtime import Runtime
from support.runtime_events import Collector

URL = "synthetic://yard?width=1280&height=720&fps=10"
EVERYWHERE = Zone("everywhere", ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)))


def view_size(rt: Runtime, name: str) -> tuple[int, int] | None:
    ring_name = rt.ring_name(name)
    if ring_name is None:
        return None
    ring = FrameRing.attach(ring_name)
    try:
        info = ring.latest_info()
        return None if info is None else (info.width, info.height)
    finally:
        ring.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_detections_do_not_depend_on_the_tile_size_and_zones_are_events() -> None:
    events = Collector()
    config = Config(detection=DetectionConfig(fps=5.0))
    rt = Runtime(config, events, mode="process")
    try:
        rt.set_detector("motion")
        camera = Camera(name="yard", url=URL, detect=True, zones=(EVERYWHERE,))
        rt.add_camera(camera, start=False)
        # A 16-tile wall: the tile is small, the worker publishes small view frames.
        rt.set_view("yard", max_size=(240, 136), visible=True)
        rt.start_camera("yard")
        events.wait(lambda _: view_size(rt, "yard") == (240, 134), timeout=30)
        small = events.wait(
            lambda e: e.get("type") == "detections" and bool(e.get("detections")), timeout=60
        )
        # A 1-tile wall: the same camera, full size on screen.
        rt.set_view("yard", max_size=(1280, 720), visible=True, focused=True)
        events.wait(lambda _: view_size(rt, "yard") == (1280, 720), timeout=30)
        mark = len(events.items)
        large = events.wait(
            lambda e: e.get("type") == "detections" and bool(e.get("detections")),
            timeout=60,
            after=mark,
        )
        # The detector saw 640×360 both times: results do not depend on the layout.
        assert (small["width"], small["height"]) == (640, 360)
        assert (large["width"], large["height"]) == (640, 360)
        # The zone around everything: the moving square's track entered it.
        zone = events.wait_type("zone", 30, camera="yard", kind="entered")
        assert zone["zone"] == "everywhere" and zone["label"] == "motion"
    finally:
        assert rt.close(timeout=20)
