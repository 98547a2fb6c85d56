"""``[wall] nodes`` with ``[mqtt]``: the remote nodes a wall shows, validated and round-tripped."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import camwall.config as config
from camwall.config import ConfigDocument, WallConfig
from camwall.errors import ConfigError

WALL = """\
version = 1

[wall]
grid = 9
# the cellar server and the garage box
nodes = ["cellar", "garage"]

[mqtt]
host = "broker.lan"   # the site's Mosquitto
username = "wall"
password_env = "WALL_MQTT_PASSWORD"
keepalive = 10

[mqtt.tls]
ca_file = "/etc/camwall/ca.crt"

[[camera]]
name = "Desk"
url = "synthetic://desk"
"""


def test_a_wall_config_with_nodes_loads() -> None:
    cfg = config.loads(WALL, check_env=False)
    assert cfg.wall.nodes == ("cellar", "garage")
    assert cfg.wall.wants_node("cellar") and not cfg.wall.wants_node("attic")
    assert cfg.mqtt is not None and cfg.mqtt.host == "broker.lan" and cfg.mqtt.keepalive == 10
    every = config.loads(WALL.replace('["cellar", "garage"]', '"*"'), check_env=False)
    assert every.wall.nodes == "*" and every.wall.wants_node("attic")
    # Without the key nothing changes: a wall of its own cameras only.
    plain = config.loads("version = 1\n", check_env=False)
    assert plain.wall.nodes == () and not plain.wall.wants_node("cellar")


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ('"cellar"', "wall.nodes: 'cellar' is not valid here; use a list of node names"),
        ("3", "wall.nodes: expected a list of node names"),
        ('["cellar", 4]', "wall.nodes[1]: expected a node name, got an integer"),
        ('["a/b"]', "wall.nodes[0]: 'a/b' is not a node name"),
        ('["#"]', "wall.nodes[0]: '#' is not a node name"),
        ('[""]', "wall.nodes[0]: '' is not a node name"),
        ('["x", "x"]', "wall.nodes[1]: 'x' is listed twice"),
    ],
)
def test_bad_nodes_are_refused_naming_the_key(nodes: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.loads(WALL.replace('["cellar", "garage"]', nodes), check_env=False)
    assert expected in str(err.value)
    assert "line 6" in str(err.value)  # the line of nodes =


def test_nodes_need_a_broker() -> None:
    with pytest.raises(ConfigError, match=r"wall\.nodes: remote nodes are found on an MQTT broker"):
        config.loads('version = 1\n[wall]\nnodes = "*"\n', check_env=False)


def test_dumps_round_trips_nodes_and_mqtt() -> None:
    cfg = config.loads(WALL, check_env=False)
    text = config.dumps(cfg)
    assert 'nodes = ["cellar", "garage"]' in text and "[mqtt.tls]" in text
    assert "password = " not in text
    assert config.loads(text, check_env=False) == cfg


def test_save_edits_nodes_in_place_keeping_comments(tmp_path: Path) -> None:
    file = tmp_path / "wall.toml"
    file.write_text(WALL)
    cfg = config.load(file, check_env=False)
    config.save(cfg)
    assert file.read_text() == WALL  # nothing changed: nothing rewritten
    every = dataclasses.replace(cfg, wall=dataclasses.replace(cfg.wall, nodes="*"))
    config.save(every)
    text = file.read_text()
    assert 'nodes = "*"' in text
    assert "# the cellar server and the garage box" in text
    assert 'host = "broker.lan"   # the site\'s Mosquitto' in text
    assert config.load(file, check_env=False) == every
    # Through a ConfigDocument as well; no nodes: the key goes.
    doc = ConfigDocument.load(file)
    doc.set_settings(dataclasses.replace(every, wall=WallConfig(grid=9)))
    doc.save()
    again = config.load(file, check_env=False)
    assert again.wall.nodes == () and again.mqtt == cfg.mqtt
    assert "nodes" not in file.read_text().split("[mqtt]")[0]


def test_the_walls_broker_may_come_from_mqtt_config(tmp_path: Path) -> None:
    """``camwall run --mqtt-config FILE`` (no --headless) gives the wall that file's broker."""
    import argparse

    from camwall.commands.run import run_wall

    broker = tmp_path / "broker.toml"
    broker.write_text('[mqtt]\nhost = "127.0.0.1"\nport = 1884\n')
    seen: list[object] = []

    def open_wall(cfg: config.Config, **_: object) -> int:
        seen.append(cfg.mqtt)
        return 0

    args = argparse.Namespace(open_wall=open_wall, seconds=0.0, mqtt_config=broker)
    assert (
        run_wall(config.loads('version = 1\n[wall]\nnodes = "*"\n[mqtt]\nhost = "x"\n'), args) == 0
    )
    assert getattr(seen[0], "port", None) == 1884 and getattr(seen[0], "host", None) == "127.0.0.1"
