"""Keep a flood of identical library log records from drowning everything else.

A camera whose replies zeep cannot translate makes zeep log an ERROR with a traceback for
every element of every reply, aiohttp and httpx log each dropped connection, and a wall polls
its cameras every second: the log panel fills with one message. :class:`CollapsingFilter`
lets the first record of a kind through, counts the repeats for ``window_s``, and then lets
the next one through with "(… repeated 37 times in 60 s)" added; :meth:`~CollapsingFilter.flush`
gives the counts of kinds that went quiet, for a panel to show on a timer.

A kind is (logger name, level, unformatted message, exception type): the same call site
failing the same way, whatever its arguments. Attach the filter to a handler (the log panel's,
or the root's), not to a logger: a handler filter sees records propagated from every library.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Loggers of the libraries that flood: ONVIF (zeep, onvif-zeep-async), HTTP, discovery.
LIBRARY_LOGGERS = ("zeep", "onvif", "aiohttp", "httpx", "httpcore", "urllib3", "wsdiscovery")

Kind = tuple[str, int, str, str]


@dataclass
class _Seen:
    since: float
    repeats: int = 0


class CollapsingFilter(logging.Filter):
    """Pass the first record of a kind; count its repeats for ``window_s``, then summarise.

    ``loggers`` limits the filter to records from those loggers and their children (default:
    :data:`LIBRARY_LOGGERS`; an empty tuple: every record). Thread-safe.
    """

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        loggers: Iterable[str] = LIBRARY_LOGGERS,
        max_kinds: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if not window_s > 0:
            raise ValueError(f"window_s must be positive, got {window_s!r}")
        self.window_s = window_s
        self.loggers = tuple(loggers)
        self.max_kinds = max_kinds
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[Kind, _Seen] = OrderedDict()
        self.suppressed = 0

    def _applies(self, name: str) -> bool:
        return not self.loggers or any(
            name == prefix or name.startswith(prefix + ".") for prefix in self.loggers
        )

    def filter(self, record: logging.LogRecord) -> bool:
        """True for the first record of a kind in a window; False (counted) for repeats."""
        if not self._applies(record.name):
            return True
        exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind: Kind = (record.name, record.levelno, str(record.msg), exc)
        now = self._clock()
        with self._lock:
            seen = self._seen.get(kind)
            if seen is not None and now - seen.since < self.window_s:
                seen.repeats += 1
                self.suppressed += 1
                return False
            self._seen[kind] = _Seen(now)
            self._seen.move_to_end(kind)
            while len(self._seen) > self.max_kinds:
                self._seen.popitem(last=False)
        if seen is not None and seen.repeats:
            # The message is formatted with record.args later: keep the suffix free of "%".
            record.msg = (
                f"{record.msg} (… repeated {_times(seen.repeats)} in {self._span(seen, now)})"
            )
        return True

    def flush(self) -> list[logging.LogRecord]:
        """A summary record for each kind whose window ended with repeats not yet reported.

        Call it on a timer (e.g. every few seconds from the log panel) and handle the
        records like any other; kinds still inside their window are left to count on.
        """
        now = self._clock()
        out = []
        with self._lock:
            for kind, seen in list(self._seen.items()):
                if seen.repeats and now - seen.since >= self.window_s:
                    name, level, msg, _ = kind
                    out.append(
                        logging.makeLogRecord(
                            {
                                "name": name,
                                "levelno": level,
                                "levelname": logging.getLevelName(level),
                                "msg": "… repeated %s in %s: %s",
                                "args": (_times(seen.repeats), self._span(seen, now), msg),
                            }
                        )
                    )
                    del self._seen[kind]
        return out

    def _span(self, seen: _Seen, now: float) -> str:
        return f"{min(now - seen.since, self.window_s):.0f} s"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def collapse_library_records(
    handler: logging.Handler, *, window_s: float = 60.0
) -> CollapsingFilter:
    """Attach a :class:`CollapsingFilter` for the flooding libraries to ``handler`` (once)."""
    for existing in handler.filters:
        if isinstance(existing, CollapsingFilter):
            return existing
    flt = CollapsingFilter(window_s=window_s)
    handler.addFilter(flt)
    return flt
