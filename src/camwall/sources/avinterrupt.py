"""Making a blocking FFmpeg open/read give up on demand, from another thread or a deadline.

FFmpeg polls an *interrupt callback* while it waits on a socket (about every 100 ms); when
the callback says "stop", the blocking call returns ``AVERROR_EXIT``. PyAV installs that
callback when ``av.open(..., timeout=...)`` is used, but only offers a fixed per-call
timeout: nothing can tell a read that is already blocked to stop *now* (closing the
container from another thread while FFmpeg is inside it is a use-after-free, not an option).

PyAV's callback decides by comparing ``time.monotonic()`` — looked up on the module
``av.container.core`` at each call — with the start of the current operation. This module
replaces that module's ``time`` with a clock that runs like ``time.monotonic`` except on a
thread inside :func:`abortable` whose check says "abort": there it jumps far ahead, so the
callback sees its timeout expired and FFmpeg returns within one poll interval. Other threads
and other containers see the real clock. The jump only ever grows, so PyAV's "clock went
backwards" guard never fires.

If a future PyAV stops looking up ``time`` this way, :func:`install` returns False and the
sources fall back to PyAV's own timeouts (a stop then takes up to the read timeout); the
interrupt test in ``tests/test_sources_pyav.py`` notices.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import types
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

AbortCheck = Callable[[], bool]

_checks: dict[int, AbortCheck] = {}
_lock = threading.Lock()
_installed: bool | None = None
#: Seconds added per clock reading while aborting; far beyond any timeout PyAV is given.
_JUMP_S = 1e6


class _AbortableClock:
    """Stands in for the ``time`` module inside ``av.container.core``."""

    def __init__(self, real: types.ModuleType) -> None:
        self._real = real
        self._jump = 0.0

    def monotonic(self) -> float:
        """The real monotonic clock, unless this thread's abort check says to give up."""
        check = _checks.get(threading.get_ident())
        if check is not None and check():
            # Grows on every reading, so "now" is always past any start PyAV recorded.
            self._jump += _JUMP_S
            return float(self._real.monotonic() + self._jump)
        return float(self._real.monotonic())

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


def install() -> bool:
    """Put the abortable clock into PyAV (once per process); False if PyAV has no seam."""
    global _installed
    with _lock:
        if _installed is not None:
            return _installed
        try:
            import av.container.core as core
        except ImportError:  # pragma: no cover - av is a hard dependency
            _installed = False
            return False
        current = getattr(core, "time", None)
        if isinstance(current, _AbortableClock):
            _installed = True
        elif current is time:
            core.time = _AbortableClock(time)  # type: ignore[attr-defined]
            _installed = True
        else:
            log.warning(
                "PyAV %s has no interrupt seam; stopping a camera may take up to its read timeout",
                getattr(core, "__name__", "?"),
            )
            _installed = False
        return _installed


@contextlib.contextmanager
def abortable(check: AbortCheck) -> Iterator[None]:
    """While inside, FFmpeg I/O of PyAV containers on this thread stops once ``check()`` is True.

    ``check`` runs on this thread, with the GIL, every time FFmpeg polls (≈10 per second while
    blocked, more often while data flows): keep it cheap and make its answer sticky (once
    True, stay True until the blocked call returned).
    """
    install()
    ident = threading.get_ident()
    previous = _checks.get(ident)
    _checks[ident] = check
    try:
        yield
    finally:
        if previous is None:
            _checks.pop(ident, None)
        else:
            _checks[ident] = previous
