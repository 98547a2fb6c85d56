"""Remote tiles: one wall over camwall nodes on a real Mosquitto (camwall.ui.wall.remote_cameras).

Nodes are real: an MqttSink fed by a real Runtime in this process, an MqttSink fed runtime
events directly, or ``camwall run --headless --node`` child processes. The wall pulls each
remote camera's announced stream itself (synthetic cameras), paints it from a ring, and
shows what the node says over it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from camwall.capture.events import CameraState
from camwall.config import Camera, Config, RecordingConfig, loads
from camwall.mqtt.commands import as_target
from camwall.mqtt.sink import MqttSink
from camwall.runtime import Runtime
from fixtures.mosquitto import PASSWORDS, Broker
from support import mqtt_events as ev
from support.mqtt_clients import env_for, settings_for
from support.onnx_models import constant_model, letterbox_params, to_model_space, yolov8_output

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from camwall.ui.wall.main_window import CameraWall
    from camwall.ui.wall.remote_cameras import RemoteCameras

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

KEEPALIVE = 2
URL = "synthetic://door?width=160&height=90&fps=10"


@pytest.fixture
def follow(
    broker: Broker, make_wall: Callable[..., CameraWall]
) -> Callable[..., tuple[CameraWall, RemoteCameras]]:
    """``follow(nodes="*")``: a shown wall following ``nodes`` on the broker as user wall."""
    from camwall.ui.wall.remote_cameras import RemoteCameras

    def make(
        nodes: tuple[str, ...] | str = "*", wall: CameraWall | None = None
    ) -> tuple[CameraWall, RemoteCameras]:
        wall = wall or make_wall("thread", size=(900, 600))
        settings = settings_for(broker, "wall", keepalive=KEEPALIVE, reconnect_max_s=1.0)
        remote = RemoteCameras(wall, settings, nodes, env=env_for("wall")).start()  # type: ignore[arg-type]
        assert wall.remote is remote
        return wall, remote

    return make


@pytest.fixture
def event_node(broker: Broker) -> Iterator[MqttSink]:
    """Node ``n1``: an MqttSink the test feeds runtime events; its camera's URL is URL."""
    settings = settings_for(broker, "node", keepalive=KEEPALIVE, reconnect_max_s=1.0)
    sink = MqttSink(settings, node="n1", urls={"Front door": URL}, env=env_for("node")).start()
    try:
        yield sink
    finally:
        sink.close()


@pytest.fixture
def runtime_node(broker: Broker, tmp_path: Path) -> Iterator[tuple[MqttSink, Runtime]]:
    """Node ``box``: a real Runtime (threads) with camera ``door`` behind an MqttSink."""
    config = Config(
        recording=RecordingConfig(dir=tmp_path / "recordings"), cameras=(Camera("door", URL),)
    )
    settings = settings_for(
        broker, "node", keepalive=KEEPALIVE, commands=("record", "detect", "snapshot", "reconnect")
    )
    sink = MqttSink(settings, node="box", urls={"door": URL}, env=env_for("node")).start()
    runtime = Runtime(config, sink.publish, mode="thread", snapshot_dir=tmp_path / "snaps")
    sink.attach(as_target(runtime))
    try:
        runtime.start()
        yield sink, runtime
    finally:
        assert runtime.close(timeout=10)
        sink.close()


def _live(wall: CameraWall, name: str) -> bool:
    if name not in wall.camera_names():
        return False
    tile = wall.tile(name)
    return tile.state is CameraState.STREAMING and tile.shown_seq > 0


