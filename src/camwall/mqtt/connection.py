"""One broker connection with a thread of its own that reconnects with the one backoff policy.

paho's ``loop_start()`` reconnects on its own schedule; camwall has one backoff policy for
everything that reconnects (:class:`camwall.backoff.BackoffPolicy`), so this class runs
paho's ``loop()`` in its own thread and decides when to try again. Other threads may call
``client.publish()`` at any time (paho wakes its loop through its own socket pair).

Order on reconnect: paho resends the QoS 1 messages that were not acknowledged, from inside
its CONNACK handling; ``on_ready`` runs after that, in this thread, so whatever it publishes
(retained state) goes out after the resent, older messages.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any

from camwall.errors import MissingExtraError
from camwall.mqtt.settings import MqttSettings

try:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
    from paho.mqtt.reasoncodes import ReasonCode
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise MissingExtraError("MQTT", "mqtt", "paho-mqtt") from exc

__all__ = ["BrokerConnection", "mqtt"]

log = logging.getLogger(__name__)

#: How long one ``loop()`` call waits for traffic; bounds how late ticks run and close() is seen.
LOOP_S = 0.25
#: Packets read in one go after each loop (bounded, so writes and keepalives still run).
DRAIN_MAX = 500
#: CONNACK reason codes that retrying at the normal pace cannot fix.
_FATAL_CONNACK = {"Not authorized", "Bad user name or password", "Client identifier not valid"}


class BrokerConnection:
    """A paho client, connected and kept connected by a thread this object owns.

    ``on_ready()`` runs in the connection thread after each successful (re)connection;
    ``on_message(topic, payload, retained)`` for each message on subscribed topics;
    ``on_down()`` when an established connection is lost; ``tick()`` about every
    :data:`LOOP_S` s while connected. Subscriptions are made again on each connection
    (``subscribe``).
    """

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        name: str,
        subscribe: tuple[str, ...] = (),
        will: tuple[str, bytes] | None = None,
        on_ready: Callable[[], None] | None = None,
        on_message: Callable[[str, bytes, bool], None] | None = None,
        on_down: Callable[[], None] | None = None,
        tick: Callable[[], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare the client (the password is read from the environment now); nothing connects yet."""
        self.settings = settings
        self.name = name
        self._subscribe = subscribe
        self._on_ready = on_ready
        self._on_message_cb = on_message
        self._on_down = on_down
        self._tick = tick
        self._backoff = settings.backoff()
        self._stop = threading.Event()
        self._connected = threading.Event()
        #: Connected, and every subscription acknowledged by the broker.
        self._subscribed = threading.Event()
        self._pending_subs: set[int] = set()
        self._just_connected = False
        self._refused: str | None = None
        self._fatal = False
        self._thread: threading.Thread | None = None
        self.connections = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        # An exception in one of our callbacks is logged by paho instead of ending the loop.
        client.suppress_exceptions = True
        client.on_log = self._on_log
        # We bound the queue ourselves (the sink); paho may hold what was handed to it.
        client.max_inflight_messages_set(100)
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password(env))
        if settings.tls is not None:
            tls = settings.tls
            client.tls_set(
                ca_certs=None if tls.ca_file is None else str(tls.ca_file),
                certfile=None if tls.certfile is None else str(tls.certfile),
                keyfile=None if tls.keyfile is None else str(tls.keyfile),
                cert_reqs=ssl.CERT_REQUIRED,
            )
        if will is not None:
            client.will_set(will[0], will[1], qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self.client = client

    @property
    def where(self) -> str:
        """``host:port`` (no credentials), for messages."""
        return f"{self.settings.host}:{self.settings.effective_port}"

    def start(self) -> BrokerConnection:
        """Start the connection thread. Returns self."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._thread = threading.Thread(target=self._run, name=f"camwall-{self.name}", daemon=True)
        self._thread.start()
        return self

    def is_connected(self) -> bool:
        """True while a CONNACK has been received and the connection has not dropped."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a connection whose subscriptions are all in place."""
        return self._subscribed.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Disconnect (no last will: a clean goodbye) and stop the thread."""
        self._stop.set()
        if self._connected.is_set():
            self.client.disconnect()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning(
                    "%s: the connection thread did not stop within %.1f s", self.name, timeout
                )

    # -- the connection thread ------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._refused = None
            self._fatal = False
            try:
                self.client.connect(
                    self.settings.host,
                    self.settings.effective_port,
                    keepalive=self.settings.keepalive,
                )
            except (OSError, ValueError) as exc:
                _close_sockets_of(exc)
                attempt += 1
                self._wait(attempt, f"cannot connect to {self.where}: {exc}", failed=False)
                continue
            was_up = self._serve()
            if self._stop.is_set():
                break
            attempt = 1 if was_up else attempt + 1
            if was_up and self._on_down is not None:
                self._on_down()
            reason = self._refused or f"connection to {self.where} lost"
            self._wait(attempt, reason, failed=self._fatal)
        self._connected.clear()
        self._subscribed.clear()
        if self.client.socket() is not None:
            # Stopped between connect() and CONNACK, or close() raced the connection: say
            # goodbye properly so the broker does not fire the last will.
            self.client.disconnect()
            self.client.loop(timeout=LOOP_S)

    def _serve(self) -> bool:
        """Run paho's loop until the connection ends; True if it was up at some point."""
        was_up = False
        while not self._stop.is_set():
            rc = self.client.loop(timeout=LOOP_S)
            # paho's loop() reads about one packet per call: drain what already waits, so a
            # message queued behind a burst (a heartbeat behind 12 cameras' stats) is not late.
            drained = 0
            while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and drained < DRAIN_MAX and self.backlog():
                rc = self.client.loop_read()
                drained += 1
            if self._just_connected:
                self._just_connected = False
                was_up = True
                if self._subscribe:
                    rc, mid = self.client.subscribe([(topic, 1) for topic in self._subscribe])
                    if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                        self._pending_subs.add(mid)
                else:
                    self._subscribed.set()
                if self._on_ready is not None:
                    self._on_ready()
            if self._tick is not None:
                self._tick()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
        self._connected.clear()
        self._subscribed.clear()
        return was_up

    def backlog(self) -> bool:
        """True if data from the broker waits unread (in the socket, or in TLS's buffer)."""
        sock = self.client.socket()
        if sock is None:
            return False
        pending = getattr(sock, "pending", None)
        if callable(pending) and pending() > 0:
            return True
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False  # closed under us: the loop notices on its own
        return bool(readable)

    def _wait(self, attempt: int, reason: str, *, failed: bool) -> None:
        delay = self._backoff.delay(attempt, failed=failed)
        log.warning("%s: %s; retrying in %.1f s (attempt %d)", self.name, reason, delay, attempt)
        self._stop.wait(delay)

    # -- paho callbacks (connection thread) ----------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            self._refused = f"{self.where} refused the connection: {reason.getName()}"
            if reason.getName() in _FATAL_CONNACK:
                self._fatal = True
                log.error(
                    "%s: %s refused the login (%s); check mqtt.username and the variable "
                    "named by mqtt.password_env",
                    self.name,
                    self.where,
                    reason.getName(),
                )
            return
        self.connections += 1
        log.info("%s: connected to %s", self.name, self.where)
        self._connected.set()
        self._just_connected = True

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if self._connected.is_set() and not self._stop.is_set():
            log.warning("%s: disconnected from %s (%s)", self.name, self.where, reason.getName())
        self._connected.clear()
        self._subscribed.clear()

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        refused = [r for r in reasons if getattr(r, "is_failure", False)]
        if refused:
            log.error(
                "%s: %s refused a subscription (%s); check the broker's ACL for this user",
                self.name,
                self.where,
                refused[0].getName(),
            )
        self._pending_subs.discard(mid)
        if not self._pending_subs and self._connected.is_set():
            self._subscribed.set()

    def _on_log(self, client: mqtt.Client, userdata: Any, level: int, text: str) -> None:
        # paho reports an ordinary lost connection as an error; we log that ourselves, once.
        # What matters from paho is an exception in one of our callbacks (a bug).
        if text.startswith("Caught exception"):
            log.error("%s: %s", self.name, text)
        else:
            log.debug("%s: paho: %s", self.name, text)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._on_message_cb is not None:
            self._on_message_cb(message.topic, bytes(message.payload), bool(message.retain))


def _close_sockets_of(exc: BaseException) -> None:
    """Close sockets left open in the frames of ``exc`` (paho 2.2 leaves the socket of a
    failed TLS handshake to the garbage collector, which then warns about it)."""
    tb = exc.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, socket.socket) and value.fileno() != -1:
                value.close()
        tb = tb.tb_next
