"""detect_when = "camera_motion": the model runs on a camera only while the camera itself
reports motion. Real parts: the ONVIF simulator's PullPoint events, a synthetic camera, the
detection worker process with a tiny constant ONNX model that always sees a person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camwall.config import loads
from camwall.control.onvif.events import CameraEvent, EventKind, EventsState, EventsStatus
from camwall.runtime import Runtime
from camwall.runtime.event_actions import MotionGate
from support.onnx_models import constant_model, letterbox_params, to_model_space, yolov8_output
from support.onvif_sim import OnvifSimulator
from support.runtime_events import Collector

W, H = 320, 240
PERSON = np.array([[100.0, 60.0, 180.0, 220.0]])


def motion(camera: str, active: bool, source: str = "vsc0") -> CameraEvent:
    return CameraEvent(
        camera, "tns1:VideoSource/MotionAlarm", EventKind.MOTION, active, {"Source": source}
    )


def test_motion_gate_counts_every_source_and_fails_open() -> None:
    gate = MotionGate()
    assert gate.motion("door")  # not heard yet: detection runs
    assert gate.update(EventsStatus("door", EventsState.SUBSCRIBED)) == "door"
    assert not gate.motion("door")
    assert gate.update(motion("door", True)) == "door"
    assert gate.update(motion("door", True, "vsc1")) is None
    assert gate.update(motion("door", False)) is None  # vsc1 still moves
    assert gate.update(motion("door", False, "vsc1")) == "door"
    tamper = CameraEvent("door", "tns1:VideoSource/Tamper", EventKind.TAMPER, True)
    assert gate.update(tamper) is None and not gate.motion("door")
    # The subscription is lost: nothing is known, so the model runs again.
    assert gate.update(EventsStatus("door", EventsState.RETRYING, "gone")) == "door"
    assert gate.motion("door")


def stats_after(events: Collector, mark: int, **fields: Any) -> dict[str, Any]:
    return events.wait_type("detect_stats", 30, after=mark, camera="door", **fields)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_model_runs_only_while_the_camera_reports_motion(
    tmp_path: Path, onvif_sim: OnvifSimulator
) -> None:
    r, left, top = letterbox_params(W, H)
    out = yolov8_output(to_model_space(PERSON, r, left, top), [0], [0.9])
    model = constant_model(tmp_path / "person.onnx", out)
    sim = onvif_sim
    cfg = loads(
        f"""
version = 1
[detection]
model = "{model}"
fps = 10
[[camera]]
name = "door"
url = "synthetic://door?width={W}&height={H}&fps=20"
detect = true
detect_when = "camera_motion"
[camera.onvif]
host = "{sim.host}"
port = {sim.port}
user = "{sim.config.user}"
password_env = "PW"
""",
        path=tmp_path / "camwall.toml",
        check_env=False,
    )
    events = Collector()
    rt = Runtime(cfg, events, mode="thread", env={"PW": sim.config.password}, stats_interval_s=1)
    try:
        rt.start()
        events.wait_type("camera_events_state", 30, camera="door", state="subscribed")
        events.wait_type("detect_worker", 60, state="ready")
        # No motion reported: the model is skipped; its run count stands still.
        first = events.wait(
            lambda i: i["type"] == "detect_stats" and i["camera"] == "door" and i["gated"] > 0, 30
        )
        later = stats_after(events, len(events))
        later = stats_after(events, len(events))
        assert later["frames"] == first["frames"] and later["gated"] > first["gated"]
        # Before the subscription the camera was unknown, so the model ran (fails open): a
        # track seen then has left since, through the skipped turns.
        for early in [t for t in events.of_type("track") if t["kind"] == "appeared"]:
            events.wait_type("track", 30, camera="door", kind="left", track_id=early["track_id"])

        mark = len(events)
        sim.events.emit("motion", True)
        appeared = events.wait_type("track", 30, after=mark, camera="door", kind="appeared")
        running = stats_after(events, len(events))
        assert running["frames"] > later["frames"] + 2

        mark = len(events)
        sim.events.emit("motion", False)
        # The person's track closes as the model stops seeing anything: tracks end cleanly.
        left = events.wait_type("track", 30, after=mark, camera="door", kind="left")
        assert left["track_id"] == appeared["track_id"]
        a = stats_after(events, len(events))
        b = stats_after(events, len(events))
        assert b["frames"] == a["frames"] and b["gated"] > a["gated"]
    finally:
        assert rt.close(timeout=15)
