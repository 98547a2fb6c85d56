"""``[mqtt]``: where the broker is, how to log in, what a node publishes and accepts.

Built from the TOML table with :meth:`MqttSettings.from_table`; unknown keys and wrong types
raise :class:`~camwall.errors.ConfigError` naming the key (``mqtt.keepalive``). The password
never lives in the file or in this object: ``password_env`` names an environment variable,
read by :meth:`MqttSettings.password` at the moment of connecting.
"""

from __future__ import annotations

import difflib
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from camwall.backoff import BackoffPolicy
from camwall.errors import ConfigError

#: Every command a node understands; ``commands`` in the table picks the allowed ones.
COMMANDS = ("record", "detect", "snapshot", "ptz_preset", "reconnect")
DEFAULT_PORT = 1883
DEFAULT_TLS_PORT = 8883

_KEYS = (
    "host",
    "port",
    "tls",
    "username",
    "password_env",
    "client_id",
    "topic_prefix",
    "node",
    "keepalive",
    "commands",
    "stats_interval",
    "queue_size",
    "reconnect_max",
    "discovery",
    "discovery_prefix",
    "labels",
    "relay_url",
)
_TLS_KEYS = ("ca_file", "certfile", "keyfile")
_TOPIC_FORBIDDEN = set("#+\0")

T = TypeVar("T")
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class TlsSettings:
    """``[mqtt.tls]``: verify the broker against ``ca_file``; log in with a client cert."""

    #: None: the system's trusted CAs.
    ca_file: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None


@dataclass(frozen=True)
class MqttSettings:
    """The ``[mqtt]`` table; see docs/mqtt.md for every key."""

    host: str = "localhost"
    #: None: 1883, or 8883 with TLS.
    port: int | None = None
    #: None: plain TCP.
    tls: TlsSettings | None = None
    username: str | None = None
    #: The environment variable holding the broker password.
    password_env: str | None = None
    #: None: ``camwall-<node>``.
    client_id: str | None = None
    topic_prefix: str = "camwall"
    #: The node's name in topics; None: the host name (``--node`` overrides both).
    node: str | None = None
    #: Seconds; the broker declares the node gone (last will) after 1.5 × this.
    keepalive: int = 30
    #: Commands accepted from the broker; nothing by default.
    commands: tuple[str, ...] = ()
    #: Seconds between stats messages per camera.
    stats_interval_s: float = 10.0
    #: Events kept while the broker is unreachable; the oldest are dropped beyond this.
    queue_size: int = 10_000
    #: Longest wait between reconnection attempts (seconds).
    reconnect_max_s: float = 30.0
    #: Publish Home Assistant discovery configs.
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    #: Labels that get a "<label> detected" binary sensor per camera.
    labels: tuple[str, ...] = ("person",)
    #: Where a wall pulls a camera's video, ``{camera}`` replaced by the camera's topic name
    #: (e.g. ``rtsp://relay.lan:8554/{camera}``); None: the camera's URL without credentials.
    relay_url: str | None = None
    #: Not part of the value: where it came from, for messages.
    source: str | None = field(default=None, compare=False)

    @property
    def effective_port(self) -> int:
        """The port to connect to."""
        if self.port is not None:
            return self.port
        return DEFAULT_TLS_PORT if self.tls is not None else DEFAULT_PORT

    def node_name(self, override: str | None = None) -> str:
        """The node's name: ``override`` (``--node``), else ``node``, else the host name."""
        name = override or self.node or socket.gethostname() or "camwall"
        check_topic_level(name, "node")
        return name

    def backoff(self) -> BackoffPolicy:
        """Reconnection delays: 0.5 s doubling up to ``reconnect_max_s``, with jitter."""
        return BackoffPolicy(
            initial_s=min(0.5, self.reconnect_max_s),
            max_s=self.reconnect_max_s,
            failed_s=self.reconnect_max_s,
        )

    def password(self, env: Mapping[str, str] | None = None) -> str | None:
        """The broker password from ``password_env``; ConfigError if the variable is unset."""
        if self.password_env is None:
            return None
        environ = os.environ if env is None else env
        try:
            return environ[self.password_env]
        except KeyError:
            raise ConfigError(
                f"environment variable {self.password_env} (the broker password) is not set",
                path=self.source,
                key="mqtt.password_env",
            ) from None

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, source: str | None = None) -> MqttSettings:
        """Validate the ``[mqtt]`` table; ConfigError naming the first wrong key."""
        reader = _Reader(table, "mqtt", source)
        reader.check_keys(_KEYS)
        tls_table = reader.get("tls", dict)
        tls = None
        if tls_table is not None:
            tls_reader = _Reader(tls_table, "mqtt.tls", source)
            tls_reader.check_keys(_TLS_KEYS)
            tls = TlsSettings(*(tls_reader.path(key) for key in _TLS_KEYS))
            if (tls.certfile is None) != (tls.keyfile is None):
                raise ConfigError(
                    "certfile and keyfile go together (a client certificate and its key)",
                    path=source,
                    key="mqtt.tls",
                )
        commands = tuple(reader.get("commands", list) or ())
        for i, command in enumerate(commands):
            if command not in COMMANDS:
                raise ConfigError(
                    f"unknown command {command!r}; known: {', '.join(COMMANDS)}",
                    path=source,
                    key=f"mqtt.commands[{i}]",
                )
        labels = reader.get("labels", list)
        for i, label in enumerate(labels or ()):
            if not isinstance(label, str) or not label:
                raise ConfigError("expected a label name", path=source, key=f"mqtt.labels[{i}]")
        prefix = reader.get("topic_prefix", str)
        if prefix is not None:
            for level in prefix.split("/"):
                check_topic_level(level, "mqtt.topic_prefix", source)
        node = reader.get("node", str)
        if node is not None:
            check_topic_level(node, "mqtt.node", source)
        defaults = cls()
        return cls(
            host=reader.get("host", str) or defaults.host,
            port=reader.number("port", int, 1, 65535),
            tls=tls,
            username=reader.get("username", str),
            password_env=reader.get("password_env", str),
            client_id=reader.get("client_id", str),
            topic_prefix=prefix or defaults.topic_prefix,
            node=node,
            keepalive=_or(reader.number("keepalive", int, 1, 65535), defaults.keepalive),
            commands=commands,
            stats_interval_s=_or(
                reader.number("stats_interval", float, 0.1, 86400.0), defaults.stats_interval_s
            ),
            queue_size=_or(reader.number("queue_size", int, 1, 10_000_000), defaults.queue_size),
            reconnect_max_s=_or(
                reader.number("reconnect_max", float, 0.1, 3600.0), defaults.reconnect_max_s
            ),
            discovery=_or(reader.get("discovery", bool), defaults.discovery),
            discovery_prefix=reader.get("discovery_prefix", str) or defaults.discovery_prefix,
            labels=defaults.labels if labels is None else tuple(labels),
            relay_url=reader.get("relay_url", str),
            source=source,
        )


