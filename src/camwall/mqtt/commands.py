"""Commands in: validate a JSON command, check the allow-list, call the runtime, reply.

A command is one JSON object on ``<base>/command``::

    {"id": "42", "camera": "Front door", "command": "record", "on": true}
    {"command": "detect", "camera": "front_door", "on": false}
    {"command": "snapshot", "camera": "Front door"}
    {"command": "ptz_preset", "camera": "Front door", "preset": "2"}
    {"command": "reconnect", "camera": "Front door"}

Every command gets exactly one reply on ``<base>/response``: ``{"id", "command", "camera",
"ok", "error", "result"}``. Anything not allowed or malformed (not JSON, not an object, wrong
types, unknown keys, unknown camera or command, over :data:`MAX_COMMAND_BYTES`) is refused
with ``ok: false`` and a reason, and logged; nothing a client sends can raise out of here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from camwall.errors import CamwallError
from camwall.mqtt.settings import COMMANDS
from camwall.mqtt.topics import camera_slug

log = logging.getLogger(__name__)

MAX_COMMAND_BYTES = 4096
#: Refusals logged per LOG_WINDOW_S; the rest are counted in one line.
MAX_LOGGED_REFUSALS = 20
LOG_WINDOW_S = 60.0
_MAX_TEXT = 128
#: Besides ``id``, ``command`` and ``camera``: the arguments each command takes, and their type.
_ARGS: dict[str, dict[str, type]] = {
    "record": {"on": bool},
    "detect": {"on": bool},
    "snapshot": {},
    "ptz_preset": {"preset": str},
    "reconnect": {},
}
#: What a runtime call may raise for a command it cannot carry out (unknown camera, no ONVIF,
#: camera offline); anything else is a bug and is logged by the connection as one.
_REFUSALS = (CamwallError, ValueError, KeyError, LookupError, RuntimeError, OSError, TimeoutError)


@runtime_checkable
class CommandTarget(Protocol):
    """What commands act on: :class:`camwall.runtime.Runtime` (the methods of issue 12)."""

    def cameras(self) -> list[str]:
        """The names of the running cameras."""
        ...

    def reconnect(self, name: str) -> None:
        """Drop camera ``name``'s connection and connect again now."""
        ...

    def set_recording(self, name: str, on: bool) -> None:
        """Start or stop recording camera ``name``."""
        ...

    def set_detection(self, name: str, on: bool) -> None:
        """Start or stop detection on camera ``name``."""
        ...

    def snapshot(
        self, name: str, directory: Path | None = None, kind: Literal["png", "jpeg"] = "png"
    ) -> Future[Path]:
        """Save camera ``name``'s picture (``kind``) into ``directory``; the future gives the file."""
        ...

    def goto_preset(self, name: str, token: str) -> Future[None]:
        """Move camera ``name`` to PTZ preset ``token``."""
        ...


def as_target(obj: object) -> CommandTarget | None:
    """``obj`` if it has every method of :class:`CommandTarget` (a runtime that takes commands)."""
    return obj if isinstance(obj, CommandTarget) else None


class CommandRefused(CamwallError, ValueError):
    """A command that is not allowed, malformed, or names something that does not exist."""


@dataclass(frozen=True, slots=True)
class Command:
    """A validated command."""

    command: str
    camera: str
    id: str | int | None = None
    args: dict[str, Any] = field(default_factory=dict)


