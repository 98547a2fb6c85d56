"""The topic tree: ``<prefix>/v1/<node>/...``; docs/mqtt.md has the table.

The schema version is both in the topic (``v1``) and in every JSON payload (``"schema": 1``):
a consumer subscribes to the version it understands, and a v2 node can publish beside a v1
node on one broker. Camera names become topic levels through
:func:`camwall.config.names.safe_name` ("Front door" → ``front_door``); payloads carry the
real name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from camwall.config.names import safe_name

SCHEMA = 1
VERSION_LEVEL = f"v{SCHEMA}"
ONLINE = "online"
OFFLINE = "offline"

#: Per-camera topic leaves, by what they carry.
CAMERA_LEAVES = (
    "state",
    "info",
    "stats",
    "event",
    "detections",
    "snapshot",
    "recording",
    "detect",
    "detect_stats",
)


@functools.lru_cache(maxsize=1024)
def camera_slug(name: str) -> str:
    """The topic level of camera ``name``."""
    return safe_name(name)


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic names of one node under ``prefix``."""

    prefix: str
    node: str

    @property
    def base(self) -> str:
        """``<prefix>/v1/<node>``."""
        return f"{self.prefix}/{VERSION_LEVEL}/{self.node}"

    @property
    def availability(self) -> str:
        """Retained ``online``/``offline``; ``offline`` is also the last will."""
        return f"{self.base}/availability"

    @property
    def info(self) -> str:
        """Retained JSON about the node: cameras, keepalive, dropped events."""
        return f"{self.base}/info"

    @property
    def heartbeat(self) -> str:
        """Every keepalive/2 s while connected: lets readers time out a silent node themselves."""
        return f"{self.base}/heartbeat"

    @property
    def command(self) -> str:
        """Commands in (JSON)."""
        return f"{self.base}/command"

    @property
    def response(self) -> str:
        """One JSON reply per command, accepted or refused."""
        return f"{self.base}/response"

    def node_leaf(self, leaf: str) -> str:
        """A node-wide topic (``log``, ``retention``, ``detect_worker``)."""
        return f"{self.base}/{leaf}"

    def camera(self, camera: str, leaf: str) -> str:
        """``<base>/camera/<slug>/<leaf>``."""
        return f"{self.base}/camera/{camera_slug(camera)}/{leaf}"

    def label(self, camera: str, label: str) -> str:
        """Retained ``ON``/``OFF``: is an object of ``label`` in view of ``camera``."""
        return f"{self.base}/camera/{camera_slug(camera)}/label/{safe_name(label)}"


def parse(prefix: str, topic: str) -> tuple[str, str | None, str] | None:
    """``(node, camera slug or None, leaf)`` of a topic under ``prefix``, or None.

    ``leaf`` is the rest of the topic after the node (``availability``) or after the camera
    (``state``, ``label/person``).
    """
    head = f"{prefix}/{VERSION_LEVEL}/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) < 2:
        return None
    node = parts[0]
    if parts[1] == "camera":
        if len(parts) < 4:
            return None
        return node, parts[2], "/".join(parts[3:])
    return node, None, "/".join(parts[1:])
