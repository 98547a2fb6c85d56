"""ControlHub: the wall's camera-control state over the runtime's control sessions.

The runtime owns the control service and each camera's session
(:mod:`camwall.runtime.control`); the hub is given them (``sessions``) and opens or closes
none itself. It knows, per camera:
its :class:`~camwall.control.RemoteCamera` (if it has ONVIF settings), its capabilities,
which controls failed and why, the last status read-out, the auto-focus mode and presets.

Every request goes through the service and returns at once; its result comes back through
the :class:`~camwall.ui.control.control_bridge.ControlBridge` on the UI thread, where the hub updates
the camera's state and emits :attr:`ControlHub.changed`. Failures go to the log (with the
camera's name, so the log panel shows them) and disable the control that failed, with the
reason as its tooltip: until the camera answers again (a timeout, a dropped connection: a
few seconds) or until :meth:`ControlHub.reconnect` (the camera refused the request).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

from qtpy.QtCore import QObject, QTimer

from camwall.control.hold import HeldMove
from camwall.control.model import (
    Axis,
    Capabilities,
    ControlStatus,
    Feature,
    OnvifSettings,
    Preset,
    StreamProfile,
    Velocity,
)
from camwall.control.service import ControlService, RemoteCamera
from camwall.errors import (
    ControlConnectionError,
    ControlError,
    ControlTimeoutError,
)
from camwall.runtime.control import ControlSessions
from camwall.ui.control.control_bridge import ControlBridge
from camwall.ui.qt_compat import Signal

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The reason shown on every optical control of a camera the wall has no ONVIF settings for.
NO_ONVIF = "no ONVIF settings for this camera"
#: A control that failed because the camera did not answer is tried again after this long.
RETRY_AFTER_S = 5.0
#: The capability each axis of a held move needs.
AXIS_FEATURE = {
    Axis.PAN: "pan_tilt_continuous",
    Axis.TILT: "pan_tilt_continuous",
    Axis.ZOOM: "zoom_continuous",
    Axis.FOCUS: "focus_continuous",
}
_TRANSIENT = (ControlTimeoutError, ControlConnectionError)
#: Requests the UI repeats by itself (polls, read-backs): a skipped one needs no log line.
_QUIET_WHEN_BUSY = frozenset({"status", "auto_focus_read", "presets"})


@dataclass
class _Failure:
    reason: str
    until: float | None  # monotonic time it is retried; None: until reconnected


@dataclass
class CameraControlState:
    """What the UI knows about one camera's controls (UI thread only)."""

    name: str
    settings: OnvifSettings | None
    remote: RemoteCamera | None = None
    capabilities: Capabilities = field(default_factory=lambda: Capabilities.none(NO_ONVIF))
    #: One line for people: "connecting…", "connected", "control unavailable: …".
    connection: str = NO_ONVIF
    connected: bool = False
    status: ControlStatus | None = None
    status_error: str | None = None
    auto_focus: bool | None = None
    presets: list[Preset] = field(default_factory=list)
    #: Requests in flight, by kind ("status", "one_push", "auto_focus", "presets", …).
    busy: set[str] = field(default_factory=set)
    generation: int = 0
    failures: dict[str, _Failure] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """host:port of the camera's ONVIF service ("" without one)."""
        if self.settings is not None:
            return self.settings.label
        return self.remote.label if self.remote is not None else ""

    def feature(self, name: str) -> Feature:
        """Capability ``name`` as the UI should offer it (a recent failure disables it)."""
        base = getattr(self.capabilities, name)
        if not isinstance(base, Feature):
            raise AttributeError(f"unknown camera feature {name!r}")
        failure = self.failures.get(name)
        if base.available and failure is not None:
            return Feature.missing(failure.reason)
        return base

    def move_feature(self, velocity: Velocity) -> Feature:
        """Whether a held move with ``velocity`` can be sent (the first missing axis says why)."""
        for axis in sorted(velocity.axes, key=lambda a: a.value):
            feature = self.feature(AXIS_FEATURE[axis])
            if not feature.available:
                return feature
        return Feature.ok()


