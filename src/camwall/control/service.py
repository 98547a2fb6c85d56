"""ControlService: camera control off the caller's thread, on one event loop it owns.

The UI never waits for a camera. Every request returns a :class:`concurrent.futures.Future`
at once; the network work happens on the service's asyncio loop in its own thread. Results
arrive through the future (``add_done_callback``, or a ``callback=`` argument — both run on
the service thread, so a Qt UI hands them to its thread with a queued signal).

::

    service = ControlService().start()
    cam = service.open_onvif(OnvifSettings("192.0.2.10", 80, "admin", password))
    cam.connected.add_done_callback(lambda f: ...)      # Capabilities, or the login error
    hold = cam.start_move(Velocity(zoom=0.5))           # button pressed
    hold.stop()                                         # button released
    service.stop()                                      # stops moving cameras, joins the thread
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Any, TypeVar

from camwall.backoff import BackoffPolicy
from camwall.control.base import CameraControl
from camwall.control.hold import HeldMove, HoldPolicy
from camwall.control.model import (
    Axis,
    Capabilities,
    ControlState,
    ControlStatus,
    DeviceInfo,
    OnvifSettings,
    Preset,
    StopMethod,
    StreamProfile,
    Velocity,
)
from camwall.errors import (
    ControlAuthError,
    ControlError,
    ControlTimeoutError,
    ControlUnsupportedError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
ALL_AXES = frozenset(Axis)


async def _bounded(coro: Awaitable[T], timeout_s: float | None) -> T:
    """Await ``coro``; past ``timeout_s`` cancel it and raise ControlTimeoutError."""
    if timeout_s is None:
        return await coro
    scope = asyncio.timeout(timeout_s)
    try:
        async with scope:
            return await coro
    except TimeoutError:
        if scope.expired():
            raise ControlTimeoutError(
                f"the control request did not finish within {timeout_s:g} s"
            ) from None
        raise


#: Connection attempts (login, service discovery, capability probing) before giving up.
CONNECT_ATTEMPTS = 3


def connect_backoff() -> BackoffPolicy:
    """The delays between connection attempts: camwall's one backoff policy, tuned for control."""
    return BackoffPolicy(initial_s=1.0, factor=2.0, max_s=10.0)


