"""The one backoff policy: how long to wait before trying again, for every retry in camwall.

Capture workers use it between reconnection attempts; the child-process helper
(:mod:`camwall.childproc`) between restarts of a worker process that died.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with jitter between attempts."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 15.0
    #: Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter] so that many
    #: cameras behind one failed switch do not reconnect in lockstep.
    jitter: float = 0.2
    #: Delay between attempts for errors retrying cannot fix (401, 404, bad URL).
    failed_s: float = 30.0
    #: A connection (or process) that ran at least this long resets the attempt counter.
    healthy_s: float = 10.0

    def delay(
        self, attempt: int, *, failed: bool = False, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before attempt number ``attempt + 1`` (attempt ≥ 1)."""
        base = (
            self.failed_s
            if failed
            else min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1))
        )
        spread = (rng or random).uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        return max(0.0, base * (1.0 + spread))


__all__ = ["BackoffPolicy"]
