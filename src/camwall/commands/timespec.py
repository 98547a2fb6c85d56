"""Times on the command line: ISO 8601 with a zone (or ``Z``), or local time without one."""

from __future__ import annotations

from datetime import datetime


class BadTime(ValueError):
    """A time the user typed that is not ISO 8601; the message shows the accepted forms."""


def parse_time(text: str, option: str) -> float:
    """``text`` as epoch seconds; a time without a zone is local time. BadTime if invalid."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadTime(
            f"{option} {text!r} is not a time; use ISO 8601, e.g. 2026-11-26T02:14:00Z, "
            "2026-11-26T03:14:00+01:00 or 2026-11-26T02:14 (local time)"
        ) from None
    # A naive datetime's timestamp() is taken as local time, as documented.
    return moment.timestamp()


def time_range(start: str | None, end: str | None) -> tuple[float | None, float | None]:
    """``--from``/``--to`` as epoch seconds (None where not given); BadTime if invalid."""
    t0 = None if start is None else parse_time(start, "--from")
    t1 = None if end is None else parse_time(end, "--to")
    if t0 is not None and t1 is not None and t1 <= t0:
        raise BadTime(f"--to {end!r} is not after --from {start!r}")
    return t0, t1
