"""MqttSink: the runtime's event stream out to an MQTT broker, and commands back in.

::

    sink = MqttSink(settings, node="cellar", urls={c.name: c.url for c in config.cameras})
    sink.start()
    runtime = Runtime(config, on_event=sink.publish)     # or a callback that also calls it
    sink.attach(runtime)                                 # commands (allow-listed) act on it
    ...
    runtime.close(); sink.close()                        # "offline", then disconnect

:meth:`MqttSink.publish` never blocks the runtime's thread: it translates the event
(:mod:`camwall.mqtt.translate`) and appends the messages to a bounded queue. One sender
thread hands them to paho while the broker is connected, with at most
:data:`MAX_INFLIGHT` QoS 1 messages unacknowledged. While the broker is unreachable the
queue fills; beyond ``queue_size`` the oldest messages are dropped and counted, and the
count is published (``log`` topic, ``info.dropped``) and logged once the broker is back.
After every (re)connection the node publishes ``online`` and every retained topic's current
value, so the broker's retained state is right even if retained messages were dropped.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from camwall.mqtt import discovery
from camwall.mqtt.commands import CommandDispatcher, CommandTarget
from camwall.mqtt.connection import BrokerConnection, mqtt
from camwall.mqtt.outgoing import Outgoing, dumps
from camwall.mqtt.settings import MqttSettings
from camwall.mqtt.topics import OFFLINE, ONLINE, SCHEMA, Topics
from camwall.mqtt.translate import EventTranslator
from camwall.runtime.events import RuntimeEvent

log = logging.getLogger(__name__)

#: QoS 1 messages handed to paho and not yet acknowledged by the broker, at most.
MAX_INFLIGHT = 100


class MqttSink:
    """Publishes runtime events to a broker; see the module docstring."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        node: str | None = None,
        urls: Mapping[str, str] | None = None,
        target: CommandTarget | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare (reads the broker password from ``env``/``os.environ``); :meth:`start` connects."""
        self.settings = settings
        self.node = settings.node_name(node)
        self.topics = Topics(settings.topic_prefix, self.node)
        self._translator = EventTranslator(settings, self.topics, urls=urls)
        self._dispatcher = CommandDispatcher(
            target, settings.commands, self._reply, on_snapshot=self._snapshot_taken
        )
        self._cond = threading.Condition()
        self._pending: collections.deque[Outgoing] = collections.deque()
        #: The current value of every retained topic we published (b"" clears one).
        self._retained: dict[str, Outgoing] = {}
        #: mid → QoS of messages paho holds and has not reported done.
        self._inflight: dict[int, int] = {}
        self._acked: set[int] = set()
        self._ready = False
        self._closing = False
        self._dropped_unreported = 0
        self.dropped = 0
        self.delivered = 0
        self.sent = 0
        self._started_at = time.time()
        self._camera_names: tuple[str, ...] = ()
        self._sender: threading.Thread | None = None
        self.connection = BrokerConnection(
            settings,
            settings.client_id or f"camwall-{self.node}",
            name=f"mqtt-{self.node}",
            subscribe=(self.topics.command,),
            will=(self.topics.availability, OFFLINE.encode()),
            on_ready=self._on_ready,
            on_message=self._on_message,
            on_down=self._on_down,
            tick=self._heartbeat,
            env=env,
        )
        self._next_heartbeat = 0.0
        self.connection.client.on_publish = self._on_publish
        if settings.discovery:
            # Republished with the rest of the retained state at every connection.
            for message in discovery.node_entities(settings, self.topics):
                self._retained[message.topic] = message

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> MqttSink:
        """Start the sender and connection threads (returns at once). Returns self."""
        if self._sender is not None:
            raise RuntimeError("MqttSink already started")
        self._sender = threading.Thread(
            target=self._send_loop, name=f"camwall-mqtt-send-{self.node}", daemon=True
        )
        self._sender.start()
        self.connection.start()
        return self

    def attach(self, target: CommandTarget | None) -> None:
        """Run commands against ``target`` from now on (None: refuse them)."""
        self._dispatcher.target = target

    def publish(self, event: RuntimeEvent) -> None:
        """Queue what ``event`` turns into; never blocks (the runtime's callback)."""
        with self._cond:
            if self._closing and self._sender is None:
                return
            for message in self._translator.translate(event):
                self._enqueue(message)
            self._note_cameras()

    __call__ = publish

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything queued is sent and acknowledged; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    @property
    def queued(self) -> int:
        """Messages waiting for the broker."""
        with self._cond:
            return len(self._pending)

    @property
    def refused_commands(self) -> int:
        """Commands refused so far."""
        return self._dispatcher.refused

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued while connected (up to ``timeout``), say ``offline``, disconnect."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.join(max(0.1, deadline - time.monotonic()))
        if self.connection.is_connected():
            info = self.connection.client.publish(
                self.topics.availability, OFFLINE, qos=1, retain=True
            )
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                info.wait_for_publish(max(0.1, min(2.0, deadline - time.monotonic())))
        self.connection.close(max(0.5, deadline - time.monotonic()))
        with self._cond:
            left = len(self._pending)
        if left or self.dropped:
            log.warning(
                "mqtt: %d message(s) not delivered at exit, %d dropped while the broker was unreachable",
                left,
                self.dropped,
            )

    # -- queue ------------------------------------------------------------------------------

    def _enqueue(self, message: Outgoing) -> None:
        """Append (lock held); drop the oldest beyond ``queue_size``."""
        if message.retain and message.topic != self.topics.info:
            # (The node info is made afresh at each connection, with the current counts.)
            self._retained[message.topic] = message
        if len(self._pending) >= self.settings.queue_size:
            self._pending.popleft()
            self.dropped += 1
            self._dropped_unreported += 1
        self._pending.append(message)
        self._cond.notify_all()

    def _note_cameras(self) -> None:
        names = tuple(self._translator.cameras())
        if names != self._camera_names:
            self._camera_names = names
            self._enqueue(self._node_info())

    def _node_info(self) -> Outgoing:
        from camwall import __version__

        return Outgoing(
            self.topics.info,
            dumps(
                {
                    "schema": SCHEMA,
                    "node": self.node,
                    "version": __version__,
                    "keepalive": self.settings.keepalive,
                    "cameras": list(self._camera_names),
                    "commands": list(self.settings.commands),
                    "queue_size": self.settings.queue_size,
                    "dropped": self.dropped,
                    "started": round(self._started_at, 3),
                }
            ),
            1,
            True,
        )

    def _send_loop(self) -> None:
        while True:
            with self._cond:
                while not self._can_send() and not (
                    self._closing and not self._pending_deliverable()
                ):
                    self._cond.wait()
                if not self._can_send():
                    return  # closing, and nothing more can go out
                message = self._pending.popleft()
            self._send(message)

    def _pending_deliverable(self) -> bool:
        return bool(self._pending) and self._ready

    def _can_send(self) -> bool:
        return bool(self._pending) and self._ready and len(self._inflight) < MAX_INFLIGHT

    def _send(self, message: Outgoing) -> None:
        """Hand one message to paho (sender thread, lock not held)."""
        payload = message.payload
        if isinstance(payload, Path):
            try:
                payload = payload.read_bytes()
            except OSError as exc:
                log.warning("mqtt: cannot read snapshot %s: %s", payload, exc.strerror or exc)
                return
        info = self.connection.client.publish(
            message.topic, payload, qos=message.qos, retain=message.retain
        )
        with self._cond:
            self.sent += 1
            self._register(info, message.qos)

    def _register(self, info: mqtt.MQTTMessageInfo, qos: int) -> None:
        """Count a message handed to paho as in flight until paho reports it done (lock held).

        paho calls ``on_publish`` exactly once per message it keeps: when a QoS 0 message is
        written, when a QoS 1 message is acknowledged (after resending it on a new connection
        if need be). That call can come before ``publish()`` has returned here, so it may
        find the mid not yet registered: it leaves it in ``_acked`` for us.
        """
        if qos == 0 and info.rc != mqtt.MQTT_ERR_SUCCESS:
            return  # not connected: paho did not keep it
        if info.mid in self._acked:
            self._acked.discard(info.mid)
            self.delivered += 1
        else:
            self._inflight[info.mid] = qos

    # -- connection callbacks (connection thread) ------------------------------------------------

    def _on_ready(self) -> None:
        client = self.connection.client
        notes: list[Outgoing] = []
        with self._cond:
            if self._dropped_unreported:
                count, self._dropped_unreported = self._dropped_unreported, 0
                log.warning(
                    "mqtt: %d message(s) were dropped while %s was unreachable (queue_size %d)",
                    count,
                    self.connection.where,
                    self.settings.queue_size,
                )
                notes.append(
                    Outgoing(
                        self.topics.node_leaf("log"),
                        dumps(
                            {
                                "schema": SCHEMA,
                                "node": self.node,
                                "type": "dropped",
                                "time": round(time.time(), 3),
                                "camera": None,
                                "events": count,
                                "reason": "the broker was unreachable and the queue was full",
                            }
                        ),
                    )
                )
            # The node info sent now is the newest; older ones still queued would undo it.
            self._pending = collections.deque(
                m for m in self._pending if m.topic != self.topics.info
            )
            retained = [self._node_info(), *self._retained.values()]
        infos = [client.publish(self.topics.availability, ONLINE, qos=1, retain=True)]
        for message in [*retained, *notes]:
            payload = message.payload
            if isinstance(payload, Path):
                try:
                    payload = payload.read_bytes()
                except OSError:
                    continue
            infos.append(client.publish(message.topic, payload, qos=1, retain=message.retain))
        with self._cond:
            for info in infos:
                self._register(info, 1)
            self._ready = True
            self._cond.notify_all()

    def _heartbeat(self) -> None:
        """Connection thread, about every LOOP_S: a small QoS 0 message every keepalive/2 s.

        The broker's last will covers a node that dies; but a broker notices a silent node
        only some seconds after 1.5 × keepalive, and a reader may itself have missed the
        will. Heartbeats let :class:`~camwall.mqtt.remote.RemoteNodes` time a node out on
        its own clock.
        """
        now = time.monotonic()
        if now < self._next_heartbeat or not self._ready:
            return
        self._next_heartbeat = now + self.settings.keepalive / 2
        payload = dumps({"schema": SCHEMA, "node": self.node, "time": round(time.time(), 3)})
        info = self.connection.client.publish(self.topics.heartbeat, payload, qos=0)
        with self._cond:
            self._register(info, 0)

    def _on_down(self) -> None:
        with self._cond:
            self._ready = False
            # paho forgets unsent QoS 0 messages with the connection (QoS 1 ones it resends).
            for mid in [m for m, qos in self._inflight.items() if qos == 0]:
                del self._inflight[mid]
            self._cond.notify_all()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self._cond:
            if self._inflight.pop(mid, None) is not None:
                self.delivered += 1
            else:
                self._acked.add(mid)
            self._cond.notify_all()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic != self.topics.command:
            return
        if retained:
            # A retained command would run again at every reconnect: never act on one.
            log.warning("mqtt: ignoring a retained command on %s", topic)
            return
        self._dispatcher.handle(payload)

    # -- command replies (any thread) -------------------------------------------------------------

    def _reply(self, data: dict[str, Any]) -> None:
        reply = {"schema": SCHEMA, "node": self.node, "time": round(time.time(), 3), **data}
        with self._cond:
            self._enqueue(Outgoing(self.topics.response, dumps(reply)))

    def _snapshot_taken(self, camera: str, path: Path) -> None:
        with self._cond:
            for message in self._translator.snapshot(camera, path):
                self._enqueue(message)
