"""A small real implementation of camwall.mqtt.commands.CommandTarget that records its calls.

It is our own interface (the runtime's command methods), not a stand-in for a third party:
snapshots are real JPEG files, presets fail the way a camera without PTZ does.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Literal

from camwall.errors import ControlUnsupportedError
from support.mqtt_events import jpeg


class RecordingTarget:
    """Cameras by name; every call is appended to ``calls``."""

    def __init__(self, cameras: list[str], snapshot_dir: Path, *, ptz: bool = True) -> None:
        self._cameras = list(cameras)
        self.snapshot_dir = snapshot_dir
        self.ptz = ptz
        self.calls: list[tuple[object, ...]] = []
        self.changed = threading.Condition()

    def _note(self, *call: object) -> None:
        with self.changed:
            self.calls.append(call)
            self.changed.notify_all()

    def _check(self, name: str) -> None:
        if name not in self._cameras:
            raise KeyError(f"no camera named {name!r}")

    def cameras(self) -> list[str]:
        """The cameras."""
        return list(self._cameras)

    def reconnect(self, name: str) -> None:
        """Record a reconnect."""
        self._check(name)
        self._note("reconnect", name)

    def set_recording(self, name: str, on: bool) -> None:
        """Record a record toggle."""
        self._check(name)
        self._note("set_recording", name, on)

    def set_detection(self, name: str, on: bool) -> None:
        """Record a detection toggle."""
        self._check(name)
        self._note("set_detection", name, on)

    def snapshot(
        self, name: str, directory: Path | None = None, kind: Literal["png", "jpeg"] = "png"
    ) -> Future[Path]:
        """Write a real JPEG and complete the future with its path."""
        self._check(name)
        future: Future[Path] = Future()
        path = (directory or self.snapshot_dir) / f"{name.replace(' ', '_')}-{len(self.calls)}.jpg"
        jpeg(path)
        self._note("snapshot", name, kind)
        future.set_result(path)
        return future

    def goto_preset(self, name: str, token: str) -> Future[None]:
        """Complete at once, or fail as a camera without PTZ does."""
        self._check(name)
        future: Future[None] = Future()
        self._note("goto_preset", name, token)
        if self.ptz:
            future.set_result(None)
        else:
            future.set_exception(ControlUnsupportedError(f"{name}: the camera has no PTZ presets"))
        return future
