"""Glue for ``camwall run --headless --node NAME``: where the [mqtt] settings come from.

The ``[mqtt]`` table is read from ``--mqtt-config FILE`` (a TOML file with an ``[mqtt]``
table) or, once :class:`camwall.config.Config` carries one, from the main config's ``mqtt``
attribute (a table or :class:`MqttSettings`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from camwall.config import Config
from camwall.errors import ConfigError
from camwall.mqtt.settings import MqttSettings
from camwall.redact import redact


def load_settings(path: Path | None, config: Config | None = None) -> MqttSettings | None:
    """The [mqtt] settings of ``path`` (or of ``config``), or None when there are none."""
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {redact(str(exc))}", path=str(path)) from None
        table = data.get("mqtt")
        if table is None:
            raise ConfigError("no [mqtt] table", path=str(path), key="mqtt")
        return MqttSettings.from_table(table, source=str(path))
    table = getattr(config, "mqtt", None)
    if table is None or isinstance(table, MqttSettings):
        return table
    source = None if config is None or config.source is None else str(config.source)
    return MqttSettings.from_table(table, source=source)


def camera_urls(config: Config) -> dict[str, str]:
    """Camera name → the URL as written (credentials are stripped before announcing it)."""
    return {camera.name: camera.url for camera in config.cameras}