class ControlService:
    """Owns the control thread and its event loop; :meth:`start` it, :meth:`stop` it."""

    def __init__(self, *, name: str = "camwall-control") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._cameras: list[RemoteCamera] = []

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> ControlService:
        """Start the control thread (returns once its loop runs)."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("the control service is already running")
            loop = asyncio.new_event_loop()
            running = threading.Event()
            loop.call_soon(running.set)
            # Daemon only as a last resort: stop() is the owner's way to end it; a forgotten
            # service must not hang interpreter exit (cameras stop by their move timeout).
            thread = threading.Thread(target=self._run, args=(loop,), name=self._name, daemon=True)
            thread.start()
            running.wait()
            self._loop, self._thread, self._accepting = loop, thread, True
        return self

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def stop(self, *, stop_moves: bool = True, timeout_s: float = 15.0) -> None:
        """Stop every held move (unless ``stop_moves`` is False), close cameras, end the thread.

        Blocks for at most about ``timeout_s``. ``stop_moves=False`` abandons held moves
        without sending Stop, as a crash would; the cameras then stop by their ONVIF timeout.
        """
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None or not self._accepting:
                return
            if threading.current_thread() is thread:
                raise RuntimeError("ControlService.stop() called from its own thread")
            self._accepting = False
            cameras, self._cameras = self._cameras, []
        done = asyncio.run_coroutine_threadsafe(self._shutdown(cameras, stop_moves), loop)
        try:
            done.result(timeout_s)
        except FutureTimeoutError:
            log.warning("control service: shutdown took over %.0f s; abandoning it", timeout_s)
            done.cancel()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        if thread.is_alive():
            log.error("control service thread did not end within %.0f s", timeout_s)
        with self._lock:
            self._loop = self._thread = None

    async def _shutdown(self, cameras: list[RemoteCamera], stop_moves: bool) -> None:
        await asyncio.gather(*(c._shutdown(stop_moves) for c in cameras), return_exceptions=True)
        me = asyncio.current_task()
        rest = [t for t in asyncio.all_tasks() if t is not me]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._accepting

    def __enter__(self) -> ControlService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # requests --------------------------------------------------------------------------
    def submit(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        timeout_s: float | None = None,
        callback: Callable[[Future[T]], object] | None = None,
    ) -> Future[T]:
        """Run ``coro`` on the control loop; returns at once with its future.

        Past ``timeout_s`` the coroutine is cancelled and the future raises
        ControlTimeoutError. ``callback(future)`` runs on the control thread when it is done.
        """
        with self._lock:
            loop = self._loop
            if loop is None or not self._accepting:
                coro.close()
                raise RuntimeError("the control service is not running; call start() first")
            fut = asyncio.run_coroutine_threadsafe(_bounded(coro, timeout_s), loop)
        if callback is not None:
            fut.add_done_callback(callback)
        return fut

    def open(
        self,
        control: CameraControl,
        *,
        policy: HoldPolicy | None = None,
        on_capabilities: Callable[[Capabilities], object] | None = None,
        attempts: int = CONNECT_ATTEMPTS,
        backoff: BackoffPolicy | None = None,
    ) -> RemoteCamera:
        """Start connecting ``control`` and return its thread-safe handle at once.

        A failed attempt that retrying may fix is retried ``attempts - 1`` times after the
        ``backoff`` delays (default :func:`connect_backoff`); then the camera is FAILED.
        """
        camera = RemoteCamera(
            self, control, policy or HoldPolicy(), on_capabilities, attempts, backoff
        )
        with self._lock:
            if not self._accepting:
                raise RuntimeError("the control service is not running; call start() first")
            self._cameras.append(camera)
        camera.connect()
        return camera

    def open_onvif(
        self,
        settings: OnvifSettings,
        *,
        on_capabilities: Callable[[Capabilities], object] | None = None,
        attempts: int = CONNECT_ATTEMPTS,
        backoff: BackoffPolicy | None = None,
    ) -> RemoteCamera:
        """Start connecting an ONVIF camera; the handle's ``connected`` future says how it went.

        The future resolves within about ``attempts × connect_timeout_s`` plus the backoff
        delays: to the capabilities, or to the last attempt's ControlError.
        """
        from camwall.control.onvif.client import OnvifCameraControl

        policy = HoldPolicy(
            move_timeout_s=settings.move_timeout_s,
            resend_interval_s=settings.resend_interval_s,
            # A stop may take four calls (PTZ and focus, each Stop then a zero-velocity
            # move); the backend bounds each, this bounds them all.
            call_deadline_s=4 * settings.call_timeout_s + 1.0,
        )
        return self.open(
            OnvifCameraControl(settings),
            policy=policy,
            on_capabilities=on_capabilities,
            attempts=attempts,
            backoff=backoff,
        )

    def discover_streams(self, settings: OnvifSettings) -> Future[list[StreamProfile]]:
        """The camera's RTSP streams (main first), found over ONVIF; returns at once."""
        from camwall.control.onvif.discover import discover_streams_async

        return self.submit(discover_streams_async(settings))

    def _forget(self, camera: RemoteCamera) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._cameras.remove(camera)


