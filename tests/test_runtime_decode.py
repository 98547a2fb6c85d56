"""The decode budget's choices: priorities, the CPU budget, hysteresis (pure logic)."""

from __future__ import annotations

from camwall.runtime.decode import DecodeController, DecodePolicy, Demand, Load

FULL, KEY, PAUSED = DecodePolicy.FULL, DecodePolicy.KEYFRAMES, DecodePolicy.PAUSED


def cams(n: int) -> list[str]:
    return [f"cam{i:02d}" for i in range(n)]


def run(
    ctl: DecodeController,
    demands: dict[str, Demand],
    seconds: float,
    *,
    start: float = 0.0,
    ms: float = 8.0,
    cpu: float | None = None,
) -> float:
    """Feed the controller once a second for ``seconds``; returns the time reached."""
    now = start
    while now <= start + seconds:
        loads = {n: Load(decode_ms=ms, fps_in=25.0, gop_s=1.0) for n in demands}
        ctl.update(now, demands, loads, cpu)
        now += 1.0
    return now


def policies(ctl: DecodeController) -> dict[str, DecodePolicy]:
    return {d.camera: d.policy for d in ctl.decisions()}


def test_sixteen_cameras_on_two_cores_focused_full_the_rest_within_budget() -> None:
    ctl = DecodeController(cores=2.0)
    names = cams(16)
    demands = {n: Demand(visible=True) for n in names}
    demands["cam05"] = Demand(visible=True, focused=True)
    run(ctl, demands, 10)
    got = policies(ctl)
    assert got["cam05"] is FULL
    full = [n for n, p in got.items() if p is FULL]
    # 8 ms × 25 fps = 0.2 cores per full camera; 1.5 cores of budget: ~7 of them.
    assert 4 <= len(full) <= 7, got
    assert all(p in (FULL, KEY) for p in got.values())
    cost = sum(0.2 if p is FULL else 0.024 for p in got.values())
    assert cost <= 2.0 * 0.75 + 1e-9


def test_hidden_cameras_pause_unless_detection_needs_their_frames() -> None:
    ctl = DecodeController(cores=2.0)
    demands = {
        "shown": Demand(visible=True),
        "hidden": Demand(visible=False),
        "hidden-detect": Demand(visible=False, detecting=True),
    }
    run(ctl, demands, 5)
    got = policies(ctl)
    assert got == {"shown": FULL, "hidden": PAUSED, "hidden-detect": FULL}


def test_events_come_before_plain_visible_cameras() -> None:
    ctl = DecodeController(cores=1.0)  # 0.75 cores: three full cameras at most
    names = cams(8)
    demands = {n: Demand(visible=True) for n in names}
    demands["cam07"] = Demand(visible=True, active=True)
    run(ctl, demands, 10)
    assert policies(ctl)["cam07"] is FULL


def test_the_focused_camera_stays_full_under_any_overload() -> None:
    ctl = DecodeController(cores=2.0)
    demands = {n: Demand(visible=True) for n in cams(6)}
    demands["cam00"] = Demand(focused=True)
    run(ctl, demands, 30, cpu=1.0, ms=40.0)
    got = policies(ctl)
    assert got["cam00"] is FULL
    assert all(p is KEY for n, p in got.items() if n != "cam00")


def test_no_flapping_when_the_load_hovers_at_the_limit() -> None:
    ctl = DecodeController(cores=2.0)
    demands = {n: Demand(visible=True) for n in cams(10)}
    now = run(ctl, demands, 10)
    changes = 0
    for second in range(60):
        cpu = 0.95 if second % 2 else 0.6  # alternates across the overload line each second
        loads = {n: Load(decode_ms=8.0, fps_in=25.0, gop_s=1.0) for n in demands}
        changes += len(ctl.update(now + second, demands, loads, cpu))
    assert changes <= 10, changes  # one settling move per camera at most, not one a second


def test_cameras_come_back_to_full_when_the_load_drops_and_only_after_it_held() -> None:
    ctl = DecodeController(cores=2.0)
    demands = {n: Demand(visible=True) for n in cams(12)}
    now = run(ctl, demands, 10, ms=20.0)  # 0.5 cores each: one full camera fits at most
    assert sum(p is FULL for p in policies(ctl).values()) <= 3
    # Decoding gets cheap (e.g. a smaller stream): upgrades, but not in the first second.
    loads = {n: Load(decode_ms=2.0, fps_in=25.0, gop_s=1.0) for n in demands}
    # Measured costs only update for cameras in that policy; keyframe-only ones are estimated
    # from the full ones, so several rounds are needed: none may upgrade at once.
    first = ctl.update(now, demands, loads, 0.3)
    assert all(d.policy is not FULL for d in first)
    for second in range(1, 30):
        ctl.update(now + second, demands, loads, 0.3)
    assert sum(p is FULL for p in policies(ctl).values()) >= 8


def test_switched_off_everything_decodes_in_full() -> None:
    ctl = DecodeController(cores=2.0, enabled=False)
    demands = {n: Demand(visible=n != "cam01") for n in cams(16)}
    run(ctl, demands, 3, cpu=1.0)
    assert set(policies(ctl).values()) == {FULL}


def test_badges_say_why() -> None:
    ctl = DecodeController(cores=0.5)
    demands = {"a": Demand(visible=True), "b": Demand(visible=False), "c": Demand(focused=True)}
    run(ctl, demands, 5, ms=20.0)
    badges = {d.camera: d.badge for d in ctl.decisions()}
    assert badges["c"] == "" and badges["b"] == "paused"
    assert badges["a"] == "keyframes only (CPU)"
