"""The runtime owns camera control: sessions, capabilities, presets and the camera's events.

Real parts: the ONVIF simulator over real HTTP/SOAP (with its PullPoint event service),
a synthetic camera for the picture, the runtime as headless and the wall use it.
"""

from __future__ import annotations

import json

import pytest

from camwall.config import Camera, Config, OnvifConfig
from camwall.errors import ControlError
from camwall.runtime import Runtime
from support.onvif_sim import OnvifSimulator
from support.runtime_events import Collector

URL = "synthetic://door?width=160&height=90&fps=5"


def door(sim: OnvifSimulator) -> Camera:
    return Camera(
        name="door",
        url=URL,
        onvif=OnvifConfig(host=sim.host, port=sim.port, user=sim.config.user, password_env="PW"),
    )


@pytest.mark.timeout(120)
def test_control_session_capabilities_and_camera_events_reach_every_face(
    onvif_sim: OnvifSimulator,
) -> None:
    events = Collector()
    env = {"PW": onvif_sim.config.password}
    rt = Runtime(Config(), events, mode="thread", env=env)
    try:
        rt.add_camera(door(onvif_sim))
        connected = events.wait_type("control", 30, camera="door", connected=True)
        assert "pan/tilt" in connected["summary"] and "presets" in connected["summary"]
        assert rt.control_session("door") is not None
        # The camera's own motion detector, through its PullPoint subscription.
        events.wait_type("camera_events_state", 30, camera="door", state="subscribed")
        onvif_sim.events.emit("motion", True)
        motion = events.wait_type("camera_event", 30, camera="door", active=True)
        assert motion["kind"] == "motion" and "Motion" in motion["topic"]
        json.dumps(motion)  # JSON lines carry it as it is
        # A PTZ preset through the runtime (what MQTT commands use).
        session = rt.control_session("door")
        assert session is not None
        token = session.set_preset("gate view").result(30)
        onvif_sim.clear_log()
        rt.goto_preset("door", token).result(30)
        assert onvif_sim.received("GotoPreset")
    finally:
        assert rt.close(timeout=15)


def test_a_camera_without_control_says_so() -> None:
    rt = Runtime(Config(), mode="thread")
    try:
        rt.add_camera(Camera(name="plain", url=URL))
        assert rt.control_session("plain") is None
        with pytest.raises(ControlError, match="no ONVIF control"):
            rt.goto_preset("plain", "1").result(5)
    finally:
        assert rt.close(timeout=15)
