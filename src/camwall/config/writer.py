"""Config → TOML text (:func:`dumps`), and :func:`save`, which edits a file in place.

:func:`dumps` is camwall's canonical layout for a new file; its output reads back with
``tomllib`` to an equal :class:`~camwall.config.model.Config`. :func:`save` goes through
:class:`~camwall.config.document.ConfigDocument` (tomlkit), so saving over a hand-written
file keeps its comments, order and formatting.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from camwall.config.model import Config, default_config_path
from camwall.errors import ConfigConflictError, ConfigError
from camwall.mqtt.settings import MqttSettings

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}

Value = str | bool | int | float | Path | Sequence["Value"]


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    """``key`` bare if TOML allows it, else quoted."""
    return key if key and set(key) <= _BARE_KEY_CHARS else toml_string(key)


def toml_value(value: Value) -> str:
    """One TOML value (inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} to a camwall config")
        # Whole numbers as integers: every number key reads ints and floats alike.
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, Path):
        return toml_string(str(value))
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def _pairs(pairs: Iterable[tuple[str, Value | None]]) -> list[str]:
    return [f"{toml_key(k)} = {toml_value(v)}" for k, v in pairs if v is not None]


def _mqtt_lines(mqtt: MqttSettings) -> list[str]:
    """The ``[mqtt]`` table: every key that differs from its default (no password, ever)."""
    default = MqttSettings()
    keys = [
        ("host", "host"),
        ("port", "port"),
        ("username", "username"),
        ("password_env", "password_env"),
        ("client_id", "client_id"),
        ("topic_prefix", "topic_prefix"),
        ("node", "node"),
        ("keepalive", "keepalive"),
        ("commands", "commands"),
        ("stats_interval", "stats_interval_s"),
        ("queue_size", "queue_size"),
        ("reconnect_max", "reconnect_max_s"),
        ("discovery", "discovery"),
        ("discovery_prefix", "discovery_prefix"),
        ("labels", "labels"),
        ("relay_url", "relay_url"),
    ]
    lines = ["[mqtt]"]
    lines += _pairs(
        (key, getattr(mqtt, attr))
        for key, attr in keys
        if getattr(mqtt, attr) != getattr(default, attr)
    )
    if mqtt.tls is not None:
        lines += ["", "[mqtt.tls]"]
        lines += _pairs(
            [
                ("ca_file", mqtt.tls.ca_file),
                ("certfile", mqtt.tls.certfile),
                ("keyfile", mqtt.tls.keyfile),
            ]
        )
    return lines


def dumps(config: Config) -> str:
    """``config`` as TOML text (password_env references kept; no resolved password)."""
    rec, det = config.recording, config.detection
    lines = ["# camwall configuration (see docs/config.md)"]
    lines += _pairs([("version", config.version), ("log_level", config.log_level)])
    wall = config.wall
    lines += ["", "[wall]", *_pairs([("grid", wall.grid)])]
    if not wall.decode_budget:
        lines += _pairs([("decode_budget", False)])
    if wall.nodes:
        lines += _pairs([("nodes", wall.nodes)])
    lines += ["", "[recording]"]
    lines += _pairs(
        [
            ("dir", rec.dir),
            ("segment_seconds", rec.segment_seconds),
            ("max_age_days", rec.max_age_days),
            ("max_total_gb", rec.max_total_gb),
        ]
    )
    lines += ["", "[detection]"]
    lines += _pairs(
        [
            ("model", det.model),
            ("labels", det.labels),
            ("fps", det.fps),
            ("threshold", det.threshold),
        ]
    )
    if det.thresholds:
        lines += ["", "[detection.thresholds]", *_pairs(sorted(det.thresholds.items()))]
    if config.mqtt is not None:
        lines += ["", *_mqtt_lines(config.mqtt)]
    text = "\n".join(lines) + "\n"
    if not config.cameras:
        return text
    from camwall.config.document import ConfigDocument

    # Cameras are written the one way ConfigDocument writes them (every key, zones too).
    doc = ConfigDocument(config.source or Path("camwall.toml"), text, None)
    for cam in config.cameras:
        doc.set_camera(cam, env={})
    return doc.text().rstrip("\n") + "\n"  # no blank lines after the last table


def save(config: Config, path: str | os.PathLike[str] | None = None) -> Path:
    """Make the file at ``path`` hold ``config``, editing it in place; return the file written.

    ``path`` defaults to the file the config came from, else the default location. An
    existing file keeps its comments, order, formatting and mode (see
    :class:`~camwall.config.document.ConfigDocument`); a new one is created 0600 with
    camwall's canonical layout. The settings are validated first (a bad one writes nothing);
    each camera is validated alone: the good ones are saved, and a ConfigError naming the bad
    ones is raised afterwards. ConfigConflictError if the file was edited on disk since this
    process last read or wrote it.
    """
    from camwall.config.atomic import real_target
    from camwall.config.document import ConfigDocument, known
    from camwall.config.parse import parse_text

    target = Path(path) if path is not None else (config.source or default_config_path())
    settings = dataclasses.replace(config, cameras=())
    parse_text(dumps(settings), path=target, check_env=False)
    seen = known(real_target(target))  # before loading it again, which updates it
    doc = ConfigDocument.load(target)
    if seen is not None and doc.stamp is not None and not doc.stamp.same_content(seen):
        raise ConfigConflictError(
            "changed on disk since camwall read it; not overwritten (load it again to see "
            "the edits, then save)",
            path=str(target),
        )
    if doc.stamp is None:
        doc = ConfigDocument(target, dumps(settings), None)
    doc.set_settings(config)
    names = {c.name for c in config.cameras}
    for name in doc.camera_names():
        if name not in names:
            doc.remove_camera(name)
    rejected: list[ConfigError] = []
    for camera in config.cameras:
        try:
            doc.set_camera(camera)
        except ConfigError as exc:
            rejected.append(exc)
    written = doc.save()
    if len(rejected) == 1:
        raise rejected[0]
    if rejected:
        lines = "\n".join(f"  {exc}" for exc in rejected)
        raise ConfigError(
            f"{len(rejected)} cameras were not saved (the others were):\n{lines}",
            path=str(target),
        )
    return written
