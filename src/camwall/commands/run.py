"""``camwall run``: run the config's cameras — headless (capture, recording, detection, JSON
lines), or on the wall.

``camwall run --headless`` imports no Qt: it is what a box without a screen runs for months.
Events go to stdout (or ``--events FILE``) as JSON lines; logs go to stderr. SIGINT, SIGTERM
or SIGHUP stops it cleanly (open segments finished, no process or shared memory left); the
exit code is then 0.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from camwall.commands.check import positive_seconds
from camwall.commands.common import (
    EXIT_CODES_HELP,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    add_config_option,
    apply_log_level,
    config_option,
    error,
    load_config,
)
from camwall.config import Config

if TYPE_CHECKING:
    from camwall.mqtt.sink import MqttSink
    from camwall.runtime import RuntimeEvent
    from camwall.runtime.jsonlines import JsonLinesWriter

log = logging.getLogger(__name__)

#: How long stopping may take before workers are terminated and killed.
STOP_TIMEOUT_S = 15.0
#: Signals that stop a headless run cleanly.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Log events below this level stay in the log (stderr) and out of the event stream.
EVENT_LOG_LEVEL = logging.WARNING

DESCRIPTION = """\
Run the config's cameras: with --headless, capture, record and detect without any window
(no Qt is imported), printing events as JSON lines to stdout or --events FILE, and logs to
stderr. SIGINT, SIGTERM or SIGHUP stops it cleanly: open segments are finished, no process or
shared memory is left, and the exit code is 0. Without --headless, opens the wall."""


def add_parser(sub: Any) -> None:
    """Register ``camwall run``."""
    parser = sub.add_parser(
        "run",
        help="run the config's cameras: --headless (no display) or on the wall",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no window, no Qt: capture, record and detect, print events as JSON lines",
    )
    add_config_option(parser)
    parser.add_argument(
        "--events",
        default="-",
        metavar="FILE",
        help="append JSON-lines events to FILE ('-': stdout, the default)",
    )
    parser.add_argument(
        "--stats-interval",
        type=positive_seconds,
        default=10.0,
        metavar="N",
        help="seconds between stats events per camera (default 10)",
    )
    parser.add_argument(
        "--detections",
        choices=("found", "all", "none"),
        default="found",
        help="which per-frame detection results to print: those that found something "
        "(default), every one, or none (track appeared/left events are always printed)",
    )
    parser.add_argument(
        "--snapshots",
        type=Path,
        default=None,
        metavar="DIR",
        help="save a JPEG into DIR whenever a tracked object appears",
    )
    parser.add_argument(
        "--stream",
        choices=("auto", "main", "sub"),
        default="auto",
        help="capture each camera's main stream or substream; auto: main for cameras that "
        "record or have masks, else the substream if there is one",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        metavar="N",
        help="stop after N seconds (default 0: run until SIGINT/SIGTERM/SIGHUP)",
    )
    parser.add_argument(
        "--node",
        default=None,
        metavar="NAME",
        help="publish events to MQTT as node NAME (default: [mqtt] node, else the host name); "
        "needs an [mqtt] table (--mqtt-config); see docs/mqtt.md",
    )
    parser.add_argument(
        "--mqtt-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="a TOML file with the [mqtt] table (broker, TLS, login, allowed commands); "
        "the wall reads its remote nodes' broker from it too",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``camwall run``: headless, or the wall."""
    config = load_config(config_option(args))
    apply_log_level(args, config)
    if args.headless:
        return run_headless(config, args)
    return run_wall(config, args)