def test_a_nodes_camera_is_a_tile_with_the_nodes_boxes_and_state(
    qtbot: QtBot, event_node: MqttSink, follow: Callable[..., tuple[CameraWall, RemoteCameras]]
) -> None:
    wall, remote = follow(("n1",))
    event_node.publish(ev.state("Front door", CameraState.STREAMING))
    event_node.publish(ev.changed("Front door", "updated", running=True, detecting=True))
    event_node.publish(ev.stats("Front door", fps=12.5))
    name = "n1 / Front door"
    # The wall pulls the announced URL itself and paints it like any tile.
    qtbot.waitUntil(lambda: _live(wall, name), timeout=20000)
    tile = remote.tile(name)
    assert tile is wall.tile(name) and tile.title == name
    assert tile.detecting and "DETECTING" in tile.corner_badge()
    assert tile.node_online and tile.node_status == ""
    qtbot.waitUntil(lambda: "in 12.5 fps" in remote.stats_text(name), timeout=5000)
    assert remote.stats_text(name).startswith("node n1: streaming")
    # A detection on the node: its box on this tile, mapped from the node's frame size.
    event_node.publish(ev.detections("Front door", (480.0, 270.0, 960.0, 810.0)))
    overlay = remote.overlay(name)
    qtbot.waitUntil(lambda: overlay.drawn_boxes == 1, timeout=5000)
    assert overlay.result is not None and overlay.result.detections[0]["label"] == "person"
    assert (overlay.result.width, overlay.result.height) == (1920, 1080)
    # The wall's own detection does not run on a remote camera.
    assert not wall.runtime.detection.is_enabled(name)
    # The node's camera loses its stream: the tile says so (the picture may still come).
    event_node.publish(ev.state("Front door", CameraState.BACKOFF, "camera unreachable"))
    qtbot.waitUntil(lambda: tile.node_status.startswith("node: backoff"), timeout=5000)
    assert "camera unreachable" in tile.corner_badge()
    # The menu has no local-only entries.
    menu = tile.context_menu()
    visible = {a.objectName() for a in menu.actions() if a.isVisible()}
    assert {"recordAction", "detectAction", "reconnectAction"} <= visible
    assert not visible & {"editAction", "renameAction", "removeAction"}
    menu.deleteLater()
    # Removed on the node: the tile goes.
    event_node.publish(ev.changed("Front door", "removed"))
    qtbot.waitUntil(lambda: name not in wall.camera_names(), timeout=5000)
    assert name not in wall.runtime.cameras() and not remote.names()


def test_only_the_named_nodes_are_followed(
    qtbot: QtBot, event_node: MqttSink, follow: Callable[..., tuple[CameraWall, RemoteCameras]]
) -> None:
    wall, remote = follow(("cellar",))
    event_node.publish(ev.state("Front door", CameraState.STREAMING))
    qtbot.waitUntil(lambda: remote.nodes.camera("n1", "front_door") is not None, timeout=10000)
    qtbot.wait(200)  # nothing to wait for: the wall must simply not show n1's camera
    assert wall.camera_names() == [] and remote.names() == []


