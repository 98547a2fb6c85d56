"""Events through MQTT: detection → subscriber latency and the events/s one node sustains.

Run: .venv/bin/python bench/events.py [--events 400] [--burst 20000] [--rounds 3] [--quick] [--no-write]

Each event is a real track event (a person appears, then leaves: start/end messages plus the
label's binary sensor ON/OFF, as on a node). A real mosquitto (Debian package) on a free
loopback port; one subscriber (paho, its own loop thread) on the other side. Two variants, interleaved in each round:

- **bare paho**: a paho client publishes the same two messages per event as camwall (a JSON
  payload shaped like camwall's track event, and the label's ``ON``/``OFF``), QoS 1,
  straight from the calling thread (its own loop thread does the network);
- **camwall**: an :class:`camwall.mqtt.sink.MqttSink` gets real ``RuntimeEvent`` s (track
  appeared, carrying ``capture_ns``) from the calling thread as the runtime would deliver
  them, and translates, queues and publishes them from its sender thread.

Latency: ``--events`` events paced at 50/s; each carries the ``time.monotonic_ns()`` of its
making, the subscriber subtracts it from its own clock on arrival (one host, one clock).
Throughput: a burst of ``--burst`` events as fast as the caller can hand them over, timed
until the subscriber has received the last one. Unless ``--no-write`` or ``--quick``, the
table replaces the generated block under "## Events (MQTT)" in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from camwall.detect.messages import TrackEvent
from camwall.mqtt.settings import MqttSettings
from camwall.mqtt.sink import MqttSink
from camwall.runtime.events import RuntimeEvent
from docs_block import replace_block

PACE_HZ = 50.0
GOAL_P95_MS = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    """mosquitto with anonymous access on a loopback port, for this run only."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        conf = directory / "mosquitto.conf"
        conf.write_text(
            f"user root\npersistence false\nallow_anonymous true\nlog_dest none\n"
            f"max_queued_messages 1000000\nlistener {self.port} 127.0.0.1\n"
        )
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Subscriber:
    """Records arrival latency (ms) of messages carrying a ``capture_ns`` field."""

    def __init__(self, port: int, topic: str) -> None:
        self.latencies: list[float] = []
        self.count = 0
        self.cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{os.getpid()}")
        self.client.on_message = self._on_message
        ready = threading.Event()
        self.client.on_subscribe = lambda *a: ready.set()
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not ready.wait(10):
            raise TimeoutError("the benchmark subscriber could not subscribe")

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.monotonic_ns()
        sent = json.loads(msg.payload)["capture_ns"]
        with self.cond:
            self.latencies.append((now - sent) / 1e6)
            self.count += 1
            self.cond.notify_all()

    def reset(self) -> None:
        with self.cond:
            self.latencies.clear()
            self.count = 0

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.count < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"only {self.count} of {count} messages arrived")
                self.cond.wait(left)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def track_event(i: int) -> RuntimeEvent:
    """Event ``i``, made now as the detection worker makes them: track i//2 appears, then leaves."""
    kind = "appeared" if i % 2 == 0 else "left"
    return RuntimeEvent(
        TrackEvent(
            kind,
            "door",
            "person",
            i // 2,
            time.time(),
            time.monotonic_ns(),
            i,
            (812.0, 300.5, 1010.2, 905.0),
            0.87,
        )
    )


