"""Home Assistant MQTT discovery: what a camera looks like to Home Assistant.

Per camera: a ``camera`` entity showing the last snapshot, a ``binary_sensor`` per configured
label ("person detected"), and ``sensor`` entities for the frame rate and the capture state,
grouped into one device per camera under the node's device. An empty retained config
removes an entity (Home Assistant's rule), which is what :func:`removal` publishes.
"""

from __future__ import annotations

from camwall.config.names import safe_name
from camwall.mqtt.outgoing import Outgoing, dumps
from camwall.mqtt.settings import MqttSettings
from camwall.mqtt.topics import OFFLINE, ONLINE, Topics, camera_slug


def _object_id(topics: Topics, camera: str, suffix: str = "") -> str:
    base = f"camwall_{safe_name(topics.node)}_{camera_slug(camera)}"
    return f"{base}_{suffix}" if suffix else base


def _config_topic(settings: MqttSettings, component: str, object_id: str) -> str:
    return f"{settings.discovery_prefix}/{component}/{object_id}/config"


def entities(
    settings: MqttSettings, topics: Topics, camera: str
) -> list[tuple[str, dict[str, object]]]:
    """``(config topic, config)`` of every entity of ``camera``."""
    device_id = _object_id(topics, camera)
    common: dict[str, object] = {
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": {
            "identifiers": [device_id],
            "name": camera,
            "manufacturer": "camwall",
            "model": f"camera on node {topics.node}",
            "via_device": f"camwall_{safe_name(topics.node)}",
        },
        "origin": {"name": "camwall"},
    }
    out: list[tuple[str, dict[str, object]]] = [
        (
            _config_topic(settings, "camera", device_id),
            {
                **common,
                "name": None,  # the device's name: "Front door"
                "unique_id": device_id,
                "topic": topics.camera(camera, "snapshot"),
            },
        ),
        (
            _config_topic(settings, "sensor", _object_id(topics, camera, "fps")),
            {
                **common,
                "name": "fps",
                "unique_id": _object_id(topics, camera, "fps"),
                "state_topic": topics.camera(camera, "stats"),
                "value_template": "{{ value_json.fps_in }}",
                "unit_of_measurement": "fps",
                "state_class": "measurement",
            },
        ),
        (
            _config_topic(settings, "sensor", _object_id(topics, camera, "state")),
            {
                **common,
                "name": "state",
                "unique_id": _object_id(topics, camera, "state"),
                "state_topic": topics.camera(camera, "state"),
                "value_template": "{{ value_json.state }}",
            },
        ),
    ]
    for label in settings.labels:
        object_id = _object_id(topics, camera, safe_name(label))
        out.append(
            (
                _config_topic(settings, "binary_sensor", object_id),
                {
                    **common,
                    "name": f"{label} detected",
                    "unique_id": object_id,
                    "state_topic": topics.label(camera, label),
                    "payload_on": "ON",
                    "payload_off": "OFF",
                    "device_class": "occupancy",
                },
            )
        )
    return out


def node_entities(settings: MqttSettings, topics: Topics) -> list[Outgoing]:
    """The node's own device (the cameras' ``via_device``) with a "dropped events" sensor."""
    node_id = f"camwall_{safe_name(topics.node)}"
    config = {
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": {
            "identifiers": [node_id],
            "name": f"camwall {topics.node}",
            "manufacturer": "camwall",
        },
        "origin": {"name": "camwall"},
        "name": "dropped events",
        "unique_id": f"{node_id}_dropped",
        "state_topic": topics.info,
        "value_template": "{{ value_json.dropped }}",
        "entity_category": "diagnostic",
    }
    return [
        Outgoing(_config_topic(settings, "sensor", f"{node_id}_dropped"), dumps(config), 1, True)
    ]


def announce(settings: MqttSettings, topics: Topics, camera: str) -> list[Outgoing]:
    """Retained discovery configs of ``camera``'s entities."""
    return [
        Outgoing(topic, dumps(config), 1, True)
        for topic, config in entities(settings, topics, camera)
    ]


def removal(settings: MqttSettings, topics: Topics, camera: str) -> list[Outgoing]:
    """Empty retained configs: Home Assistant removes ``camera``'s entities."""
    return [Outgoing(topic, b"", 1, True) for topic, _ in entities(settings, topics, camera)]
