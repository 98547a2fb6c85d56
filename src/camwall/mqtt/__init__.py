"""MQTT: a node's events out to a broker (and Home Assistant), commands in, other nodes seen.

No Qt here. Needs the ``mqtt`` extra (paho-mqtt 2.x); importing :mod:`camwall.mqtt.sink` or
:mod:`camwall.mqtt.remote` without it raises :class:`~camwall.errors.MissingExtraError`.
Topics and payloads: docs/mqtt.md.

- :class:`~camwall.mqtt.settings.MqttSettings` — the ``[mqtt]`` table.
- :class:`~camwall.mqtt.sink.MqttSink` — the runtime's events out, commands in.
- :class:`~camwall.mqtt.remote.RemoteNodes` — the nodes on a broker, their cameras' state.
"""

from __future__ import annotations

# Only the settings here: camwall.config may import them to read an [mqtt] table without
# pulling in anything else of this package (or paho).
from camwall.mqtt.settings import COMMANDS, MqttSettings, TlsSettings

__all__ = ["COMMANDS", "MqttSettings", "TlsSettings"]
