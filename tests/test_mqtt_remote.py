"""RemoteNodes against a real broker and in-process nodes: discovery, removal, broker loss."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest

from camwall.capture.events import CameraState
from camwall.mqtt.remote import Change, RemoteNodes
from camwall.mqtt.sink import MqttSink
from fixtures.mosquitto import Broker
from support import mqtt_events as ev
from support.mqtt_clients import env_for, settings_for, wait_until
from support.tcpgate import TcpGate


@pytest.fixture
def node(broker: Broker) -> Iterator[MqttSink]:
    settings = settings_for(
        broker, "node", keepalive=2, reconnect_max_s=1.0, relay_url="rtsp://relay:8554/{camera}"
    )
    sink = MqttSink(settings, node="n1", env=env_for("node")).start()
    try:
        yield sink
    finally:
        sink.close()


@pytest.fixture
def remote(broker: Broker) -> Iterator[tuple[RemoteNodes, list[Change]]]:
    changes: list[Change] = []
    nodes = RemoteNodes(
        settings_for(broker, "wall", keepalive=2, reconnect_max_s=1.0),
        on_change=changes.append,
        env=env_for("wall"),
    ).start()
    try:
        assert nodes.connection.wait_connected(10)  # subscribed: live events reach it
        yield nodes, changes
    finally:
        nodes.close()


def test_nodes_cameras_tracks_and_removal(
    node: MqttSink, remote: tuple[RemoteNodes, list[Change]]
) -> None:
    nodes, changes = remote
    node.publish(ev.state("Front door", CameraState.STREAMING))
    node.publish(ev.changed("Front door", "updated", running=True, recording=True))
    node.publish(ev.stats("Front door", fps=12.5))
    node.publish(ev.track("Front door", "appeared", 4))
    cam = wait_until(
        lambda: nodes.camera("n1", "front_door"),
        lambda c: c is not None and c.stats is not None and c.tracks,
    )
    assert cam.name == "Front door" and cam.stream_url == "rtsp://relay:8554/front_door"
    assert cam.capture_state == "streaming" and cam.stats["fps_in"] == 12.5
    assert cam.recording_on and not cam.detecting_on
    assert cam.labels == {"person": True}
    assert list(cam.tracks) == ["n1/front_door/4"] and cam.last_event["event"] == "start"
    assert nodes.camera("n1", "Front door") is not None  # by name too
    node.publish(ev.track("Front door", "left", 4))
    wait_until(
        lambda: nodes.camera("n1", "front_door"), lambda c: not c.tracks and not c.labels["person"]
    )
    assert any(c.kind == "event" for c in changes)
    # Removed at run time: gone from RemoteNodes as well.
    node.publish(ev.changed("Front door", "removed"))
    wait_until(lambda: nodes.node("n1"), lambda n: n is not None and "front_door" not in n.cameras)


def test_broker_loss_marks_nodes_offline_and_retained_state_brings_them_back(
    broker: Broker, node: MqttSink, remote: tuple[RemoteNodes, list[Change]]
) -> None:
    nodes, _ = remote
    node.publish(ev.state("yard", CameraState.STREAMING, "before"))
    wait_until(
        lambda: nodes.node("n1"), lambda n: n is not None and n.online and "yard" in n.cameras
    )
    broker.stop()
    entry = wait_until(lambda: nodes.node("n1"), lambda n: not n.online)
    assert "no connection to the broker" in entry.reason
    node.publish(ev.state("yard", CameraState.BACKOFF, "while the broker was away"))
    broker.start()  # persistence off: the broker knows nothing until the node republishes
    cam = wait_until(
        lambda: nodes.camera("n1", "yard"),
        lambda c: c is not None and c.state["reason"] == "while the broker was away",
        timeout=20,
    )
    assert cam.capture_state == "backoff"
    assert wait_until(lambda: nodes.node("n1"), lambda n: n.online).online


def test_a_node_cut_off_silently_is_offline_within_one_and_a_half_keepalives(
    broker: Broker, remote: tuple[RemoteNodes, list[Change]]
) -> None:
    # No TCP close reaches the broker (a stalled gate, like a cut cable). The broker would
    # publish the last will only some seconds after 1.5 × keepalive (mosquitto checks
    # lazily); RemoteNodes times the node out on its own clock from the node's heartbeats.
    nodes, _ = remote
    keepalive = 2
    gate = TcpGate(broker.port)
    settings = dataclasses.replace(
        settings_for(broker, "node", keepalive=keepalive, reconnect_max_s=30.0), port=gate.port
    )
    sink = MqttSink(settings, node="cut", env=env_for("node")).start()
    try:
        wait_until(lambda: nodes.node("cut"), lambda n: n is not None and n.online)
        gate.set_mode("stall")
        cut = time.monotonic()
        entry = wait_until(lambda: nodes.node("cut"), lambda n: not n.online, timeout=keepalive * 3)
        took = time.monotonic() - cut
        assert took <= keepalive * 1.5 + 0.5, took  # + the expiry check's period
        assert "nothing heard from the node" in entry.reason
        # The broker's last will follows later and keeps it offline.
        entry = wait_until(
            lambda: nodes.node("cut"), lambda n: not n.available, timeout=keepalive * 6
        )
        assert not entry.online and "last will" in entry.reason
    finally:
        sink.close(timeout=2)
        gate.close()