def test_a_record_command_from_a_remote_tile_reaches_the_node(
    qtbot: QtBot,
    runtime_node: tuple[MqttSink, Runtime],
    follow: Callable[..., tuple[CameraWall, RemoteCameras]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _sink, runtime = runtime_node
    wall, remote = follow()
    name = "box / door"
    qtbot.waitUntil(lambda: _live(wall, name), timeout=30000)
    tile = remote.tile(name)
    assert not tile.recording
    with qtbot.waitSignal(remote.command_finished, timeout=15000) as finished:
        tile.record_toggled.emit(name, True)  # the tile menu's "Record"
    assert finished.args is not None and finished.args[0] == name
    reply = finished.args[1]
    assert reply["ok"] is True and reply["command"] == "record", reply
    assert runtime.is_recording("door")  # the node records it …
    assert not wall.runtime.is_recording(name)  # … not the wall
    qtbot.waitUntil(lambda: tile.recording, timeout=10000)  # the badge follows the node
    shown = [n.text for n in wall.notifications.notices()]
    assert any("node box did record on" in text for text in shown), shown
    # Through the window's own path too (the control panel's record box calls it).
    with qtbot.waitSignal(remote.command_finished, timeout=15000):
        wall.set_recording(name, False)
    qtbot.waitUntil(lambda: not tile.recording, timeout=10000)
    assert not runtime.is_recording("door")
    # The tile menu's "Detect objects": the node detects, the tile's badge follows.
    with qtbot.waitSignal(remote.command_finished, timeout=15000) as finished:
        tile.detect_toggled.emit(name, True)
    assert finished.args is not None and finished.args[1]["ok"] is True
    assert runtime.detection.is_enabled("door") and not wall.runtime.detection.is_enabled(name)
    qtbot.waitUntil(lambda: tile.detecting, timeout=10000)
    assert "asked node box for record on" in caplog.text
    assert not any(p in caplog.text for p in PASSWORDS.values())


def test_a_refused_command_shows_the_nodes_reason(
    qtbot: QtBot, event_node: MqttSink, follow: Callable[..., tuple[CameraWall, RemoteCameras]]
) -> None:
    wall, remote = follow()
    event_node.publish(ev.state("Front door", CameraState.STREAMING))
    name = "n1 / Front door"
    qtbot.waitUntil(lambda: name in remote.names(), timeout=10000)
    with qtbot.waitSignal(remote.command_finished, timeout=15000) as finished:
        remote.snapshot(name)
    assert finished.args is not None and finished.args[1]["ok"] is False
    reason = finished.args[1]["error"]
    assert reason  # this node has no command target: it refuses everything, and says why
    shown = [n.text for n in wall.notifications.notices()]
    assert any("node n1 refused snapshot" in t and reason in t for t in shown), shown


def test_a_killed_node_says_offline_on_its_tiles_within_one_and_a_half_keepalives(
    qtbot: QtBot,
    tmp_path: Path,
    broker: Broker,
    follow: Callable[..., tuple[CameraWall, RemoteCameras]],
) -> None:
    from test_mqtt_nodes import Node

    wall, remote = follow(("doomed",))
    changes: list[tuple[str, bool]] = []
    remote.node_changed.connect(lambda node, online: changes.append((node, online)))
    node = Node(tmp_path, broker, "doomed", 2)
    try:
        names = ["doomed / doomed cam 0", "doomed / doomed cam 1"]
        qtbot.waitUntil(lambda: all(_live(wall, n) for n in names), timeout=60000)
        tiles = [remote.tile(n) for n in names]
        assert all(t.node_online for t in tiles)
        node.note_descendants()
        node.proc.kill()
        killed = time.monotonic()
        qtbot.waitUntil(lambda: not any(t.node_online for t in tiles), timeout=KEEPALIVE * 1500)
        took = time.monotonic() - killed
        assert took <= KEEPALIVE * 1.5, took
        for tile in tiles:
            assert tile.node_status.startswith("node offline: ")
            assert "NODE OFFLINE" in tile.corner_badge() or tile.node_status in tile.corner_badge()
        shown = [n.text for n in wall.notifications.notices()]
        assert any("Node doomed is offline" in t for t in shown), shown
        assert not any(p in t for p in PASSWORDS.values() for t in shown)
        # The node comes back (restarted by systemd, say): so do its tiles.
        node.kill()
        node = Node(tmp_path, broker, "doomed", 2)
        qtbot.waitUntil(lambda: all(t.node_status == "" for t in tiles), timeout=60000)
        # Told once each way; nothing when the node was first seen (the wall starting).
        assert changes == [("doomed", False), ("doomed", True)]
        assert all(t.node_online for t in tiles) and sorted(remote.names()) == names
        assert [remote.tile(n) for n in names] == tiles  # the same tiles, not new ones
    finally:
        node.kill()
        from camwall.frames.stale import reclaim_stale

        reclaim_stale()


W, H = 320, 240
PERSON = np.array([[40, 30, 140, 200]], np.float64)


@pytest.mark.timeout(180)
def test_a_detection_on_a_node_reaches_the_walls_overlay(
    qtbot: QtBot,
    broker: Broker,
    tmp_path: Path,
    follow: Callable[..., tuple[CameraWall, RemoteCameras]],
) -> None:
    """The real chain: node capture → detection worker → MqttSink → broker → remote tile."""
    r, left, top = letterbox_params(W, H)
    model = constant_model(
        tmp_path / "person.onnx", yolov8_output(to_model_space(PERSON, r, left, top), [0], [0.9])
    )
    config = loads(
        f"""
version = 1
[detection]
model = "{model}"
fps = 5
[[camera]]
name = "lobby"
url = "synthetic://lobby?width={W}&height={H}&fps=10"
detect = true
""",
        path=tmp_path / "camwall.toml",
    )
    url = config.cameras[0].url
    sink = MqttSink(
        settings_for(broker, "node", keepalive=KEEPALIVE),
        node="box",
        urls={"lobby": url},
        env=env_for("node"),
    ).start()
    runtime = Runtime(config, sink.publish, mode="thread")
    try:
        wall, remote = follow(("box",))
        runtime.start()
        name = "box / lobby"
        qtbot.waitUntil(lambda: _live(wall, name), timeout=60000)
        overlay = remote.overlay(name)
        qtbot.waitUntil(lambda: overlay.drawn_boxes >= 1, timeout=90000)
        assert overlay.result is not None
        det = overlay.result.detections[0]
        assert det["label"] == "person"
        assert (overlay.result.width, overlay.result.height) == (W, H)
        assert np.allclose(det["box"], PERSON[0], atol=4)
        assert remote.tile(name).detecting
        # The node's track reaches the wall's Events panel as a row of that tile's camera.
        qtbot.waitUntil(
            lambda: any("person · box / lobby" in r for r in wall.events_panel.rows()),
            timeout=60000,
        )
    finally:
        assert runtime.close(timeout=15)
        sink.close()


def test_run_wall_follows_the_configs_nodes(
    qtbot: QtBot,
    broker: Broker,
    event_node: MqttSink,
    make_wall: Callable[..., CameraWall],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from camwall.ui.wall.app import _follow_nodes

    text = f"""
version = 1
[wall]
nodes = ["n1"]
[mqtt]
host = "127.0.0.1"
port = {broker.port}
username = "wall"
password_env = "CAMWALL_TEST_WALL_PASSWORD"
keepalive = {KEEPALIVE}
"""
    wall = make_wall("thread")
    # Without the password in the environment: said on the wall, nothing else happens.
    monkeypatch.delenv("CAMWALL_TEST_WALL_PASSWORD", raising=False)
    _follow_nodes(wall, loads(text, check_env=False))
    assert wall.remote is None
    shown = [n.text for n in wall.notifications.notices()]
    assert any("CAMWALL_TEST_WALL_PASSWORD" in t and "not set" in t for t in shown), shown
    monkeypatch.setenv("CAMWALL_TEST_WALL_PASSWORD", PASSWORDS["wall"])
    _follow_nodes(wall, loads(text))
    assert wall.remote is not None
    event_node.publish(ev.state("Front door", CameraState.STREAMING))
    qtbot.waitUntil(lambda: _live(wall, "n1 / Front door"), timeout=20000)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_three_headless_nodes_of_four_cameras_and_one_wall_on_one_box(
    qtbot: QtBot,
    tmp_path: Path,
    broker: Broker,
    follow: Callable[..., tuple[CameraWall, RemoteCameras]],
) -> None:
    from camwall.frames.stale import reclaim_stale
    from test_mqtt_nodes import Node

    wall, remote = follow()  # "*": every node on the broker
    started = [Node(tmp_path, broker, f"node{i}", 4) for i in range(3)]
    try:
        names = [f"node{i} / node{i} cam {c}" for i in range(3) for c in range(4)]
        qtbot.waitUntil(lambda: all(_live(wall, n) for n in names), timeout=60000)
        assert sorted(remote.names()) == sorted(names)
        qtbot.waitUntil(lambda: all(remote.tile(n).node_online for n in names), timeout=10000)
        assert remote.stats_text("node1 / node1 cam 2").startswith("node node1: ")
        # A command from one tile reaches its node only (the nodes allow "reconnect").
        with qtbot.waitSignal(remote.command_finished, timeout=20000) as finished:
            remote.tile("node2 / node2 cam 0").reconnect_requested.emit("node2 / node2 cam 0")
        assert finished.args is not None
        reply = finished.args[1]
        assert reply["ok"] is True and reply["node"] == "node2", reply
        # One node stops cleanly: its four tiles say so, the others stay online.
        started[0].note_descendants()
        assert started[0].stop() == 0, started[0].stderr()[-3000:]
        gone = [n for n in names if n.startswith("node0 /")]
        qtbot.waitUntil(lambda: not any(remote.tile(n).node_online for n in gone), timeout=5000)
        others = [n for n in names if n not in gone]
        qtbot.waitUntil(lambda: all(remote.tile(n).node_online for n in others), timeout=10000)
    finally:
        for node in started:
            node.kill()
        reclaim_stale()


def test_a_remote_tile_takes_its_place_from_the_last_run(
    qtbot: QtBot,
    tmp_path: Path,
    event_node: MqttSink,
    make_wall: Callable[..., CameraWall],
    follow: Callable[..., tuple[CameraWall, RemoteCameras]],
) -> None:
    from qtpy.QtCore import QSettings

    from camwall.ui.wall.layout_state import LayoutStore

    wall = make_wall("thread")
    settings = QSettings(str(tmp_path / "wall.ini"), QSettings.Format.IniFormat)
    settings.setValue("wall/order", '["Desk", "n1 / Front door", "Yard"]')
    wall.layouts.store = LayoutStore(settings)
    for local in ("Desk", "Yard"):
        wall.add_camera(Camera(local, f"synthetic://{local.lower()}?width=160&height=90&fps=5"))
    _, remote = follow(wall=wall)
    event_node.publish(ev.state("Front door", CameraState.STREAMING))
    qtbot.waitUntil(lambda: "n1 / Front door" in remote.names(), timeout=10000)
    # Remote tiles come after the layout was restored, and still go where they were.
    assert wall.camera_names() == ["Desk", "n1 / Front door", "Yard"]