def parse(payload: bytes, allowed: Iterable[str], cameras: Iterable[str]) -> Command:
    """The command in ``payload``; CommandRefused saying what is wrong.

    ``camera`` may be the camera's name or its topic level (``front_door``).
    """
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandRefused(
            f"payload of {len(payload)} bytes is over the {MAX_COMMAND_BYTES}-byte limit"
        )
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandRefused(f"payload is not UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise CommandRefused("payload must be a JSON object")
    ident = data.get("id")
    if ident is not None and not (
        (isinstance(ident, str) and len(ident) <= _MAX_TEXT)
        or (isinstance(ident, int) and not isinstance(ident, bool))
    ):
        raise CommandRefused("id must be a string (at most 128 characters) or an integer")
    name = data.get("command")
    if not isinstance(name, str):
        raise CommandRefused('missing "command" (a string)')
    if name not in COMMANDS:
        raise CommandRefused(f"unknown command {name[:_MAX_TEXT]!r}; known: {', '.join(COMMANDS)}")
    allowed = tuple(allowed)
    if name not in allowed:
        raise CommandRefused(
            f"command {name!r} is not allowed on this node (allowed: {', '.join(allowed) or 'none'}; "
            "see mqtt.commands)"
        )
    spec = _ARGS[name]
    extra = set(data) - {"id", "command", "camera", *spec}
    if extra:
        raise CommandRefused(
            # repr: a key is the client's text and goes into a log line.
            f"unknown key(s) for {name}: {', '.join(repr(k) for k in sorted(extra))[:_MAX_TEXT]}"
        )
    for key, kind in spec.items():
        value = data.get(key)
        if not isinstance(value, kind) or (
            isinstance(value, str) and not 0 < len(value) <= _MAX_TEXT
        ):
            what = "true or false" if kind is bool else "a non-empty string"
            raise CommandRefused(f'{name} needs "{key}": {what}')
    camera = data.get("camera")
    if not isinstance(camera, str):
        raise CommandRefused('missing "camera" (a string)')
    known = list(cameras)
    match = next((c for c in known if c == camera), None) or next(
        (c for c in known if camera_slug(c) == camera), None
    )
    if match is None:
        raise CommandRefused(
            f"unknown camera {camera[:_MAX_TEXT]!r} (cameras: {', '.join(known) or 'none'})"
        )
    return Command(name, match, ident, {k: data[k] for k in spec})


def peek_id(payload: bytes) -> tuple[str | int | None, str | None, str | None]:
    """``(id, command, camera)`` of a refused payload, where readable, for the reply."""
    if len(payload) > MAX_COMMAND_BYTES:
        return None, None, None
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, None, None
    if not isinstance(data, dict):
        return None, None, None

    def text(key: str) -> str | None:
        value = data.get(key)
        return value[:_MAX_TEXT] if isinstance(value, str) else None

    ident = data.get("id")
    if not (isinstance(ident, str | int) and not isinstance(ident, bool)):
        ident = None
    elif isinstance(ident, str):
        ident = ident[:_MAX_TEXT]
    return ident, text("command"), text("camera")


Reply = Callable[[dict[str, Any]], None]


class CommandDispatcher:
    """Runs commands against a :class:`CommandTarget` and replies through ``reply``.

    ``on_snapshot(camera, path)`` is called when a snapshot command produced a JPEG (the
    sink publishes it). Futures complete on whatever thread the runtime uses; replies are
    only queued there.
    """

    def __init__(
        self,
        target: CommandTarget | None,
        allowed: Iterable[str],
        reply: Reply,
        *,
        on_snapshot: Callable[[str, Path], None] | None = None,
    ) -> None:
        """``target`` None: every command is refused (a runtime without the command methods)."""
        self.target = target
        self.allowed = tuple(allowed)
        self._reply = reply
        self._on_snapshot = on_snapshot
        self.refused = 0
        self._log_window = time.monotonic()
        self._logged = 0
        self._unlogged = 0
        self.accepted = 0

    def handle(self, payload: bytes) -> None:
        """Validate and run one command payload; exactly one reply follows (now or later)."""
        try:
            if self.target is None:
                raise CommandRefused("this node's runtime does not take commands")
            command = parse(payload, self.allowed, self.target.cameras())
        except CommandRefused as exc:
            ident, name, camera = peek_id(payload)
            self._refuse(ident, name, camera, str(exc))
            return
        self.accepted += 1
        log.info("mqtt command %s on %r", command.command, command.camera)
        self._run(self.target, command)

    def _run(self, target: CommandTarget, cmd: Command) -> None:
        name = cmd.camera
        try:
            if cmd.command == "record":
                target.set_recording(name, bool(cmd.args["on"]))
            elif cmd.command == "detect":
                target.set_detection(name, bool(cmd.args["on"]))
            elif cmd.command == "reconnect":
                target.reconnect(name)
            elif cmd.command == "snapshot":
                # JPEG: what Home Assistant's MQTT camera and most consumers expect.
                future_path = target.snapshot(name, kind="jpeg")
                future_path.add_done_callback(lambda f: self._snapshot_done(cmd, f))
                return
            elif cmd.command == "ptz_preset":
                future = target.goto_preset(name, str(cmd.args["preset"]))
                future.add_done_callback(lambda f: self._done(cmd, f))
                return
        except _REFUSALS as exc:
            self._refuse(cmd.id, cmd.command, name, f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:
            # The one broad catch: the boundary between a network client and the runtime.
            # A bug behind a command must still give the client its one reply; the traceback
            # goes to the log for us.
            log.exception("mqtt command %s on %r failed unexpectedly", cmd.command, name)
            self._refuse(cmd.id, cmd.command, name, f"internal error ({type(exc).__name__})")
            return
        self._answer(cmd, ok=True)

    def _snapshot_done(self, cmd: Command, future: Future[Path]) -> None:
        error = _failure(future)
        if error is not None:
            self._refuse(cmd.id, cmd.command, cmd.camera, error)
            return
        path = future.result()
        if self._on_snapshot is not None:
            self._on_snapshot(cmd.camera, path)
        self._answer(cmd, ok=True, result={"path": str(path)})

    def _done(self, cmd: Command, future: Future[None]) -> None:
        error = _failure(future)
        if error is not None:
            self._refuse(cmd.id, cmd.command, cmd.camera, error)
        else:
            self._answer(cmd, ok=True)

    def _answer(self, cmd: Command, *, ok: bool, result: dict[str, Any] | None = None) -> None:
        self._reply(
            {
                "id": cmd.id,
                "command": cmd.command,
                "camera": cmd.camera,
                "ok": ok,
                "error": None,
                "result": result,
            }
        )

    def _refuse(
        self, ident: str | int | None, name: str | None, camera: str | None, reason: str
    ) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._log_window > LOG_WINDOW_S:
            if self._unlogged:
                log.warning("mqtt: %d more command(s) refused without a log line", self._unlogged)
            self._log_window, self._logged, self._unlogged = now, 0, 0
        # A client hammering the command topic must not flood the log: a few lines a minute.
        if self._logged < MAX_LOGGED_REFUSALS:
            self._logged += 1
            log.warning("mqtt command refused (%r on %r): %s", name, camera, reason)
        else:
            self._unlogged += 1
        self._reply(
            {
                "id": ident,
                "command": name,
                "camera": camera,
                "ok": False,
                "error": reason,
                "result": None,
            }
        )


def _failure(future: Future[Any]) -> str | None:
    if future.cancelled():
        return "cancelled"
    exc = future.exception()
    return None if exc is None else f"{type(exc).__name__}: {exc}"