def run_headless(config: Config, args: argparse.Namespace) -> int:
    """Run until a signal (or ``--seconds``); 0 on a clean stop."""
    if not config.cameras:
        error(
            f"{config.source or 'the config'}: no cameras configured; add a [[camera]] "
            "(see docs/config.example.toml)"
        )
        return EXIT_USAGE
    if args.seconds < 0:
        error(f"--seconds {args.seconds}: must not be negative")
        return EXIT_USAGE
    # Imported here, not at the top: `camwall --help` should not pay for the whole runtime.
    from camwall.mqtt.node import load_settings
    from camwall.runtime.jsonlines import JsonLinesWriter

    mqtt_settings = load_settings(args.mqtt_config, config)
    if args.node is not None and mqtt_settings is None:
        error("--node NAME publishes to MQTT and needs an [mqtt] table: add --mqtt-config FILE")
        return EXIT_USAGE

    with contextlib.ExitStack() as stack:
        try:
            stream = stack.enter_context(_event_stream(args.events))
        except OSError as exc:
            error(f"--events {args.events}: cannot open for writing: {exc.strerror or exc}")
            return EXIT_USAGE
        stop = threading.Event()
        writer = JsonLinesWriter(stream, on_broken=stop.set).start()
        stack.callback(writer.close)
        sink = None
        if mqtt_settings is not None:
            from camwall.mqtt.node import camera_urls
            from camwall.mqtt.sink import MqttSink

            sink = MqttSink(mqtt_settings, node=args.node, urls=camera_urls(config)).start()
            stack.callback(sink.close)  # after the runtime: its last events go out first
        stack.enter_context(_stop_on_signals(stop))
        ok = _run_until_stopped(config, args, writer, stop, sink)
    if writer.dropped_total:
        log.warning("%d events were dropped: the event output was too slow", writer.dropped_total)
    return EXIT_OK if ok else EXIT_FAILURE


def _run_until_stopped(
    config: Config,
    args: argparse.Namespace,
    writer: JsonLinesWriter,
    stop: threading.Event,
    sink: MqttSink | None = None,
) -> bool:
    """Run the runtime until ``stop`` is set or ``--seconds`` passed; True if it closed cleanly."""
    from camwall.runtime import Runtime

    wanted = _event_filter(args.detections)

    def on_event(event: RuntimeEvent) -> None:
        if wanted(event):
            writer.write(event.to_dict())
        if sink is not None:
            sink.publish(event)  # never blocks: queued for the sink's own thread

    runtime = Runtime(
        config,
        on_event,
        stream=args.stream,
        snapshot_dir=args.snapshots,
        stats_interval_s=args.stats_interval,
    )
    if sink is not None:
        from camwall.mqtt.commands import as_target

        sink.attach(as_target(runtime))
    try:
        runtime.start()
        log.info(
            "running %d camera(s) headless; events to %s; SIGINT, SIGTERM or SIGHUP stops",
            len(config.cameras),
            "stdout" if args.events == "-" else args.events,
        )
        deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
        while not stop.wait(0.5):
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        log.info("stopping")
        ok = runtime.close(timeout=STOP_TIMEOUT_S)
    return ok


def _event_filter(detections: str) -> Callable[[RuntimeEvent], bool]:
    from camwall.capture.events import LogEvent
    from camwall.detect.messages import DetectionResult

    def wanted(event: RuntimeEvent) -> bool:
        payload = event.payload
        if isinstance(payload, LogEvent):
            return payload.level >= EVENT_LOG_LEVEL
        if isinstance(payload, DetectionResult):
            return detections == "all" or (detections == "found" and bool(payload.detections))
        return True

    return wanted


@contextlib.contextmanager
def _event_stream(target: str) -> Iterator[TextIO]:
    if target == "-":
        yield sys.stdout
        return
    with open(target, "a", encoding="utf-8") as fh:
        yield fh


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP set ``stop`` (only the main thread can have signal handlers).

    SIGHUP too: a closed terminal or SSH session sends it, and its default would kill the
    process with its segments open and its shared memory left for the next start to reclaim.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("still stopping (at most %.0f s); please wait", STOP_TIMEOUT_S)
            return
        log.info("%s received", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_wall(config: Config, args: argparse.Namespace) -> int:
    """Open the wall over the config's cameras (launched by ``camwall.cli``: no Qt here)."""
    open_wall: Callable[..., int] | None = getattr(args, "open_wall", None)
    if open_wall is None:
        error("this program cannot open the wall; use `camwall run --headless`")
        return EXIT_USAGE
    if getattr(args, "mqtt_config", None) is not None:
        from camwall.mqtt.node import load_settings

        # The broker of the wall's remote nodes ([wall] nodes) may live in its own file too.
        config = dataclasses.replace(config, mqtt=load_settings(args.mqtt_config, config))
    return open_wall(config, seconds=max(0.0, args.seconds), config_path=config.source)