class ControlHub(QObject):
    """Camera control for the wall's cameras; see the module docstring."""

    #: A camera's control state changed (its name).
    changed = Signal(str)
    #: A camera was taken away (its name): whoever holds one of its moves must let go.
    camera_removed = Signal(str)

    def __init__(self, sessions: ControlSessions, parent: QObject | None = None):
        """A hub over the runtime's control ``sessions`` (their owner closes them)."""
        super().__init__(parent)
        self.bridge = ControlBridge(self)
        self._sessions = sessions
        self._service_lock = threading.Lock()
        self._cameras: dict[str, CameraControlState] = {}
        self._closing = False
        self._serial = 0
        self._expiry = QTimer(self)
        self._expiry.setInterval(500)
        self._expiry.timeout.connect(self._expire_failures)

    # -- service -----------------------------------------------------------------------------

    @property
    def service(self) -> ControlService:
        """The control service (started on first use)."""
        with self._service_lock:
            if self._closing:
                raise RuntimeError("camera control is shutting down")
            return self._sessions.service()

    def begin_close(self) -> None:
        """Accept no more requests and ignore late results (UI thread; the runtime's
        :meth:`~camwall.runtime.control.ControlSessions.close` then stops moves and cameras)."""
        with self._service_lock:
            self._closing = True
        self._expiry.stop()
        self.bridge.close()

    @property
    def closing(self) -> bool:
        """True after :meth:`begin_close`."""
        return self._closing

    # -- cameras -----------------------------------------------------------------------------

    def add_camera(
        self, name: str, settings: OnvifSettings | None, remote: RemoteCamera | None = None
    ) -> CameraControlState:
        """Track camera ``name``, with control over ``remote`` (the session the runtime
        opened for it) if it has one."""
        if name in self._cameras:
            self.remove_camera(name)
        state = CameraControlState(name, settings)
        self._cameras[name] = state
        if remote is not None and not self._closing:
            self._serial += 1
            state.generation = self._serial
            state.remote = remote
            state.capabilities = remote.capabilities
            state.connection = f"connecting to {state.label}…"
            self._watch_connect(state, remote.connected)
        self.changed.emit(name)
        return state

    def capabilities_changed(self, name: str, caps: Capabilities) -> None:
        """The runtime says camera ``name``'s capabilities changed (UI thread)."""
        state = self._cameras.get(name)
        if state is not None and state.remote is not None:
            self._on_capabilities(name, state.generation, caps)

    def remove_camera(self, name: str) -> None:
        """Forget camera ``name``: its held move is stopped (the runtime closes its session)."""
        state = self._cameras.pop(name, None)
        if state is None:
            return
        state.generation = -1
        self.camera_removed.emit(name)
        self.changed.emit(name)

    def names(self) -> list[str]:
        """Cameras the hub knows."""
        return list(self._cameras)

    def state(self, name: str) -> CameraControlState | None:
        """Camera ``name``'s control state (None: not on the wall)."""
        return self._cameras.get(name)

    def reconnect(self, name: str) -> None:
        """Log in again (also after a failed login) and forget the controls that failed."""
        state = self._cameras.get(name)
        if state is None or state.remote is None or self._closing:
            return
        state.failures.clear()
        state.connected = False
        state.connection = f"connecting to {state.label}…"
        log.info("reconnecting camera control (%s)", state.label, extra={"camera": name})
        self._watch_connect(state, state.remote.connect())
        self.changed.emit(name)

    def _watch_connect(self, state: CameraControlState, future: Future[Capabilities]) -> None:
        generation, name = state.generation, state.name
        self.bridge.watch(future, lambda f: self._on_connected(name, generation, f))

    def _current(self, name: str, generation: int) -> CameraControlState | None:
        state = self._cameras.get(name)
        return state if state is not None and state.generation == generation else None

    def _on_capabilities(self, name: str, generation: int, caps: Capabilities) -> None:
        state = self._current(name, generation)
        if state is None:
            return
        state.capabilities = caps
        self.changed.emit(name)

    def _on_connected(self, name: str, generation: int, future: Future[Capabilities]) -> None:
        state = self._current(name, generation)
        if state is None or future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            state.connected = False
            state.connection = f"control unavailable: {exc}"
            if isinstance(exc, ControlError):
                log.error("camera control unavailable: %s", exc, extra={"camera": name})
            else:
                log.error(
                    "camera control failed unexpectedly: %r",
                    exc,
                    exc_info=exc,
                    extra={"camera": name},
                )
            self.changed.emit(name)
            return
        caps = future.result()
        state.capabilities = caps
        state.connected = True
        state.connection = f"connected to {state.label}"
        missing = caps.unavailable()
        log.info(
            "camera control connected (%s); unavailable: %s",
            state.label,
            ", ".join(sorted(missing)) or "nothing",
            extra={"camera": name},
        )
        self.changed.emit(name)
        if caps.auto_focus:
            self._request(
                name, "auto_focus_read", "read the auto-focus mode", self._get_af, self._got_af
            )
        if caps.presets:
            self.refresh_presets(name)
        self.poll_status(name)

    # -- failures ----------------------------------------------------------------------------

    def report_failure(self, name: str, feature: str | None, what: str, err: BaseException) -> None:
        """Log a failed request and disable ``feature`` with the reason (UI thread)."""
        state = self._cameras.get(name)
        if not isinstance(err, ControlError):
            log.error("%s failed unexpectedly: %r", what, err, exc_info=err, extra={"camera": name})
            return
        transient = isinstance(err, _TRANSIENT)
        log.error(
            "%s failed: %s%s",
            what,
            err,
            " (the control is tried again in a few seconds)" if transient else "",
            extra={"camera": name},
        )
        if state is None or feature is None:
            return
        until = time.monotonic() + RETRY_AFTER_S if transient else None
        reason = f"{what} failed: {err}"
        if not transient:
            reason += " (Reconnect to try again)"
        state.failures[feature] = _Failure(reason, until)
        if until is not None and not self._expiry.isActive():
            self._expiry.start()
        self.changed.emit(name)

    def _expire_failures(self) -> None:
        now = time.monotonic()
        pending = False
        for state in self._cameras.values():
            expired = [
                k for k, f in state.failures.items() if f.until is not None and f.until <= now
            ]
            for key in expired:
                del state.failures[key]
            if expired:
                self.changed.emit(state.name)
            pending = pending or any(f.until is not None for f in state.failures.values())
        if not pending:
            self._expiry.stop()

    # -- requests ----------------------------------------------------------------------------

    def _request(
        self,
        name: str,
        busy: str,
        what: str,
        call: Callable[[RemoteCamera], Future[T]],
        on_ok: Callable[[CameraControlState, T], None] | None = None,
        *,
        feature: str | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> bool:
        """Send one request unless one of the same kind is in flight; False if not sent."""
        state = self._cameras.get(name)
        if state is None or state.remote is None or self._closing:
            return False
        if busy in state.busy:
            if busy not in _QUIET_WHEN_BUSY:
                log.info(
                    "cannot %s yet: still waiting for the camera", what, extra={"camera": name}
                )
            return False
        if feature is not None:
            available = state.feature(feature)
            if not available.available:
                log.warning("cannot %s: %s", what, available.reason, extra={"camera": name})
                return False
        generation = state.generation
        state.busy.add(busy)
        future = call(state.remote)

        def done(f: Future[T]) -> None:
            """UI thread: record the answer (or the failure) in the camera's state."""
            current = self._current(name, generation)
            if current is None:
                return
            current.busy.discard(busy)
            exc = None if f.cancelled() else f.exception()
            if f.cancelled():
                self.changed.emit(name)
            elif exc is not None:
                if on_error is not None:
                    on_error(exc)
                    self.changed.emit(name)
                else:
                    self.report_failure(name, feature, what, exc)
            elif on_ok is not None:
                on_ok(current, f.result())
                self.changed.emit(name)
            else:
                self.changed.emit(name)

        self.bridge.watch(future, done)
        self.changed.emit(name)
        return True

    @staticmethod
    def _get_af(remote: RemoteCamera) -> Future[bool]:
        return remote.get_auto_focus()

    @staticmethod
    def _got_af(state: CameraControlState, enabled: bool) -> None:
        state.auto_focus = enabled

    def poll_status(self, name: str) -> bool:
        """Ask for the motors' positions (skipped while the last answer is still out)."""
        state = self._cameras.get(name)
        if state is None or not state.connected:
            return False
        caps = state.capabilities
        if not (caps.focus_status or caps.zoom_status or caps.pan_tilt_continuous):
            return False

        def got(state: CameraControlState, status: ControlStatus) -> None:
            if state.status_error is not None:
                log.info("the camera status answers again", extra={"camera": state.name})
            state.status = status
            state.status_error = None

        def failed(err: BaseException) -> None:
            # Polled every half second: report a failure once per distinct message.
            message = str(err)
            if state.status_error != message:
                log.warning("cannot read the camera status: %s", message, extra={"camera": name})
            state.status_error = message

        return self._request(
            name, "status", "read the camera status", lambda r: r.status(), got, on_error=failed
        )

    def set_auto_focus(self, name: str, enabled: bool) -> bool:
        """Switch auto-focus on or off, then read the mode back from the camera."""

        def done(state: CameraControlState, _: None) -> None:
            state.auto_focus = enabled
            log.info("auto-focus %s", "on" if enabled else "off", extra={"camera": name})
            self._request(
                name,
                "auto_focus_read",
                "read the auto-focus mode",
                self._get_af,
                self._check_af(enabled),
                feature="auto_focus",
            )

        return self._request(
            name,
            "auto_focus",
            "switch auto-focus " + ("on" if enabled else "off"),
            lambda r: r.set_auto_focus(enabled),
            done,
            feature="auto_focus",
        )

    @staticmethod
    def _check_af(wanted: bool) -> Callable[[CameraControlState, bool], None]:
        def check(state: CameraControlState, actual: bool) -> None:
            state.auto_focus = actual
            if actual != wanted:
                log.warning(
                    "the camera reports auto-focus %s after it was switched %s",
                    "on" if actual else "off",
                    "on" if wanted else "off",
                    extra={"camera": state.name},
                )

        return check

    def one_push_focus(self, name: str) -> bool:
        """Focus once automatically, then keep that focus."""

        def done(state: CameraControlState, _: None) -> None:
            state.auto_focus = False
            log.info("one-push focus done", extra={"camera": name})

        return self._request(
            name,
            "one_push",
            "one-push focus",
            lambda r: r.one_push_focus(),
            done,
            feature="one_push_focus",
        )

    def refresh_presets(self, name: str) -> bool:
        """Read the camera's presets."""

        def got(state: CameraControlState, presets: list[Preset]) -> None:
            state.presets = list(presets)

        return self._request(
            name, "presets", "read the presets", lambda r: r.presets(), got, feature="presets"
        )

    def goto_preset(self, name: str, preset: Preset) -> bool:
        """Move the camera to ``preset``."""
        log.info("going to preset %s", preset.name or preset.token, extra={"camera": name})
        # Not skipped while an earlier one is out: the camera heads for the latest.
        self._serial += 1
        return self._request(
            name,
            f"goto_preset {self._serial}",
            f"go to preset {preset.name or preset.token!r}",
            lambda r: r.goto_preset(preset.token),
            feature="presets",
        )

    def centre_on(self, name: str, x: float, y: float) -> bool:
        """Turn the camera so picture point (x, y) comes to the centre (-1..1, right/up)."""
        log.info("centring on the picture point (%+.2f, %+.2f)", x, y, extra={"camera": name})
        # Not skipped while an earlier one is out: every click is a step of its own.
        self._serial += 1
        return self._request(
            name,
            f"centre {self._serial}",
            "centre the camera on the clicked point",
            lambda r: r.centre_on(x, y),
            feature="pan_tilt_centre",
        )

    def save_preset(self, name: str, preset_name: str) -> bool:
        """Store the current position as ``preset_name`` (overwriting a preset of that name)."""
        preset_name = preset_name.strip()
        state = self._cameras.get(name)
        if state is None:
            return False
        if not preset_name:
            log.warning("a preset needs a name", extra={"camera": name})
            return False
        existing = next((p for p in state.presets if p.name == preset_name), None)
        token = existing.token if existing is not None else None

        def done(state: CameraControlState, new_token: str) -> None:
            log.info(
                "preset %r %s",
                preset_name,
                "overwritten" if token else "saved",
                extra={"camera": name},
            )
            self.refresh_presets(name)

        return self._request(
            name,
            "save_preset",
            f"save preset {preset_name!r}",
            lambda r: r.set_preset(preset_name, token),
            done,
            feature="presets",
        )

    def stop_motors(self, name: str) -> bool:
        """Stop every motor the camera has, now (the panic button)."""
        log.info("stopping every motor", extra={"camera": name})
        # Never skipped as a duplicate: every press of the panic button is sent.
        self._serial += 1
        return self._request(name, f"stop {self._serial}", "stop the motors", lambda r: r.stop())

    # -- held moves --------------------------------------------------------------------------

    def start_move(
        self,
        name: str,
        velocity: Velocity,
        *,
        lease_s: float | None,
        on_error: Callable[[ControlError], object] | None = None,
    ) -> HeldMove | None:
        """Begin a held move, or say why it cannot start (logged) and return None."""
        state = self._cameras.get(name)
        if state is None or self._closing:
            return None
        feature = state.move_feature(velocity)
        if not feature.available or state.remote is None:
            log.warning("cannot move: %s", feature.reason or NO_ONVIF, extra={"camera": name})
            return None
        return state.remote.start_move(velocity, lease_s=lease_s, on_error=on_error)

    # -- adding cameras ----------------------------------------------------------------------

    def discover_streams(
        self, host: str, port: int, user: str, password: str, *, timeout_s: float = 20.0
    ) -> Future[list[StreamProfile]]:
        """The camera's RTSP streams over ONVIF, main first (returns at once)."""
        settings = OnvifSettings(host, port, user, password, connect_timeout_s=timeout_s)
        return self.service.discover_streams(settings)
