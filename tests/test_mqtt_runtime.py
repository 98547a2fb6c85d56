"""The real Runtime behind an MqttSink: a synthetic camera's life seen through the broker,
and commands from RemoteNodes carried out by the runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from camwall.config import Camera, Config, loads
from camwall.mqtt.commands import as_target
from camwall.mqtt.remote import RemoteNodes
from camwall.mqtt.sink import MqttSink
from camwall.runtime import Runtime, RuntimeEvent
from fixtures.mosquitto import Broker
from support.mqtt_clients import env_for, settings_for, subscriber, wait_until
from support.onnx_models import constant_model, letterbox_params, to_model_space, yolov8_output

URL = "synthetic://door?width=320&height=180&fps=10"


@pytest.fixture
def wall(broker: Broker) -> Iterator[RemoteNodes]:
    nodes = RemoteNodes(settings_for(broker, "wall"), env=env_for("wall")).start()
    try:
        yield nodes
    finally:
        nodes.close()


@pytest.fixture
def node(broker: Broker) -> Iterator[tuple[MqttSink, Runtime]]:
    config = Config(cameras=(Camera("door", URL),))
    settings = settings_for(
        broker, "node", commands=("reconnect", "snapshot", "record", "detect"), stats_interval_s=0.5
    )
    sink = MqttSink(settings, node="box", urls={"door": URL}, env=env_for("node")).start()
    received: list[RuntimeEvent] = []

    def on_event(event: RuntimeEvent) -> None:
        received.append(event)
        sink.publish(event)

    runtime = Runtime(config, on_event, mode="thread", stats_interval_s=0.5)
    sink.attach(as_target(runtime))
    try:
        runtime.start()
        yield sink, runtime
    finally:
        assert runtime.close(timeout=10)
        sink.close()


def test_a_runtime_camera_seen_through_the_broker(
    node: tuple[MqttSink, Runtime], wall: RemoteNodes
) -> None:
    cam = wait_until(
        lambda: wall.camera("box", "door"),
        lambda c: c is not None and c.capture_state == "streaming" and c.stats is not None,
        timeout=30,
    )
    assert cam.stream_url == URL and cam.stats["fps_in"] > 0
    assert wall.node("box").online  # type: ignore[union-attr]


def test_commands_reach_the_real_runtime(node: tuple[MqttSink, Runtime], wall: RemoteNodes) -> None:
    _sink, runtime = node
    if as_target(runtime) is None:
        pytest.skip("camwall.runtime.Runtime has no command methods yet (issue 12)")
    wait_until(
        lambda: wall.camera("box", "door"),
        lambda c: c is not None and c.capture_state == "streaming",
        30,
    )
    reply = wall.command("box", "door", "snapshot").result(20)
    assert reply["ok"] is True, reply
    snap = wait_until(lambda: wall.camera("box", "door"), lambda c: c.snapshot is not None)
    assert snap.snapshot[:2] == b"\xff\xd8"
    reply = wall.command("box", "door", "reconnect").result(20)
    assert reply["ok"] is True, reply
    wait_until(lambda: wall.camera("box", "door"), lambda c: c.capture_state == "streaming", 30)
    reply = wall.command("box", "garage", "reconnect").result(20)
    assert reply["ok"] is False and "unknown camera" in reply["error"]


W, H = 320, 240
PERSON = np.array([[40, 30, 140, 200]], np.float64)


@pytest.fixture
def person_model(tmp_path: Path) -> Path:
    """An ONNX model that always sees one person at PERSON in a W×H frame."""
    r, left, top = letterbox_params(W, H)
    out = yolov8_output(to_model_space(PERSON, r, left, top), [0], [0.9])
    return constant_model(tmp_path / "person.onnx", out)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_a_detection_on_a_node_reaches_a_subscriber_and_the_wall(
    broker: Broker, wall: RemoteNodes, person_model: Path, tmp_path: Path
) -> None:
    """The real chain: capture → ring → detection worker → track → MqttSink → broker."""
    config = loads(
        f"""
version = 1
[detection]
model = "{person_model}"
fps = 5
[[camera]]
name = "lobby"
url = "synthetic://lobby?width={W}&height={H}&fps=20"
detect = true
""",
        path=tmp_path / "camwall.toml",
    )
    settings = settings_for(broker, "node")
    sink = MqttSink(settings, node="box", env=env_for("node")).start()
    base = "camwall/v1/box/camera/lobby"
    with subscriber(broker, "viewer", (f"{base}/#",)) as sub:
        runtime = Runtime(config, sink.publish, mode="thread", snapshot_dir=tmp_path / "snaps")
        try:
            runtime.start()
            start = sub.wait_topic(f"{base}/event", 90, event="start").json()
            assert start["label"] == "person" and start["has_snapshot"] is True
            assert len(start["box"]) == 4 and 0 < start["score"] <= 1
            snap = sub.wait(lambda m: m.topic == f"{base}/snapshot" and bool(m.payload), 30)
            assert snap.payload[:2] == b"\xff\xd8"
            sub.wait(lambda m: m.topic == f"{base}/label/person" and m.payload == b"ON", 30)
            # The wall's side: the open track and the live boxes for an overlay.
            cam = wait_until(
                lambda: wall.camera("box", "lobby"),
                lambda c: c is not None and c.tracks and c.detections is not None,
                timeout=30,
            )
            assert cam.detections["detections"][0]["label"] == "person"
            assert cam.detections["width"] == W and cam.detections["height"] == H
        finally:
            assert runtime.close(timeout=15)
            sink.close()
