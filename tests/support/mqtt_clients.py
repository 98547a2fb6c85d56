"""Plain paho clients for tests: a subscriber that records every message, settings per user."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from camwall.mqtt.settings import MqttSettings, TlsSettings
from fixtures.mosquitto import PASSWORDS, Broker


def wait_until(
    get: Callable[[], Any], ok: Callable[[Any], Any] = bool, timeout: float = 10.0
) -> Any:
    """Poll ``get()`` until ``ok(value)``; the value, or AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s; last value: {value!r}")
        time.sleep(0.02)


def env_for(user: str) -> dict[str, str]:
    """An environment holding ``user``'s broker password."""
    return {"MQTT_PASSWORD": PASSWORDS[user]}


def settings_for(
    broker: Broker, user: str = "node", *, tls: bool = False, **kw: Any
) -> MqttSettings:
    """Settings that log in as ``user`` (password from ``env_for(user)``)."""
    return MqttSettings(
        host="127.0.0.1",
        port=broker.tls_port if tls else broker.port,
        tls=TlsSettings(ca_file=broker.ca) if tls else None,
        username=user,
        password_env="MQTT_PASSWORD",
        **kw,
    )


@dataclass(frozen=True)
class Received:
    """One message a test client received."""

    topic: str
    payload: bytes
    retain: bool
    at: float

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


class Subscriber:
    """A paho client (its own loop thread, stopped by :meth:`close`) recording messages."""

    def __init__(
        self, broker: Broker, user: str = "viewer", topics: tuple[str, ...] = ("#",)
    ) -> None:
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._topics = topics
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{id(self)}")
        self.client.username_pw_set(user, PASSWORDS[user])
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(0.1, 0.5)
        self.connected = threading.Event()
        self.client.connect("127.0.0.1", broker.port, keepalive=5)
        self.client.loop_start()
        assert self.connected.wait(10), "the test subscriber could not connect"

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            # Connected means subscribed: set once the broker acknowledged the subscription.
            client.subscribe([(topic, 1) for topic in self._topics])

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(
                Received(msg.topic, bytes(msg.payload), bool(msg.retain), time.monotonic())
            )
            self._cond.notify_all()

    def wait(
        self, predicate: Callable[[Received], bool], timeout: float = 10.0, after: int = 0
    ) -> Received:
        """The first message from index ``after`` that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.messages[after:]:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({m.topic for m in self.messages})
                    raise AssertionError(
                        f"no matching message within {timeout} s; topics seen: {seen}"
                    )
                self._cond.wait(left)

    def wait_topic(
        self, topic: str, timeout: float = 10.0, after: int = 0, **fields: Any
    ) -> Received:
        """The first message on ``topic`` whose JSON has ``fields``."""

        def match(m: Received) -> bool:
            if m.topic != topic:
                return False
            if not fields:
                return True
            try:
                data = m.json()
            except ValueError:
                return False
            return isinstance(data, dict) and all(data.get(k) == v for k, v in fields.items())

        return self.wait(match, timeout, after)

    def on(self, topic: str) -> list[Received]:
        """Every message on ``topic`` so far."""
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def __len__(self) -> int:
        with self._cond:
            return len(self.messages)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        """Publish and wait until it is out."""
        self.client.publish(topic, payload, qos=qos).wait_for_publish(10)

    def close(self) -> None:
        """Disconnect and stop the loop thread."""
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def subscriber(
    broker: Broker, user: str = "viewer", topics: tuple[str, ...] = ("#",)
) -> Iterator[Subscriber]:
    """A :class:`Subscriber` for the ``with`` block."""
    sub = Subscriber(broker, user, topics)
    try:
        yield sub
    finally:
        sub.close()


def retained_now(broker: Broker, prefix: str, timeout: float = 5.0) -> dict[str, bytes]:
    """What the broker holds retained under ``prefix/#`` right now (a fresh subscription)."""
    marker = f"{prefix}/zz-test-marker-{time.monotonic_ns()}"
    with subscriber(broker, "node", (f"{prefix}/#",)) as sub:
        # Retained messages arrive before anything published after subscribing.
        sub.publish(marker, b"x")
        sub.wait_topic(marker, timeout)
        return {m.topic: m.payload for m in sub.messages if m.retain}
