"""The real Runtime behind an MqttSink: a synthetic camera's life seen through the broker,
and commands from RemoteNodes carried out by the runtime."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from camwall.config import Camera, Config
from camwall.mqtt.commands import as_target
from camwall.mqtt.remote import RemoteNodes
from camwall.mqtt.sink import MqttSink
from camwall.runtime import Runtime, RuntimeEvent
from fixtures.mosquitto import Broker
from support.mqtt_clients import env_for, settings_for, wait_until

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