class BarePaho:
    """The baseline: one paho client, QoS 1, payloads shaped like camwall's."""

    name = "bare paho publish → subscribe (QoS 1)"
    topic = "bench/bare/event"

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{os.getpid()}"
        )
        self.client.max_inflight_messages_set(100)
        connected = threading.Event()
        self.client.on_connect = lambda *a: connected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        connected.wait(10)

    def send(self, i: int) -> None:
        event = track_event(i).to_dict()
        payload = {"schema": 1, "node": "bench", "type": "event", "event": "start", "id": f"bench/door/{i}",
                   "label": event["label"], "score": event["best_score"], "box": event["box"], "zone": None,
                   "capture_ns": event["capture_ns"]}  # fmt: skip
        self.client.publish(self.topic, json.dumps(payload), qos=1)
        # The same second message camwall sends: the label's binary sensor flips.
        label = b"ON" if event["kind"] == "appeared" else b"OFF"
        self.client.publish("bench/bare/label/person", label, qos=1, retain=True)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Camwall:
    """MqttSink fed RuntimeEvents, as on a node."""

    name = "camwall MqttSink (RuntimeEvent → translate → queue → QoS 1)"
    topic = "camwall/v1/bench/camera/door/event"

    def __init__(self, port: int) -> None:
        settings = MqttSettings(host="127.0.0.1", port=port, node="bench", discovery=False,
                                queue_size=1_000_000)  # fmt: skip
        self.sink = MqttSink(settings).start()
        if not self.sink.connection.wait_connected(10):
            raise TimeoutError("the sink could not connect")

    def send(self, i: int) -> None:
        self.sink.publish(track_event(i))

    def close(self) -> None:
        self.sink.close()


def measure(variant: Callable[[int], Any], port: int, events: int, burst: int) -> dict[str, float]:
    impl = variant(port)
    sub = Subscriber(port, impl.topic)
    try:
        # Latency, paced.
        start = time.monotonic()
        for i in range(events):
            target = start + i / PACE_HZ
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            impl.send(i)
        sub.wait_for(events, 30)
        lat = sorted(sub.latencies)
        p50 = statistics.median(lat)
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        # Throughput, a burst.
        sub.reset()
        t0 = time.perf_counter()
        for i in range(burst):
            impl.send(events + i)
        handed = time.perf_counter() - t0
        sub.wait_for(burst, 120)
        took = time.perf_counter() - t0
        return {"p50": p50, "p95": p95, "rate": burst / took, "call_us": handed / burst * 1e6}
    finally:
        sub.close()
        impl.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=400, help="paced events for latency (default 400)"
    )
    parser.add_argument("--burst", type=int, default=20000, help="events in the throughput burst")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1 short round")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.events, args.burst, args.rounds = 100, 2000, 1
    if shutil.which("mosquitto") is None:
        print("bench/events.py: needs mosquitto (apt-get install mosquitto)", file=sys.stderr)
        return 1
    load0 = os.getloadavg()[0]
    results: dict[str, list[dict[str, float]]] = {BarePaho.name: [], Camwall.name: []}
    with tempfile.TemporaryDirectory(prefix="camwall-bench-events-") as tmp:
        broker = Broker(Path(tmp))
        try:
            for r in range(args.rounds):
                order = (BarePaho, Camwall) if r % 2 == 0 else (Camwall, BarePaho)
                for variant in order:
                    results[variant.name].append(
                        measure(variant, broker.port, args.events, args.burst)
                    )
                    print(
                        f"round {r + 1}: {variant.name}: {results[variant.name][-1]}",
                        file=sys.stderr,
                    )
        finally:
            broker.stop()

    def med(name: str, key: str) -> float:
        return statistics.median(row[key] for row in results[name])

    base, ours = BarePaho.name, Camwall.name
    lines = [
        f"{datetime.now():%Y-%m-%d %H:%M} — `.venv/bin/python bench/events.py --events {args.events} "
        f"--burst {args.burst} --rounds {args.rounds}` ({platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, mosquitto on loopback; median of {args.rounds} interleaved "
        f"rounds; load average {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end):",
        "",
        "| variant | latency p50 ms | latency p95 ms | events/s (burst) | × bare paho events/s | µs per call |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in (base, ours):
        lines.append(
            f"| {name} | {med(name, 'p50'):.2f} | {med(name, 'p95'):.2f} | {med(name, 'rate'):.0f} | "
            f"{med(name, 'rate') / med(base, 'rate'):.2f} | {med(name, 'call_us'):.1f} |"
        )
    p95 = med(ours, "p95")
    lines += [
        "",
        f"camwall detection → subscriber p95 = {p95:.1f} ms (goal ≤ {GOAL_P95_MS:.0f} ms: "
        f"{'MET' if p95 <= GOAL_P95_MS else 'MISSED'})",
    ]
    text = "\n".join(lines)
    print(text)
    if not (args.no_write or args.quick):
        replace_block("## Events (MQTT)", "bench/events.py", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
