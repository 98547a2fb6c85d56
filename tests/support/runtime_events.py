"""Collecting runtime events (or their JSON dicts) in tests and waiting for conditions on them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from camwall.runtime import RuntimeEvent


class Collector:
    """A thread-safe list of dicts (``RuntimeEvent.to_dict()`` or parsed JSON lines) with waits."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.events: list[RuntimeEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: RuntimeEvent) -> None:
        """The runtime's callback."""
        self.add(event.to_dict(), event)

    def add(self, item: dict[str, Any], event: RuntimeEvent | None = None) -> None:
        """Record one event."""
        with self._cond:
            self.items.append(item)
            if event is not None:
                self.events.append(event)
            self._cond.notify_all()

    def wait(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, after: int = 0
    ) -> dict[str, Any]:
        """The first item from index ``after`` on that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for item in self.items[after:]:
                    if predicate(item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [
                        (
                            i.get("type"),
                            i.get("camera"),
                            i.get("state") or i.get("event") or i.get("kind"),
                        )
                        for i in self.items
                    ]
                    raise AssertionError(f"no matching event within {timeout} s; seen: {seen}")
                self._cond.wait(left)

    def wait_type(
        self, event_type: str, timeout: float, after: int = 0, **fields: Any
    ) -> dict[str, Any]:
        """The first item of type ``event_type`` whose fields match ``fields``."""
        return self.wait(
            lambda i: i.get("type") == event_type and all(i.get(k) == v for k, v in fields.items()),
            timeout,
            after,
        )

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Every item of ``type`` ``kind`` so far."""
        with self._cond:
            return [i for i in self.items if i.get("type") == kind]

    def __len__(self) -> int:
        with self._cond:
            return len(self.items)