def check_topic_level(value: str, key: str, source: str | None = None) -> None:
    """ConfigError unless ``value`` can be one MQTT topic level (no ``/``, ``+``, ``#``)."""
    if not value or "/" in value or _TOPIC_FORBIDDEN & set(value):
        raise ConfigError(
            f"{value!r} cannot be part of an MQTT topic: it must be non-empty and contain "
            "no '/', '+', '#'",
            path=source,
            key=key,
        )


def _or(value: T | None, default: T) -> T:
    return default if value is None else value


class _Reader:
    """Typed getters over one TOML table; errors name ``prefix.key``."""

    def __init__(self, table: Mapping[str, Any], prefix: str, source: str | None) -> None:
        if not isinstance(table, Mapping):
            raise ConfigError("expected a table", path=source, key=prefix)
        self.table = table
        self.prefix = prefix
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.source, key=f"{self.prefix}.{key}")

    def check_keys(self, known: tuple[str, ...]) -> None:
        for key in self.table:
            if key in known:
                continue
            if key in ("password", "pass", "passwd"):
                hint = (
                    "passwords do not go into the config file; put it in an environment "
                    'variable and set password_env = "VARIABLE_NAME"'
                )
            else:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known)
            raise self.fail(str(key), f"unknown key; {hint}")

    def get(self, key: str, kind: type[T]) -> T | None:
        value = self.table.get(key)
        if value is None:
            return None
        # bool is an int in Python, but `port = true` is a mistake.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.fail(key, f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    def number(self, key: str, kind: type[N], low: N, high: N) -> N | None:
        value = self.table.get(key)
        if value is None:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and kind is int and not isinstance(value, int):
            ok = False
        if not ok:
            raise self.fail(key, f"expected {'an integer' if kind is int else 'a number'}")
        if not low <= value <= high:
            raise self.fail(key, f"{value} is out of range ({low}…{high})")
        return kind(value)

    def path(self, key: str) -> Path | None:
        value = self.get(key, str)
        return None if value is None else Path(value).expanduser()
