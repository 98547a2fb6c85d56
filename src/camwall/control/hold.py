"""The dead-man switch: a held continuous move that ends by itself unless it is kept alive.

A camera that never stops moving is the worst failure of camera control, and the network,
the camera's firmware and the program holding the button can each fail. So a held move is
never "start, later stop":

* every continuous move carries a short ONVIF ``Timeout`` (``move_timeout_s``, e.g. 1 s), and
  the move is re-sent every ``resend_interval_s`` while it is held. If this process dies, the
  event loop stalls or the connection drops, the re-sends stop and the camera stops itself
  when the last timeout runs out;
* the hold also ends on its own after ``max_duration_s``, and — if the caller asked for a
  lease — when the caller has not called :meth:`HeldMove.renew` for ``lease_s`` (a frozen UI
  thread then cannot keep a camera turning);
* stopping uses ONVIF Stop, falling back to a zero-velocity move on cameras that refuse Stop
  (see :meth:`camwall.control.base.CameraControl.stop`).

ONVIF's Imaging ``Move`` (focus) has no timeout field, so for focus only the watchdogs in this
module (stop, lease, max duration, service shutdown) end the move; if the whole process is
killed mid-move, the focus motor runs to its end stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from dataclasses import dataclass

from camwall.control.base import CameraControl
from camwall.control.model import StopMethod, Velocity
from camwall.errors import (
    ControlAuthError,
    ControlError,
    ControlTimeoutError,
    ControlUnsupportedError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HoldPolicy:
    """Timing of a held move (seconds)."""

    move_timeout_s: float = 1.0
    resend_interval_s: float = 0.4
    lease_s: float | None = None
    max_duration_s: float | None = 60.0
    #: Outer bound of each move or stop sent to the camera, on top of the backend's own
    #: timeouts: whatever a camera or library does, ``started``/``finished`` resolve.
    call_deadline_s: float = 10.0

    def __post_init__(self) -> None:
        for name in (
            "move_timeout_s",
            "resend_interval_s",
            "lease_s",
            "max_duration_s",
            "call_deadline_s",
        ):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.resend_interval_s >= self.move_timeout_s:
            raise ValueError("resend_interval_s must be shorter than move_timeout_s")


class HeldMove:
    """One held move of one camera. Create anywhere; :meth:`run` on the control loop.

    ``started`` resolves to True once the camera accepted the first move (False if the hold
    was stopped before it began; an exception if the camera refused it). ``finished``
    resolves to the :class:`StopMethod` that ended the move, or the error if stopping failed.
    """

    def __init__(
        self,
        control: CameraControl,
        velocity: Velocity,
        policy: HoldPolicy,
        on_error: Callable[[ControlError], object] | None = None,
    ) -> None:
        if not velocity.axes:
            raise ValueError("a held move needs a non-zero speed on at least one axis")
        self.control = control
        self.velocity = velocity
        self.policy = policy
        self.started: Future[bool] = Future()
        self.finished: Future[StopMethod] = Future()
        self.sends = 0
        self.last_error: ControlError | None = None
        self.ended_by: str | None = None
        self._on_error = on_error
        self._renewed = time.monotonic()
        self._stop_requested = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def renew(self) -> None:
        """Keep a leased hold alive for another ``lease_s`` (any thread)."""
        self._renewed = time.monotonic()

    def request_stop(self) -> None:
        """Ask the hold to stop the camera and end (any thread; returns at once)."""
        self._stop_requested = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to wake
                loop.call_soon_threadsafe(wake.set)

    def stop(self) -> Future[StopMethod]:
        """Release the move: the camera is stopped; the future says how (any thread)."""
        self.request_stop()
        return self.finished

    @property
    def active(self) -> bool:
        """True until the hold has ended."""
        return not self.finished.done()

    async def run(self) -> None:
        """The hold's task body: re-send until told or timed out, then stop the camera."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        try:
            result = await self._hold()
        except asyncio.CancelledError:
            # Cancelled without a stop: the caller simulates or suffers a crash. The camera
            # ends the move at the last ONVIF timeout.
            self.ended_by = self.ended_by or "abandoned"
            for fut in (self.started, self.finished):
                fut.cancel()
            raise
        except ControlError as err:
            _settle(self.finished, error=err)
        else:
            _settle(self.finished, result=result)
        finally:
            _settle(self.started, result=False)
            # Only reached unsettled if a bug raised something unexpected: callers waiting on
            # ``finished`` must still learn that the hold is over.
            _settle(
                self.finished,
                error=ControlError(
                    f"{self.control.label}: the held move ended by an internal error; "
                    "the camera stops by its move timeout"
                ),
            )

    async def _hold(self) -> StopMethod:
        p = self.policy
        wake = self._wake
        assert wake is not None, "run() sets up the wake-up event first"
        begun = time.monotonic()
        while not self._stop_requested:
            now = time.monotonic()
            if p.lease_s is not None and now - self._renewed > p.lease_s:
                self.ended_by = "lease expired"
                log.warning(
                    "%s: held move not renewed for %g s; stopping it",
                    self.control.label,
                    p.lease_s,
                )
                break
            if p.max_duration_s is not None and now - begun > p.max_duration_s:
                self.ended_by = "max duration"
                log.warning(
                    "%s: held move reached its %g s limit; stopping it",
                    self.control.label,
                    p.max_duration_s,
                )
                break
            try:
                async with self._deadline("a continuous move"):
                    await self.control.continuous_move(self.velocity, p.move_timeout_s)
            except ControlError as err:
                self.last_error = err
                _settle(self.started, error=err)
                if self._on_error is not None:
                    # Scheduled, not called: a listener's exception cannot end the hold.
                    asyncio.get_running_loop().call_soon(self._on_error, err)
                if isinstance(err, ControlUnsupportedError | ControlAuthError) and self.sends == 0:
                    # Refused outright: nothing moves, and repeating will not change that.
                    self.ended_by = "refused"
                    return StopMethod.NOT_NEEDED
                # A timeout or a dropped connection: keep trying while the move is held;
                # the camera stops by itself meanwhile.
                log.info("%s: re-sending a held move failed: %s", self.control.label, err)
            else:
                self.sends += 1
                self.last_error = None
                _settle(self.started, result=True)
            left = now + p.resend_interval_s - time.monotonic()
            if left > 0 and not self._stop_requested:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(left):
                        await wake.wait()
        if self.sends == 0 and self.last_error is None and self.ended_by is None:
            self.ended_by = "stopped before start"
            return StopMethod.NOT_NEEDED
        self.ended_by = self.ended_by or "stopped"
        async with self._deadline("Stop"):
            return await self.control.stop(self.velocity.axes)

    @contextlib.asynccontextmanager
    async def _deadline(self, what: str) -> AsyncIterator[None]:
        """Bound one request by ``call_deadline_s``; past it, ControlTimeoutError."""
        limit = self.policy.call_deadline_s
        scope = asyncio.timeout(limit)
        try:
            async with scope:
                yield
        except TimeoutError as err:
            if scope.expired() and not isinstance(err, ControlError):
                raise ControlTimeoutError(
                    f"{self.control.label} did not answer {what} within {limit:g} s"
                ) from None
            raise


def _settle(
    fut: Future[bool] | Future[StopMethod],
    *,
    result: object = None,
    error: BaseException | None = None,
) -> None:
    """Resolve ``fut`` unless it already is (first outcome wins)."""
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)  # type: ignore[arg-type]
