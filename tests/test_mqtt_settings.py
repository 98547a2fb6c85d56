"""The [mqtt] table: defaults, every key, and errors that name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from camwall.errors import ConfigError
from camwall.mqtt.settings import MqttSettings, TlsSettings

FULL = """
[mqtt]
host = "broker.lan"
port = 8884
username = "cellar"
password_env = "CAMWALL_MQTT_PASSWORD"
client_id = "camwall-cellar-1"
topic_prefix = "site/camwall"
node = "cellar"
keepalive = 15
commands = ["record", "snapshot"]
stats_interval = 5
queue_size = 2000
reconnect_max = 10
discovery = false
discovery_prefix = "ha"
labels = ["person", "car"]
relay_url = "rtsp://relay.lan:8554/{camera}"

[mqtt.tls]
ca_file = "/etc/camwall/ca.crt"
certfile = "/etc/camwall/node.crt"
keyfile = "/etc/camwall/node.key"
"""


def test_every_key() -> None:
    s = MqttSettings.from_table(tomllib.loads(FULL)["mqtt"])
    assert s.host == "broker.lan" and s.effective_port == 8884
    assert s.tls == TlsSettings(
        Path("/etc/camwall/ca.crt"), Path("/etc/camwall/node.crt"), Path("/etc/camwall/node.key")
    )
    assert (s.username, s.password_env, s.client_id) == (
        "cellar",
        "CAMWALL_MQTT_PASSWORD",
        "camwall-cellar-1",
    )
    assert s.topic_prefix == "site/camwall" and s.node_name() == "cellar"
    assert s.node_name("override") == "override"
    assert s.keepalive == 15 and s.commands == ("record", "snapshot")
    assert s.stats_interval_s == 5.0 and s.queue_size == 2000 and s.reconnect_max_s == 10.0
    assert s.backoff().max_s == 10.0
    assert not s.discovery and s.discovery_prefix == "ha" and s.labels == ("person", "car")
    assert s.password({"CAMWALL_MQTT_PASSWORD": "pw"}) == "pw"


def test_defaults() -> None:
    s = MqttSettings.from_table({})
    assert s.effective_port == 1883 and s.tls is None and s.commands == ()
    assert MqttSettings.from_table({"tls": {}}).effective_port == 8883
    assert s.keepalive == 30 and s.labels == ("person",)


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"hots": "x"}, "mqtt.hots", "did you mean 'host'"),
        ({"password": "hunter2"}, "mqtt.password", "password_env"),
        ({"port": "1883"}, "mqtt.port", "integer"),
        ({"port": 70000}, "mqtt.port", "out of range"),
        ({"keepalive": True}, "mqtt.keepalive", "integer"),
        ({"commands": ["record", "format_disk"]}, "mqtt.commands[1]", "unknown command"),
        ({"topic_prefix": "camwall/#"}, "mqtt.topic_prefix", "MQTT topic"),
        ({"node": "a/b"}, "mqtt.node", "MQTT topic"),
        ({"tls": {"certfile": "c.crt"}}, "mqtt.tls", "go together"),
        ({"tls": {"cafile": "c.crt"}}, "mqtt.tls.cafile", "ca_file"),
        ({"labels": ["person", 3]}, "mqtt.labels[1]", "label"),
    ],
)
def test_errors_name_the_key(table: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        MqttSettings.from_table(table, source="/etc/camwall.toml")
    assert info.value.key == key
    assert words in str(info.value) and "/etc/camwall.toml" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_missing_password_variable_names_it() -> None:
    s = MqttSettings.from_table({"username": "u", "password_env": "NOPE_NOT_SET"})
    with pytest.raises(ConfigError, match="NOPE_NOT_SET"):
        s.password({})


def test_run_node_needs_an_mqtt_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_camwall_logging: None
) -> None:
    from camwall.cli import main

    config = tmp_path / "c.toml"
    config.write_text('version = 1\n[[camera]]\nname = "a"\nurl = "synthetic://a"\n')
    assert main(["run", "--headless", "--config", str(config), "--node", "x"]) == 2
    assert "--mqtt-config" in capsys.readouterr().err
    mqtt = tmp_path / "mqtt.toml"
    mqtt.write_text('[mqtt]\nhost = "127.0.0.1"\nkeepalive = "soon"\n')
    assert main(["run", "--headless", "--config", str(config), "--mqtt-config", str(mqtt)]) == 2
    err = capsys.readouterr().err
    assert "mqtt.keepalive" in err and str(mqtt) in err
    mqtt.write_text('host = "127.0.0.1"\n')
    assert main(["run", "--headless", "--config", str(config), "--mqtt-config", str(mqtt)]) == 2
    assert "no [mqtt] table" in capsys.readouterr().err
