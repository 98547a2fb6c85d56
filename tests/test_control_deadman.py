"""The camera must never keep moving: Stop fallbacks, move timeouts, the dead-man switch."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from camwall.control import (
    ControlService,
    OnvifSettings,
    StopMethod,
    Velocity,
)
from camwall.errors import ControlError
from fixtures.onvif import WAIT, open_connected
from support.onvif_sim import OnvifSimulator, parse_duration


def moving(sim: OnvifSimulator, axis: str) -> bool:
    return sim.snapshot()[axis][1]


def ptz_moves_carry_timeouts(sim: OnvifSimulator) -> None:
    moves = sim.received("ContinuousMove")
    assert moves, "no continuous move reached the camera"
    assert all(m.has_timeout for m in moves), [m.timeout for m in moves]


def test_camera_refusing_stop_is_stopped_by_a_zero_velocity_move(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(reject_stop=True)
    # A long move timeout: if the camera stops at once, only the fallback can have done it.
    cam = open_connected(control_service, onvif_settings(sim, move_timeout_s=5.0))
    hold = cam.start_move(Velocity(zoom=0.6))
    assert hold.started.result(WAIT)
    assert sim.wait_until(lambda: sim.snapshot()["zoom"][0] > 0.05)
    assert hold.stop().result(WAIT) is StopMethod.ZERO_VELOCITY
    assert not moving(sim, "zoom")
    ops = sim.operations("ptz")
    assert ops[-2:] == ["Stop", "ContinuousMove"]
    zero = sim.received("ContinuousMove")[-1]
    assert zero.params["Zoom"] == "" and zero.has_timeout

    # The camera is remembered as refusing Stop: the next stop goes straight to the fallback.
    sim.clear_log()
    again = cam.start_move(Velocity(zoom=-0.6))
    assert again.started.result(WAIT)
    assert again.stop().result(WAIT) is StopMethod.ZERO_VELOCITY
    assert "Stop" not in sim.operations("ptz")
    assert not moving(sim, "zoom")
    ptz_moves_carry_timeouts(sim)


def test_focus_on_a_camera_refusing_stop(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(reject_stop=True)
    cam = open_connected(control_service, onvif_settings(sim))
    hold = cam.start_move(Velocity(focus=0.5))
    assert hold.started.result(WAIT)
    assert sim.wait_until(lambda: sim.snapshot()["focus"][0] > 0.55)
    assert hold.stop().result(WAIT) is StopMethod.ZERO_VELOCITY
    assert not moving(sim, "focus")
    assert sim.operations("imaging")[-2:] == ["Stop", "Move"]
    assert sim.received("Move")[-1].params["Speed"] == "0.0"


def test_held_move_is_resent_and_every_move_carries_a_timeout(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    settings = onvif_settings(onvif_sim, move_timeout_s=0.8, resend_interval_s=0.2)
    cam = open_connected(control_service, settings)
    hold = cam.start_move(Velocity(zoom=0.2, pan=0.1))
    assert hold.started.result(WAIT)
    # Held well past one move's timeout: only re-sending keeps it going.
    time.sleep(2.0)
    assert moving(onvif_sim, "zoom") and moving(onvif_sim, "pan")
    hold.stop().result(WAIT)
    moves = onvif_sim.received("ContinuousMove")
    assert len(moves) >= 4
    assert hold.sends == len(moves)
    assert {parse_duration(m.timeout or "") for m in moves} == {0.8}
    ptz_moves_carry_timeouts(onvif_sim)


def test_camera_stops_by_itself_when_the_controller_dies(
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    """A crash: the control loop is cancelled without any Stop being sent."""
    sim = make_onvif_sim()
    service = ControlService().start()
    try:
        cam = open_connected(service, onvif_settings(sim, move_timeout_s=1.0))
        hold = cam.start_move(Velocity(zoom=0.5, pan=0.5))
        assert hold.started.result(WAIT)
        assert sim.wait_until(lambda: len(sim.received("ContinuousMove")) >= 2)
    finally:
        service.stop(stop_moves=False)
    assert hold.finished.cancelled()
    assert "Stop" not in sim.operations()
    # The camera runs on until the last move's timeout, not forever.
    last = sim.received("ContinuousMove")[-1]
    assert sim.zoom.deadline == pytest.approx(last.time + 1.0, abs=0.05)
    assert sim.pan.deadline == pytest.approx(last.time + 1.0, abs=0.05)
    assert sim.wait_until(lambda: not moving(sim, "zoom") and not moving(sim, "pan"), timeout=5)
    here = sim.snapshot()
    time.sleep(0.3)
    assert sim.snapshot() == here


def test_camera_stops_by_itself_when_the_connection_is_lost(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    settings = onvif_settings(onvif_sim, call_timeout_s=0.5, move_timeout_s=1.0)
    cam = open_connected(control_service, settings)
    errors: list[ControlError] = []
    hold = cam.start_move(Velocity(zoom=0.5), on_error=errors.append)
    assert hold.started.result(WAIT)
    onvif_sim.configure(delay_s=30.0)  # the camera stops answering: re-sends are lost
    assert onvif_sim.wait_until(lambda: not moving(onvif_sim, "zoom"), timeout=5)
    assert hold.active  # still held by the user; re-sends keep failing
    assert onvif_sim.wait_until(lambda: bool(errors), timeout=5)
    assert "did not answer ContinuousMove" in str(errors[0])
    with pytest.raises(ControlError, match="could not stop"):
        hold.stop().result(WAIT)
    assert not moving(onvif_sim, "zoom")


def test_lease_ends_a_move_the_caller_stopped_renewing(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    hold = cam.start_move(Velocity(zoom=0.3), lease_s=0.8)
    assert hold.started.result(WAIT)
    for _ in range(5):  # renewed for 1 s: keeps moving past the lease
        time.sleep(0.2)
        hold.renew()
    assert hold.active and moving(onvif_sim, "zoom")
    # Now the caller "freezes": the hold stops itself, with a real Stop.
    assert hold.finished.result(WAIT) is StopMethod.STOP
    assert hold.ended_by == "lease expired"
    assert not moving(onvif_sim, "zoom")
    assert onvif_sim.operations("ptz")[-1] == "Stop"


def test_max_duration_ends_a_forgotten_move(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    hold = cam.start_move(Velocity(focus=0.2), max_duration_s=0.5)
    assert hold.finished.result(WAIT) is StopMethod.STOP
    assert hold.ended_by == "max duration"
    assert not moving(onvif_sim, "focus")


def test_service_stop_stops_held_moves(
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim()
    service = ControlService().start()
    try:
        cam = open_connected(service, onvif_settings(sim, move_timeout_s=5.0))
        zoom = cam.start_move(Velocity(zoom=0.5, focus=0.5))
        assert zoom.started.result(WAIT)
    finally:
        service.stop()
    assert zoom.finished.result(0) is StopMethod.STOP
    assert not moving(sim, "zoom") and not moving(sim, "focus")
    assert "Stop" in sim.operations("ptz") and "Stop" in sim.operations("imaging")


def test_move_timeout_is_clamped_to_the_cameras_range(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(ptz_timeout_range=("PT2S", "PT10S"))
    cam = open_connected(control_service, onvif_settings(sim, move_timeout_s=1.0))
    hold = cam.start_move(Velocity(zoom=0.5))
    assert hold.started.result(WAIT)  # the camera would refuse PT1S
    hold.stop().result(WAIT)
    assert {m.timeout for m in sim.received("ContinuousMove")} == {"PT2S"}


def test_closing_a_camera_stops_its_move(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim, move_timeout_s=5.0))
    hold = cam.start_move(Velocity(pan=0.4))
    assert hold.started.result(WAIT)
    cam.close().result(WAIT)
    assert hold.finished.result(0) is StopMethod.STOP
    assert not moving(onvif_sim, "pan")
    assert not cam.capabilities.pan_tilt_continuous
