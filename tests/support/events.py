"""Collecting capture events in tests and waiting for conditions on them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from camwall.capture import CameraState, CaptureEvent, RingEvent, StateEvent, StatsEvent


class EventLog:
    """A thread-safe list of capture events with waits (the supervisor calls it from its thread)."""

    def __init__(self) -> None:
        self.events: list[CaptureEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: CaptureEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[CaptureEvent], bool], timeout: float, after: int = 0
    ) -> CaptureEvent:
        """The first event from index ``after`` on that satisfies ``predicate``; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events[after:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    states = [
                        (e.camera, str(e.state), e.reason)
                        for e in self.events
                        if isinstance(e, StateEvent)
                    ]
                    raise AssertionError(
                        f"no matching event within {timeout} s; states so far: {states}"
                    )
                self._cond.wait(left)

    def wait_state(
        self, camera: str, state: CameraState, timeout: float, after: int = 0
    ) -> StateEvent:
        """Wait for camera to enter state."""
        event = self.wait_for(
            lambda e: isinstance(e, StateEvent) and e.camera == camera and e.state is state,
            timeout,
            after,
        )
        assert isinstance(event, StateEvent)
        return event

    def ring(self, camera: str, timeout: float = 10.0, after: int = 0) -> RingEvent:
        """Wait for the camera's ring announcement."""
        event = self.wait_for(
            lambda e: isinstance(e, RingEvent) and e.camera == camera, timeout, after
        )
        assert isinstance(event, RingEvent)
        return event

    def stats(self, camera: str, timeout: float = 10.0, after: int = 0) -> StatsEvent:
        """Wait for a stats event of the camera."""
        event = self.wait_for(
            lambda e: isinstance(e, StatsEvent) and e.camera == camera, timeout, after
        )
        assert isinstance(event, StatsEvent)
        return event

    def states(self, camera: str) -> list[CameraState]:
        """The camera's states in order."""
        with self._cond:
            return [
                e.state for e in self.events if isinstance(e, StateEvent) and e.camera == camera
            ]

    def __len__(self) -> int:
        with self._cond:
            return len(self.events)
