"""Headless nodes (``camwall run --headless --node NAME``) seen by one RemoteNodes.

Real processes, a real broker, synthetic cameras: three nodes with four cameras each on one
box, and a node killed with SIGKILL whose last will marks it offline.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from camwall.frames.stale import reclaim_stale
from camwall.mqtt.remote import Change, RemoteNodes
from fixtures.mosquitto import PASSWORDS, Broker
from support.camwall_noqt import QT_IMPORTED_EXIT
from support.mqtt_clients import env_for, settings_for, wait_until

NOQT = Path(__file__).resolve().parent / "support" / "camwall_noqt.py"
KEEPALIVE = 2


class Node:
    """One ``camwall run --headless --node NAME`` child process."""

    def __init__(self, tmp_path: Path, broker: Broker, name: str, cameras: int) -> None:
        self.name = name
        config = tmp_path / f"{name}.toml"
        config.write_text(
            "version = 1\n"
            + "".join(
                f'[[camera]]\nname = "{name} cam {i}"\n'
                f'url = "synthetic://{name}-{i}?width=160&height=90&fps=5"\n'
                for i in range(cameras)
            )
        )
        mqtt = tmp_path / f"{name}-mqtt.toml"
        mqtt.write_text(
            f"""[mqtt]
host = "127.0.0.1"
port = {broker.port}
username = "node"
password_env = "CAMWALL_TEST_MQTT_PASSWORD"
keepalive = {KEEPALIVE}
reconnect_max = 1
stats_interval = 1
commands = ["reconnect"]
"""
        )
        self.stderr_path = tmp_path / f"{name}.stderr"
        self._stderr = self.stderr_path.open("w")
        env = {**env_for("node"), "CAMWALL_TEST_MQTT_PASSWORD": PASSWORDS["node"]}
        self.proc = subprocess.Popen(
            [sys.executable, str(NOQT), "--log-level", "DEBUG", "run", "--headless",
             "--config", str(config), "--mqtt-config", str(mqtt), "--node", name,
             "--stats-interval", "1", "--events", str(tmp_path / f"{name}.jsonl")],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env={**_environ(), **env},
        )  # fmt: skip
        self.descendants: set[int] = set()

    def note_descendants(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.descendants |= {
                p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)
            }

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.note_descendants()
            self.proc.kill()
            self.proc.wait(10)
        for pid in self.descendants:
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()
        self._stderr.close()


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


@pytest.fixture
def nodes(tmp_path: Path, broker: Broker) -> Iterator[Callable[[str, int], Node]]:
    started: list[Node] = []

    def start(name: str, cameras: int) -> Node:
        node = Node(tmp_path, broker, name, cameras)
        started.append(node)
        return node

    yield start
    for node in started:
        node.kill()
    # A SIGKILLed node could not unlink its rings: reclaim what dead owners left.
    reclaim_stale()


@pytest.fixture
def remote(broker: Broker) -> Iterator[tuple[RemoteNodes, list[Change]]]:
    changes: list[Change] = []
    wall = RemoteNodes(settings_for(broker, "wall"), on_change=changes.append, env=env_for("wall"))
    wall.start()
    try:
        assert wall.connection.wait_connected(10)
        yield wall, changes
    finally:
        wall.close()


def reporting(wall: RemoteNodes, node: str, cameras: int) -> bool:
    """The node is online and every one of its cameras has told its state and stats.

    (A headless node decodes nothing it need not: view-only cameras may stay paused, the wall
    pulls their video itself. Their state and stats still come.)
    """
    entry = wall.node(node)
    return (
        entry is not None
        and entry.online
        and len(entry.cameras) == cameras
        and all(c.state is not None and c.stats is not None for c in entry.cameras.values())
    )


@pytest.mark.slow
@pytest.mark.timeout(170)
def test_three_nodes_of_four_cameras_on_one_broker(
    nodes: Callable[[str, int], Node], remote: tuple[RemoteNodes, list[Change]]
) -> None:
    wall, _ = remote
    started = [nodes(f"node{i}", 4) for i in range(3)]
    for node in started:
        wait_until(lambda n=node: reporting(wall, n.name, 4), timeout=90)
    seen = wall.nodes()
    assert sorted(seen) == ["node0", "node1", "node2"]
    cam = seen["node1"].cameras["node1_cam_2"]
    assert cam.name == "node1 cam 2"
    assert cam.stream_url == "synthetic://node1-2?width=160&height=90&fps=5"
    assert cam.stats is not None and cam.stats["camera"] == "node1 cam 2"
    assert seen["node1"].info["cameras"] == [f"node1 cam {i}" for i in range(4)]
    # A command through the wall reaches the node and its runtime carries it out.
    reply = wall.command("node2", "node2 cam 0", "reconnect").result(20)
    assert reply["node"] == "node2" and reply["camera"] == "node2 cam 0"
    assert reply["ok"] is True, reply
    for node in started:
        node.note_descendants()
        assert node.stop() == 0, node.stderr()[-3000:]
    # A clean stop says goodbye: offline at once, the cameras' last state "stopped".
    for node in started:
        wait_until(lambda n=node: wall.node(n.name), lambda e: e is not None and not e.online)
    final = wall.camera("node0", "node0_cam_0")
    assert final is not None and final.capture_state == "stopped"
    for node in started:
        text = node.stderr()
        assert not any(secret in text for secret in PASSWORDS.values())
        assert node.proc.returncode != QT_IMPORTED_EXIT


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_killed_node_is_offline_within_one_and_a_half_keepalives(
    nodes: Callable[[str, int], Node], remote: tuple[RemoteNodes, list[Change]]
) -> None:
    wall, changes = remote
    node = nodes("doomed", 1)
    wait_until(lambda: reporting(wall, "doomed", 1), timeout=60)
    node.note_descendants()
    node.proc.kill()
    killed = time.monotonic()
    wait_until(
        lambda: wall.node("doomed"),
        lambda e: e is not None and not e.online,
        timeout=KEEPALIVE * 1.5,
    )
    took = time.monotonic() - killed
    assert took <= KEEPALIVE * 1.5
    assert any(c.kind == "node" and c.node == "doomed" for c in changes)
    entry = wall.node("doomed")
    assert entry is not None and "offline" in entry.reason
