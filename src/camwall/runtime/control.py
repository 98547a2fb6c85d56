"""Camera control sessions of the runtime: one ONVIF session per camera that has ``[onvif]``.

The runtime owns the :class:`~camwall.control.ControlService` (its asyncio thread) and opens
a :class:`~camwall.control.RemoteCamera` for each camera with control settings; faces drive
the cameras through those handles (every call returns a future at once) and learn about
capability changes from the runtime's ``control`` events. The same thread follows each such
camera's own ONVIF events (motion, tamper, inputs, line crossing: a PullPoint subscription,
:mod:`camwall.control.onvif.events`), which join the runtime's event stream as
``camera_event`` / ``camera_events_state``. The service starts with the first camera that
has control and stops when the runtime closes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from camwall.control import Capabilities, ControlService, OnvifSettings, RemoteCamera
from camwall.control.onvif.events import CameraEvents
from camwall.errors import ControlError
from camwall.runtime.events import ControlChanged

log = logging.getLogger(__name__)

Emit = Callable[[Any], None]


def summarize(caps: Capabilities) -> str:
    """A one-line summary of what a camera offers ("focus, zoom, pan/tilt, presets")."""
    names = {
        "focus_continuous": "focus",
        "zoom_continuous": "zoom",
        "pan_tilt_continuous": "pan/tilt",
        "presets": "presets",
    }
    offered = [text for field, text in names.items() if caps.features()[field].available]
    if offered:
        return ", ".join(offered)
    reasons = set(caps.unavailable().values())
    return reasons.pop() if len(reasons) == 1 else "no optical control"


class ControlSessions:
    """Owns the control service and each camera's session; thread-safe."""

    def __init__(self, emit: Emit) -> None:
        """``emit`` receives a :class:`ControlChanged` whenever a camera's capabilities change,
        and every camera-reported event and subscription state."""
        self._emit = emit
        self._lock = threading.Lock()
        self._service: ControlService | None = None
        self._events: CameraEvents | None = None
        self._sessions: dict[str, RemoteCamera] = {}
        self._closed = False

    def service(self) -> ControlService:
        """The control service, started on first use (dialogs use it to look cameras up)."""
        with self._lock:
            if self._closed:
                raise ControlError("camera control is shutting down")
            if self._service is None:
                self._service = ControlService(name="camwall-control").start()
                self._events = CameraEvents(self._emit, self._emit, service=self._service).start()
            return self._service

    def open(self, camera: str, settings: OnvifSettings) -> RemoteCamera:
        """Start connecting ``camera``'s control; replaces an earlier session of that name."""
        self.close_camera(camera)
        service = self.service()

        def on_caps(caps: Capabilities) -> None:
            """Control thread: every change of what the camera offers becomes an event."""
            connected = any(f.available for f in caps.features().values())
            self._emit(ControlChanged(camera, connected, summarize(caps), caps))

        session = service.open_onvif(settings, on_capabilities=on_caps)
        with self._lock:
            self._sessions[camera] = session
            events = self._events
        if events is not None:
            events.add(camera, settings)  # the camera's own motion/tamper/input events
        return session

    def session(self, camera: str) -> RemoteCamera | None:
        """``camera``'s control handle, or None if it has no optical control."""
        with self._lock:
            return self._sessions.get(camera)

    def close_camera(self, camera: str) -> Future[None] | None:
        """Let go of ``camera``'s moves and close its session (returns at once)."""
        with self._lock:
            session = self._sessions.pop(camera, None)
            closed = self._closed
            events = self._events
        if session is None or closed:
            return None
        if events is not None:
            events.remove(camera)
        return session.close()

    def goto_preset(self, camera: str, token: str) -> Future[None]:
        """Move ``camera`` to preset ``token``; the future fails with ControlError if it can't."""
        session = self.session(camera)
        if session is None:
            failed: Future[None] = Future()
            failed.set_exception(ControlError(f"{camera} has no ONVIF control configured"))
            return failed
        return session.goto_preset(token)

    def close(self, timeout_s: float) -> None:
        """Stop every camera's moves and the control thread (blocks, bounded)."""
        with self._lock:
            self._closed = True
            service, self._service = self._service, None
            events, self._events = self._events, None
            self._sessions.clear()
        if events is not None:
            events.stop(timeout_s=min(timeout_s, 3.0))  # unsubscribe before the loop ends
        if service is not None:
            service.stop(timeout_s=timeout_s)
