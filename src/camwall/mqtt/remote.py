"""RemoteNodes: what the camwall nodes on a broker say about themselves and their cameras.

A wall (or any program) builds one from the ``[mqtt]`` settings and a topic prefix; it finds
nodes by their retained ``availability`` (no list of nodes needed) and keeps, per node and
camera, the last state, stats, detections, track event, snapshot and the announced stream
URL (the camera or a relay such as MediaMTX/go2rtc)::

    nodes = RemoteNodes(settings, on_change=lambda change: ...)   # from the connection thread
    nodes.start()
    nodes.node("cellar").online; nodes.camera("cellar", "front_door").stream_url
    future = nodes.command("cellar", "Front door", "record", on=True)  # → the node's reply
    nodes.close()

A node is online while its retained availability says ``online``. When a node dies without
saying goodbye (SIGKILL, power, network), the broker publishes its last will ``offline``:
at once if the TCP connection breaks, else once it has heard nothing for 1.5 × the node's
keepalive. While this client itself has no connection to the broker, every node counts as
offline (``reason`` says why); the retained messages bring everything back on reconnect.
No Qt here: the wall adapts the ``on_change`` callback to its UI thread.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

from camwall.mqtt import topics as topic_names
from camwall.mqtt.connection import BrokerConnection
from camwall.mqtt.outgoing import dumps
from camwall.mqtt.settings import MqttSettings
from camwall.mqtt.topics import OFFLINE, ONLINE, SCHEMA, Topics

log = logging.getLogger(__name__)

ChangeKind = Literal["node", "camera", "event", "response"]


@dataclass
class NodeCamera:
    """The last of everything a node said about one camera."""

    node: str
    slug: str
    #: The camera's real name (from its ``info``; the slug until that arrives).
    name: str
    #: Where to pull the video: a relay URL or the camera's URL without credentials.
    stream_url: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    detect: dict[str, Any] | None = None
    detect_stats: dict[str, Any] | None = None
    detections: dict[str, Any] | None = None
    #: The last track event (``start``/``update``/``end``).
    last_event: dict[str, Any] | None = None
    #: Open tracks by id, from start/update until end.
    tracks: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The last recording event (segment opened/closed, failure).
    recording: dict[str, Any] | None = None
    #: The last zone event and the last event the camera reported itself (ONVIF).
    zone: dict[str, Any] | None = None
    camera_event: dict[str, Any] | None = None
    labels: dict[str, bool] = field(default_factory=dict)
    snapshot: bytes | None = None
    updated: float = 0.0

    @property
    def capture_state(self) -> str | None:
        """``streaming``, ``backoff``, … as the node last said, or None."""
        return None if self.state is None else self.state.get("state")

    @property
    def recording_on(self) -> bool:
        """The node records this camera (what was asked; ``recording`` says how it goes)."""
        return bool(self.info.get("recording"))

    @property
    def detecting_on(self) -> bool:
        """The node detects on this camera."""
        return bool(self.info.get("detecting"))


@dataclass
class NodeStatus:
    """One node: its availability, info and cameras."""

    name: str
    #: The node says it is online, and has been heard within 1.5 × its keepalive.
    online: bool = False
    #: Why the node counts as offline (its last will, silence, our broker connection).
    reason: str = ""
    #: What its retained availability says.
    available: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    cameras: dict[str, NodeCamera] = field(default_factory=dict)
    #: When ``online`` last changed (monotonic seconds).
    changed: float = field(default_factory=time.monotonic)
    #: When anything from the node last arrived (monotonic seconds).
    last_seen: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class Change:
    """What changed: a node (availability, info), a camera (a leaf), an event, a command reply."""

    kind: ChangeKind
    node: str
    camera: str | None = None
    leaf: str | None = None


class RemoteNodes:
    """Nodes under one broker and prefix; see the module docstring.

    ``on_change`` is called from the connection thread; keep it quick. The accessors return
    copies, safe to use from any thread.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        on_change: Callable[[Change], None] | None = None,
        client_id: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare; :meth:`start` connects and subscribes."""
        self.settings = settings
        self.prefix = settings.topic_prefix
        self._on_change = on_change
        self._lock = threading.Lock()
        self._nodes: dict[str, NodeStatus] = {}
        self._pending: dict[str, Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._id_prefix = uuid.uuid4().hex[:8]
        base = f"{self.prefix}/{topic_names.VERSION_LEVEL}/+"
        self.connection = BrokerConnection(
            settings,
            client_id or f"camwall-wall-{self._id_prefix}",
            name="mqtt-nodes",
            subscribe=(
                f"{base}/availability",
                f"{base}/info",
                f"{base}/response",
                f"{base}/camera/#",
            ),
            on_message=self._on_message,
            on_down=self._on_down,
            tick=self._expire,
            env=env,
        )

    def start(self) -> RemoteNodes:
        """Connect (in the background). Returns self."""
        self.connection.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Disconnect; pending command futures fail."""
        self.connection.close(timeout)
        with self._lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(ConnectionError("RemoteNodes closed before the node replied"))

    def nodes(self) -> dict[str, NodeStatus]:
        """A copy of every node seen, by name."""
        with self._lock:
            return copy.deepcopy(self._nodes)

    def node(self, name: str) -> NodeStatus | None:
        """A copy of node ``name``, or None."""
        with self._lock:
            node = self._nodes.get(name)
            return None if node is None else copy.deepcopy(node)

    def camera(self, node: str, camera: str) -> NodeCamera | None:
        """A copy of a node's camera, by its slug or name, or None."""
        with self._lock:
            entry = self._nodes.get(node)
            if entry is None:
                return None
            found = entry.cameras.get(camera) or next(
                (c for c in entry.cameras.values() if c.name == camera), None
            )
            return None if found is None else copy.deepcopy(found)

    def command(self, node: str, camera: str, command: str, **args: Any) -> Future[dict[str, Any]]:
        """Send a command; the future gives the node's reply (``ok``, ``error``, ``result``).

        The future never completes if the node does not answer (gone, or the broker refused
        our publish by ACL): wait on it with a timeout.
        """
        ident = f"{self._id_prefix}-{next(self._ids)}"
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            self._pending[ident] = future
        payload = dumps({"id": ident, "command": command, "camera": camera, **args})
        self.connection.client.publish(Topics(self.prefix, node).command, payload, qos=1)
        return future

    # -- connection thread ---------------------------------------------------------------------

    def _on_down(self) -> None:
        with self._lock:
            changed = [n for n in self._nodes.values() if n.online]
            for node in changed:
                node.online = False
                node.reason = f"no connection to the broker {self.connection.where}"
                node.changed = time.monotonic()
        for node in changed:
            self._notify(Change("node", node.name))

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        parsed = topic_names.parse(self.prefix, topic)
        if parsed is None:
            return
        node_name, slug, leaf = parsed
        if slug is not None or leaf == "heartbeat":
            self._touch(node_name)
        if slug is None:
            self._node_message(node_name, leaf, payload)
        else:
            self._camera_message(node_name, slug, leaf, payload)

    def _node_message(self, name: str, leaf: str, payload: bytes) -> None:
        if leaf == "response":
            self._response(name, payload)
            return
        if leaf not in ("availability", "info", "heartbeat"):
            return
        with self._lock:
            node = self._nodes.get(name)
            if node is None:
                if not payload:
                    return
                node = self._nodes[name] = NodeStatus(name)
            was_online = node.online
            if leaf == "availability":
                node.available = payload.decode("utf-8", "replace") == ONLINE
                if not node.available:
                    node.reason = "the node is offline (it stopped, or its last will)"
            elif leaf == "info":
                data = _json(payload)
                if data is not None:
                    node.info = data
            self._heard(node)
            online = node.online
        if online != was_online:
            log.info("node %s is %s", name, ONLINE if online else OFFLINE)
        if leaf != "heartbeat" or online != was_online:
            self._notify(Change("node", name, leaf=leaf))

    def _touch(self, name: str) -> None:
        """Node ``name`` was heard from (a camera message): it may be back from silence."""
        with self._lock:
            node = self._nodes.get(name)
            if node is None:
                return
            was_online = node.online
            self._heard(node)
            changed = node.online != was_online
        if changed:
            log.info("node %s is %s again", name, ONLINE)
            self._notify(Change("node", name))

    def _heard(self, node: NodeStatus) -> None:
        """Something from ``node`` arrived just now (lock held)."""
        node.last_seen = time.monotonic()
        online = node.available and self.connection.is_connected()
        if online != node.online:
            node.online = online
            node.changed = node.last_seen
            if online:
                node.reason = ""

    def _expire(self) -> None:
        """Connection thread: a node silent for 1.5 × its keepalive counts as offline.

        Not while messages wait unread in our own socket: in a busy process (a wall decoding
        many cameras) this thread may lag behind the broker, and a heartbeat still in the
        backlog is no silence. A node that really died is marked offline by its last will
        in that backlog, or by this check once the backlog is read.
        """
        now = time.monotonic()
        expired = []
        with self._lock:
            due = any(
                node.online
                and now - node.last_seen
                > float(node.info.get("keepalive") or self.settings.keepalive) * 1.5
                for node in self._nodes.values()
            )
        if not due or self.connection.backlog():
            return
        with self._lock:
            for node in self._nodes.values():
                keepalive = float(node.info.get("keepalive") or self.settings.keepalive)
                silent = now - node.last_seen
                if node.online and silent > keepalive * 1.5:
                    node.online = False
                    node.changed = now
                    node.reason = f"nothing heard from the node for {silent:.1f} s (keepalive {keepalive:g} s)"
                    expired.append(node.name)
        for name in expired:
            log.info("node %s is %s: silent for 1.5 × its keepalive", name, OFFLINE)
            self._notify(Change("node", name))

    def _camera_message(self, node_name: str, slug: str, leaf: str, payload: bytes) -> None:
        kind: ChangeKind = "camera"
        with self._lock:
            node = self._nodes.setdefault(node_name, NodeStatus(node_name))
            camera = node.cameras.get(slug)
            if camera is None:
                if not payload:
                    return  # a cleared retained topic of a camera we never saw
                camera = node.cameras[slug] = NodeCamera(node_name, slug, slug)
            if leaf == "info" and not payload:
                # The node removed the camera (its retained topics were cleared).
                del node.cameras[slug]
            elif leaf == "snapshot":
                camera.snapshot = payload or None
            elif leaf.startswith("label/"):
                camera.labels[leaf[len("label/") :]] = payload == b"ON"
            else:
                data = _json(payload) if payload else None
                if payload and data is None:
                    return
                if leaf == "info" and data is not None:
                    camera.info = data
                    camera.name = str(data.get("camera", slug))
                    camera.stream_url = data.get("stream_url")
                elif leaf == "event" and data is not None:
                    camera.last_event = data
                    ident = str(data.get("id"))
                    if data.get("event") == "end":
                        camera.tracks.pop(ident, None)
                    else:
                        camera.tracks[ident] = data
                    kind = "event"
                elif leaf in (
                    "state",
                    "stats",
                    "detect",
                    "detect_stats",
                    "detections",
                    "recording",
                ):
                    setattr(camera, leaf, data)
                else:
                    return
            camera.updated = time.monotonic()
        self._notify(Change(kind, node_name, slug, leaf))

    def _response(self, node: str, payload: bytes) -> None:
        data = _json(payload)
        if data is None:
            return
        with self._lock:
            future = self._pending.pop(str(data.get("id")), None)
        if future is not None:
            future.set_result(data)
        self._notify(Change("response", node))

    def _notify(self, change: Change) -> None:
        if self._on_change is not None:
            self._on_change(change)


def _json(payload: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.debug("ignoring a payload that is not JSON")
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    return data
