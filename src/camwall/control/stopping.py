"""Stopping a motor on cameras whose firmware refuses the ONVIF Stop operation.

Some cameras answer Stop with a SOAP fault (for an axis they lack, for a Stop without
explicit axes, or always). A zero-velocity continuous move stops them instead. A camera that
refused Stop once is remembered, so the next stop goes straight to what works.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from camwall.errors import (
    ControlAuthError,
    ControlConnectionError,
    ControlError,
    ControlTimeoutError,
)

log = logging.getLogger(__name__)

# Errors that mean "the device did not answer", not "the device refused Stop".
_NOT_A_REFUSAL = (ControlTimeoutError, ControlConnectionError, ControlAuthError)


async def stop_with_fallback(
    label: str,
    what: str,
    stop: Callable[[], Awaitable[None]],
    zero: Callable[[], Awaitable[None]],
    *,
    refused_before: bool,
    self_stop_note: str = "",
) -> bool:
    """Run ``stop`` (Stop), falling back to ``zero`` (a zero-velocity move); or the reverse.

    Returns whether the camera refuses Stop (True when the zero-velocity move did the job),
    for the caller to pass as ``refused_before`` next time. Raises ControlError only if
    both ways fail; ``self_stop_note`` then tells what the camera will do by itself.
    """
    order = [(False, stop), (True, zero)]
    if refused_before:
        order.reverse()
    failures = []
    for is_zero, attempt in order:
        try:
            await attempt()
        except ControlError as err:
            failures.append(f"{'zero-velocity move' if is_zero else 'Stop'}: {err}")
            if not is_zero and not isinstance(err, _NOT_A_REFUSAL):
                log.warning("%s; stopping %s with a zero-velocity move instead", err, what)
            continue
        return is_zero
    raise ControlError(f"{label}: could not stop {what}: " + "; ".join(failures) + self_stop_note)
