"""The recorder's wall clock: the least-delayed recent packet dates the frames."""

from __future__ import annotations

import random

import pytest

from camwall.record.wallclock import WallClock

T0 = 1_795_000_000.0


def test_late_packets_do_not_move_the_estimate() -> None:
    """Arrivals delayed by 5-150 ms at random: every estimate after the first second is
    within the smallest delay seen, not the delay of the packet at hand."""
    rng = random.Random(3)
    now = [T0]
    clock = WallClock(lambda: now[0])
    errors = []
    for n in range(250):  # 10 s at 25 fps
        media = n / 25
        now[0] = T0 + media + rng.choice([0.005, 0.02, 0.15, 0.08])
        estimate = clock.observe(media)
        if n >= 25:
            errors.append(estimate - (T0 + media))
    assert max(errors) == pytest.approx(0.005, abs=1e-4)


def test_the_window_follows_a_drifting_camera_and_reset_forgets() -> None:
    now = [T0]
    clock = WallClock(lambda: now[0], window_s=2.0)
    for n in range(250):
        media = n / 25
        # The camera's clock runs 1 % slow against ours: 0.1 s behind after 10 s.
        now[0] = T0 + media * 1.01 + 0.01
        estimate = clock.observe(media)
    assert estimate == pytest.approx(now[0] - 0.01, abs=0.025)  # lags at most the window's drift
    clock.reset()
    now[0] = T0 + 100.0
    assert clock.observe(0.0) == pytest.approx(T0 + 100.0)  # a new stream: its own arrival
