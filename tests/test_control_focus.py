"""Focus over ONVIF Imaging, through the real onvif-zeep-async client and a simulated camera."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from camwall.control import (
    ControlService,
    MoveState,
    OnvifSettings,
    StopMethod,
    Velocity,
)
from camwall.errors import ControlUnsupportedError
from fixtures.onvif import WAIT, open_connected
from support.onvif_sim import SHARP_FOCUS, OnvifSimulator


def focus_idle(sim: OnvifSimulator) -> bool:
    return not sim.snapshot()["focus"][1]


def test_continuous_focus_then_stop(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    caps = cam.capabilities
    assert caps.focus_continuous and caps.focus_status
    before = cam.status().result(WAIT)
    assert before.focus_move is MoveState.IDLE

    hold = cam.start_move(Velocity(focus=1.0))  # far
    assert hold.started.result(WAIT) is True
    assert onvif_sim.wait_until(lambda: onvif_sim.snapshot()["focus"][0] > 0.6)
    assert hold.stop().result(WAIT) is StopMethod.STOP

    after = cam.status().result(WAIT)
    assert after.focus_position is not None and before.focus_position is not None
    assert after.focus_position > before.focus_position
    assert after.focus_move is MoveState.IDLE
    time.sleep(0.3)
    assert cam.status().result(WAIT).focus_position == pytest.approx(after.focus_position)
    assert "Stop" in onvif_sim.operations("imaging")

    near = cam.start_move(Velocity(focus=-0.5))
    assert onvif_sim.wait_until(lambda: onvif_sim.snapshot()["focus"][0] < after.focus_position)
    near.stop().result(WAIT)
    assert focus_idle(onvif_sim)


def test_absolute_and_relative_focus(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    caps = cam.capabilities
    assert caps.focus_absolute and caps.focus_relative
    assert caps.focus_position_range is not None and caps.focus_position_range.max == 1.0

    cam.focus_absolute(0.8).result(WAIT)
    assert onvif_sim.wait_until(lambda: focus_idle(onvif_sim))
    assert cam.status().result(WAIT).focus_position == pytest.approx(0.8, abs=1e-3)

    cam.focus_relative(-0.3, speed=0.5).result(WAIT)
    assert onvif_sim.wait_until(lambda: focus_idle(onvif_sim))
    assert cam.status().result(WAIT).focus_position == pytest.approx(0.5, abs=1e-3)

    with pytest.raises(ValueError, match="outside the camera's range"):
        cam.focus_absolute(1.5).result(WAIT)


def test_auto_focus_toggle_round_trips(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    assert cam.capabilities.auto_focus
    assert cam.get_auto_focus().result(WAIT) is False
    cam.set_auto_focus(True).result(WAIT)
    assert onvif_sim.auto_focus == "AUTO"
    assert cam.get_auto_focus().result(WAIT) is True
    cam.set_auto_focus(False).result(WAIT)
    assert onvif_sim.auto_focus == "MANUAL"
    assert cam.get_auto_focus().result(WAIT) is False
    sets = onvif_sim.received("SetImagingSettings")
    assert [r.params["AutoFocusMode"] for r in sets] == ["AUTO", "MANUAL"]


def test_manual_focus_move_switches_auto_focus_off(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    """The simulated camera, like many, refuses manual moves in AUTO mode."""
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    cam.set_auto_focus(True).result(WAIT)
    cam.focus_absolute(0.9).result(WAIT)
    assert cam.get_auto_focus().result(WAIT) is False
    assert onvif_sim.wait_until(lambda: focus_idle(onvif_sim))
    assert onvif_sim.snapshot()["focus"][0] == pytest.approx(0.9, abs=1e-3)


def test_one_push_focus_focuses_once_then_stays_manual(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    assert cam.capabilities.one_push_focus
    cam.focus_absolute(0.95).result(WAIT)
    assert onvif_sim.wait_until(lambda: focus_idle(onvif_sim))
    cam.one_push_focus().result(WAIT)
    assert onvif_sim.auto_focus == "MANUAL"
    assert onvif_sim.snapshot()["focus"][0] == pytest.approx(SHARP_FOCUS, abs=1e-3)
    modes = [r.params["AutoFocusMode"] for r in onvif_sim.received("SetImagingSettings")]
    assert modes[-2:] == ["AUTO", "MANUAL"]


def test_only_the_focus_moves_the_camera_offers(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(focus_moves=frozenset({"Continuous"}), auto_focus_modes=("MANUAL",))
    cam = open_connected(control_service, onvif_settings(sim))
    caps = cam.capabilities
    assert caps.focus_continuous
    assert not caps.focus_absolute and "absolute" in caps.focus_absolute.reason
    assert not caps.focus_relative and "relative" in caps.focus_relative.reason
    assert not caps.auto_focus and "AUTO and MANUAL" in caps.auto_focus.reason
    assert not caps.one_push_focus
    assert caps.focus_position_range is None

    with pytest.raises(ControlUnsupportedError, match="absolute focus"):
        cam.focus_absolute(0.5).result(WAIT)
    with pytest.raises(ControlUnsupportedError, match="AUTO and MANUAL"):
        cam.set_auto_focus(True).result(WAIT)
    assert "Move" not in sim.operations()  # refused locally, nothing sent

    hold = cam.start_move(Velocity(focus=0.4))
    assert hold.started.result(WAIT)
    hold.stop().result(WAIT)
    assert focus_idle(sim)