class RemoteCamera:
    """A camera driven from any thread; every method returns immediately with a future.

    Connecting retries failures that may pass (timeouts, refused connections, garbled
    replies) with backoff, then ends FAILED; a refused login ends FAILED and a camera without
    a usable ONVIF service UNSUPPORTED at once (see :attr:`state`). Never "connecting…"
    for longer than the attempts take.

    Calls made before the camera is connected wait for the connection. After a failed
    connection a call tries again, at most every ``retry_after_s`` — except after a login
    failure or an unsupported camera, which only :meth:`connect` retries (repeated bad
    logins lock some cameras).
    """

    retry_after_s = 5.0
    backstop_s = 120.0  # outer bound of any one request, on top of the per-call timeouts

    def __init__(
        self,
        service: ControlService,
        control: CameraControl,
        policy: HoldPolicy,
        on_capabilities: Callable[[Capabilities], object] | None = None,
        attempts: int = CONNECT_ATTEMPTS,
        backoff: BackoffPolicy | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        self._service = service
        self.control = control
        self.policy = policy
        self.attempts = attempts
        self.backoff = backoff or connect_backoff()
        self._on_capabilities = on_capabilities
        self._state = ControlState.CONNECTING
        self._caps = Capabilities.none("connecting…")
        self._is_connected = False
        self._last_error: ControlError | None = None
        self._last_attempt = float("-inf")
        self._connect_task: asyncio.Task[Capabilities] | None = None
        self._holds: dict[HeldMove, asyncio.Task[None]] = {}
        self._current: HeldMove | None = None
        self.connected: Future[Capabilities] = Future()

    @property
    def label(self) -> str:
        """host:port of the camera."""
        return self.control.label

    @property
    def capabilities(self) -> Capabilities:
        """What the camera offers now; while not connected, every feature says why."""
        return self._caps

    @property
    def state(self) -> ControlState:
        """Connecting, retrying, connected, failed, unsupported or closed."""
        return self._state

    @property
    def last_error(self) -> ControlError | None:
        """Why the last connection attempt failed (None after a success)."""
        return self._last_error

    def _set_caps(self, caps: Capabilities, state: ControlState | None = None) -> None:
        if state is not None:
            self._state = state
        self._caps = caps
        if self._on_capabilities is not None:
            # Scheduled, not called: a listener's exception is logged by the loop and
            # cannot break the connection logic.
            asyncio.get_running_loop().call_soon(self._on_capabilities, caps)

    # connection ------------------------------------------------------------------------
    def connect(self) -> Future[Capabilities]:
        """(Re)connect now, also after a login failure; the future gives the capabilities.

        The future also becomes :attr:`connected` (the latest connection attempt).
        """
        self.connected = self._service.submit(self._connect_now(force=True))
        return self.connected

    async def _connect_now(self, *, force: bool) -> Capabilities:
        task = self._connect_task
        if task is None or task.done():
            if not force and self._is_connected:
                return self._caps
            task = asyncio.get_running_loop().create_task(self._do_connect())
            task.add_done_callback(_retrieve)
            self._connect_task = task
        return await asyncio.shield(task)

    async def _do_connect(self) -> Capabilities:
        self._last_attempt = time.monotonic()
        self._is_connected = False
        try:
            return await self._attempts()
        finally:
            # Whatever ended the attempts (a bug, a cancellation), the camera must not stay
            # "connecting…": the UI would wait for it forever.
            if self._state in (ControlState.CONNECTING, ControlState.RETRYING):
                self._set_caps(
                    Capabilities.none("connecting was interrupted; connect again to retry"),
                    ControlState.FAILED,
                )

    async def _attempts(self) -> Capabilities:
        for attempt in range(1, self.attempts + 1):
            reason = "connecting…" if attempt == 1 else f"connecting… (attempt {attempt})"
            self._set_caps(Capabilities.none(reason), ControlState.CONNECTING)
            try:
                caps = await self.control.connect()
            except ControlError as err:
                self._last_error = err
                final = isinstance(err, ControlAuthError | ControlUnsupportedError)
                if final or attempt == self.attempts:
                    state = (
                        ControlState.UNSUPPORTED
                        if isinstance(err, ControlUnsupportedError)
                        else ControlState.FAILED
                    )
                    self._set_caps(Capabilities.none(str(err)), state)
                    log.warning(
                        "camera control: %s (gave up after %d attempt%s)",
                        err,
                        attempt,
                        "" if attempt == 1 else "s",
                    )
                    raise
                delay = self.backoff.delay(attempt)
                self._set_caps(
                    Capabilities.none(f"{err} — trying again in {delay:.0f} s"),
                    ControlState.RETRYING,
                )
                log.info("camera control: %s; attempt %d in %.1f s", err, attempt + 1, delay)
                await asyncio.sleep(delay)
                continue
            self._last_error = None
            self._is_connected = True
            self._set_caps(caps, ControlState.CONNECTED)
            return caps
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _ensure_connected(self) -> None:
        if self._is_connected:
            return
        task = self._connect_task
        if task is None or task.done():
            err = self._last_error
            too_soon = time.monotonic() - self._last_attempt < self.retry_after_s
            final = isinstance(err, ControlAuthError | ControlUnsupportedError)
            if err is not None and (final or too_soon):
                raise type(err)(str(err))
        await self._connect_now(force=False)

    # requests --------------------------------------------------------------------------
    def call(
        self,
        fn: Callable[[CameraControl], Awaitable[T]],
        *,
        timeout_s: float | None = None,
        callback: Callable[[Future[T]], object] | None = None,
    ) -> Future[T]:
        """Run ``fn(control)`` on the control loop once connected; returns at once."""

        async def run() -> T:
            await self._ensure_connected()
            return await fn(self.control)

        return self._service.submit(
            run(), timeout_s=timeout_s or self.backstop_s, callback=callback
        )

    def device_info(self) -> Future[DeviceInfo]:
        """Manufacturer, model, firmware."""
        return self.call(lambda c: c.device_info())

    def stream_profiles(self) -> Future[list[StreamProfile]]:
        """RTSP URIs of the camera's profiles, main stream first."""
        return self.call(lambda c: c.stream_profiles())

    def status(self) -> Future[ControlStatus]:
        """Focus/zoom/pan/tilt positions and move states."""
        return self.call(lambda c: c.status())

    def focus_absolute(self, position: float, speed: float | None = None) -> Future[None]:
        """Move focus to a position (see capabilities.focus_position_range)."""
        return self.call(lambda c: c.focus_absolute(position, speed))

    def focus_relative(self, distance: float, speed: float | None = None) -> Future[None]:
        """Move focus by a distance (negative: nearer)."""
        return self.call(lambda c: c.focus_relative(distance, speed))

    def get_auto_focus(self) -> Future[bool]:
        """Whether auto-focus is on."""
        return self.call(lambda c: c.get_auto_focus())

    def set_auto_focus(self, enabled: bool) -> Future[None]:
        """Switch auto-focus on or off."""
        return self.call(lambda c: c.set_auto_focus(enabled))

    def one_push_focus(self) -> Future[None]:
        """Focus automatically once, then hold that focus."""
        return self.call(lambda c: c.one_push_focus())

    def zoom_absolute(self, position: float, speed: float | None = None) -> Future[None]:
        """Move zoom to a position (see capabilities.zoom_position_range)."""
        return self.call(lambda c: c.zoom_absolute(position, speed))

    def centre_on(self, x: float, y: float, speed: float | None = None) -> Future[None]:
        """Turn so that picture point (x, y) comes to the centre (-1..1 from it, right/up)."""
        return self.call(lambda c: c.centre_on(x, y, speed))

    def presets(self) -> Future[list[Preset]]:
        """The stored PTZ presets."""
        return self.call(lambda c: c.presets())

    def goto_preset(self, token: str, speed: float | None = None) -> Future[None]:
        """Move to a stored preset."""
        return self.call(lambda c: c.goto_preset(token, speed))

    def set_preset(self, name: str, token: str | None = None) -> Future[str]:
        """Store the current position as a preset; its token."""
        return self.call(lambda c: c.set_preset(name, token))

    # moves -----------------------------------------------------------------------------
    def start_move(
        self,
        velocity: Velocity,
        *,
        lease_s: float | None = None,
        max_duration_s: float | None = 60.0,
        on_error: Callable[[ControlError], object] | None = None,
    ) -> HeldMove:
        """Begin a held continuous move (a button pressed); returns its handle at once.

        The move is re-sent with a short ONVIF timeout until ``handle.stop()``, until
        ``max_duration_s`` passes, or — with ``lease_s`` — until the caller has not called
        ``handle.renew()`` for that long. A new move replaces (stops) the previous one.
        """
        policy = dataclasses.replace(self.policy, lease_s=lease_s, max_duration_s=max_duration_s)
        hold = HeldMove(self.control, velocity, policy, on_error)
        self._service.submit(self._run_hold(hold))
        return hold

    async def _run_hold(self, hold: HeldMove) -> None:
        task = asyncio.current_task()
        assert task is not None
        previous, self._current = self._current, hold
        self._holds[hold] = task
        try:
            if previous is not None and previous.active:
                previous.request_stop()
                prev_task = self._holds.get(previous)
                if prev_task is not None:
                    await asyncio.wait([prev_task])
            try:
                await self._ensure_connected()
            except ControlError as err:
                for fut in (hold.started, hold.finished):
                    if not fut.done():
                        fut.set_exception(err)
                return
            await hold.run()
        except asyncio.CancelledError:
            hold.started.cancel()
            hold.finished.cancel()
            raise
        finally:
            # Never leave a caller waiting on a hold that did not run to its end.
            for fut in (hold.started, hold.finished):
                if not fut.done():
                    fut.set_exception(
                        ControlError(f"{self.label}: the held move ended by an internal error")
                    )
            self._holds.pop(hold, None)
            if self._current is hold:
                self._current = None

    def stop(self, axes: frozenset[Axis] = ALL_AXES) -> Future[StopMethod]:
        """Stop the held move and send Stop for ``axes`` the camera has (e.g. a panic button)."""

        async def run(control: CameraControl) -> StopMethod:
            current = self._current
            if current is not None:
                current.request_stop()
                task = self._holds.get(current)
                if task is not None:
                    await asyncio.wait([task])
            caps = control.capabilities
            present = set()
            if caps.pan_tilt_continuous:
                present |= {Axis.PAN, Axis.TILT}
            if caps.zoom_continuous:
                present.add(Axis.ZOOM)
            if caps.focus_continuous:
                present.add(Axis.FOCUS)
            return await control.stop(frozenset(axes & present))

        return self.call(run)

    # shutdown --------------------------------------------------------------------------
    def close(self) -> Future[None]:
        """Stop its moves, close the connection and forget this camera."""
        self._service._forget(self)
        return self._service.submit(self._shutdown(stop_moves=True))

    async def _shutdown(self, stop_moves: bool) -> None:
        for hold, task in list(self._holds.items()):
            if stop_moves and hold.active:
                hold.request_stop()
            else:
                task.cancel()
        tasks = list(self._holds.values())
        if tasks:
            await asyncio.wait(tasks)
        if self._connect_task is not None and not self._connect_task.done():
            # A login cancelled half-way closes what it opened (OnvifCameraControl.connect).
            self._connect_task.cancel()
            await asyncio.wait([self._connect_task])
        self._is_connected = False
        await self.control.close()
        self._caps = Capabilities.none("camera control was shut down")
        self._state = ControlState.CLOSED


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a shared task's outcome as seen (its awaiters report it)."""
    if not task.cancelled():
        task.exception()
