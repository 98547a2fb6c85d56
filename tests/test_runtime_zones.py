"""Runtime.set_zones: new zones count at once, and the camera's capture is not restarted.

Real parts: a capture thread on a synthetic camera, the detection worker process (motion
detector: the synthetic square moves), zone events in the runtime's stream.
"""

from __future__ import annotations

import pytest

from camwall.config import Camera, Config, DetectionConfig
from camwall.detect.zones import Zone
from camwall.errors import ConfigError
from camwall.runtime import Runtime
from support.runtime_events import Collector

URL = "synthetic://yard?width=640&height=360&fps=10"
#: The lower part of the frame, where the square moves; the top, where nothing does.
LOWER = Zone("lower", ((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)))
TOP = Zone("top", ((0.0, 0.0), (1.0, 0.0), (1.0, 0.3), (0.0, 0.3)))


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_set_zones_applies_at_once_without_restarting_capture() -> None:
    events = Collector()
    rt = Runtime(Config(detection=DetectionConfig(fps=5.0)), events, mode="thread")
    try:
        rt.set_detector("motion")
        rt.add_camera(Camera(name="yard", url=URL, detect=True, zones=(TOP,)))
        events.wait(lambda e: e.get("type") == "detections" and bool(e.get("detections")), 60)
        ring = rt.ring_name("yard")
        assert ring is not None
        streaming = len([e for e in events.of_type("state") if e.get("camera") == "yard"])
        assert streaming >= 1  # connecting, streaming

        mark = len(events)
        rt.set_zones("yard", (LOWER,))
        assert rt.camera("yard").zones == (LOWER,)
        assert rt.detection.zones("yard") == (LOWER,)
        entered = events.wait_type("zone", 60, after=mark, camera="yard", kind="entered")
        assert entered["zone"] == "lower"
        # Nothing moves in the top zone, and it is no longer watched anyway.
        assert all(e["zone"] != "top" for e in events.of_type("zone"))
        # The same capture all along: no new ring, no state change.
        assert rt.ring_name("yard") == ring
        assert len([e for e in events.of_type("state") if e.get("camera") == "yard"]) == streaming

        with pytest.raises(ConfigError, match="same name"):
            rt.set_zones("yard", (LOWER, LOWER))
        assert rt.camera("yard").zones == (LOWER,)
    finally:
        assert rt.close(timeout=20)
