"""Zoom, pan/tilt and presets over ONVIF PTZ, through the real client and a simulated camera."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from camwall.control import (
    Axis,
    ControlService,
    MoveState,
    OnvifSettings,
    StopMethod,
    Velocity,
)
from camwall.errors import ControlError, ControlUnsupportedError
from fixtures.onvif import WAIT, open_connected
from support.onvif_sim import OnvifSimulator


def idle(sim: OnvifSimulator, *axes: str) -> bool:
    snap = sim.snapshot()
    return not any(snap[a][1] for a in axes)


def test_continuous_zoom_then_stop(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    assert cam.capabilities.zoom_continuous and cam.capabilities.zoom_status
    hold = cam.start_move(Velocity(zoom=1.0))
    assert hold.started.result(WAIT)
    assert onvif_sim.wait_until(lambda: onvif_sim.snapshot()["zoom"][0] > 0.1)
    assert cam.status().result(WAIT).zoom_move is MoveState.MOVING
    assert hold.stop().result(WAIT) is StopMethod.STOP
    assert idle(onvif_sim, "zoom")
    status = cam.status().result(WAIT)
    assert status.zoom_move is MoveState.IDLE and status.zoom_position is not None
    assert status.zoom_position > 0.1
    stops = onvif_sim.received("Stop", "ptz")
    assert stops and stops[-1].params == {
        "ProfileToken": "main",
        "PanTilt": "false",
        "Zoom": "true",
    }

    out = cam.start_move(Velocity(zoom=-1.0))
    assert onvif_sim.wait_until(lambda: onvif_sim.snapshot()["zoom"][0] < status.zoom_position)
    out.stop().result(WAIT)
    assert idle(onvif_sim, "zoom")


def test_continuous_pan_tilt_then_stop(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    assert cam.capabilities.pan_tilt_continuous
    hold = cam.start_move(Velocity(pan=-0.5, tilt=0.5))
    assert hold.started.result(WAIT)
    assert onvif_sim.wait_until(
        lambda: onvif_sim.snapshot()["pan"][0] < -0.1 and onvif_sim.snapshot()["tilt"][0] > 0.1
    )
    hold.stop().result(WAIT)
    assert idle(onvif_sim, "pan", "tilt", "zoom")
    status = cam.status().result(WAIT)
    assert status.pan is not None and status.pan < -0.1
    assert status.tilt is not None and status.tilt > 0.1
    assert status.pan_tilt_move is MoveState.IDLE
    moves = onvif_sim.received("ContinuousMove")
    assert moves[0].params["PanTilt"] == "" and "Zoom" not in moves[0].params


def test_absolute_zoom(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    caps = cam.capabilities
    assert caps.zoom_absolute and caps.zoom_position_range is not None
    cam.zoom_absolute(0.6).result(WAIT)
    assert onvif_sim.wait_until(lambda: idle(onvif_sim, "zoom"))
    assert cam.status().result(WAIT).zoom_position == pytest.approx(0.6, abs=1e-3)
    with pytest.raises(ValueError, match="outside"):
        cam.zoom_absolute(caps.zoom_position_range.max + 1).result(WAIT)


def test_presets_set_list_and_go(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    assert cam.capabilities.presets
    assert cam.presets().result(WAIT) == []

    cam.zoom_absolute(0.3).result(WAIT)
    assert onvif_sim.wait_until(lambda: idle(onvif_sim, "zoom"))
    door = cam.set_preset("door").result(WAIT)
    cam.zoom_absolute(0.9).result(WAIT)
    assert onvif_sim.wait_until(lambda: idle(onvif_sim, "zoom"))
    gate = cam.set_preset("gate").result(WAIT)
    presets = {p.name: p for p in cam.presets().result(WAIT)}
    assert set(presets) == {"door", "gate"}
    assert presets["door"].token == door and presets["door"].zoom == pytest.approx(0.3, abs=1e-3)

    cam.goto_preset(door).result(WAIT)
    assert onvif_sim.wait_until(lambda: idle(onvif_sim, "zoom"))
    assert cam.status().result(WAIT).zoom_position == pytest.approx(0.3, abs=1e-3)

    # Overwrite a preset by token, then go to it.
    cam.set_preset("gate", token=gate).result(WAIT)
    cam.goto_preset(gate).result(WAIT)
    assert onvif_sim.wait_until(lambda: idle(onvif_sim, "zoom"))
    assert cam.status().result(WAIT).zoom_position == pytest.approx(0.3, abs=1e-3)

    with pytest.raises(ControlError, match="refused GotoPreset"):
        cam.goto_preset("no-such-preset").result(WAIT)
    with pytest.raises(ValueError, match="name"):
        cam.set_preset("  ").result(WAIT)


def test_zoom_only_camera(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    """A motorised-zoom bullet camera: PTZ service, but no pan/tilt spaces."""
    sim = make_onvif_sim(has_pan_tilt=False)
    cam = open_connected(control_service, onvif_settings(sim))
    caps = cam.capabilities
    assert caps.zoom_continuous and caps.zoom_absolute
    assert not caps.pan_tilt_continuous and "pan or tilt" in caps.pan_tilt_continuous.reason

    hold = cam.start_move(Velocity(pan=0.5))
    with pytest.raises(ControlUnsupportedError, match="pan or tilt"):
        hold.started.result(WAIT)
    assert hold.finished.result(WAIT) is StopMethod.NOT_NEEDED
    assert sim.received("ContinuousMove") == []

    zoom = cam.start_move(Velocity(zoom=0.8))
    assert zoom.started.result(WAIT)
    zoom.stop().result(WAIT)
    assert idle(sim, "zoom")
    # No PanTilt element went to a camera that cannot pan (it would fault).
    assert all("PanTilt" not in r.params for r in sim.received("ContinuousMove"))
    # A panic stop of every axis only names the axes the camera has.
    assert cam.stop().result(WAIT) is StopMethod.STOP
    assert sim.received("Stop", "ptz")[-1].params["PanTilt"] == "false"


def test_new_move_replaces_the_held_one(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    first = cam.start_move(Velocity(zoom=0.5))
    assert first.started.result(WAIT)
    second = cam.start_move(Velocity(pan=0.5))
    assert first.finished.result(WAIT) is StopMethod.STOP
    assert second.started.result(WAIT)
    assert not first.active and second.active
    assert onvif_sim.wait_until(lambda: idle(onvif_sim, "zoom") and not idle(onvif_sim, "pan"))
    assert cam.stop(frozenset({Axis.PAN, Axis.TILT})).result(WAIT) is StopMethod.STOP
    assert not second.active
    assert idle(onvif_sim, "pan", "tilt", "zoom")
