"""Click-to-centre over ONVIF: RelativeMove in the field-of-view space, real client and simulator."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from camwall.control import ControlService, OnvifSettings
from camwall.control.onvif.probe import FOV_SPACE
from camwall.errors import ControlError, ControlTimeoutError, ControlUnsupportedError
from fixtures.onvif import TEST_TIMEOUTS, WAIT, open_connected
from support.onvif_sim import OnvifSimulator
from support.onvif_sim_faults import MisbehavingOnvifSimulator, Misbehaviour


def settled(sim: OnvifSimulator) -> bool:
    snap = sim.snapshot()
    return not (snap["pan"][1] or snap["tilt"][1])


def test_centre_on_sends_a_field_of_view_relative_move(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    assert cam.capabilities.pan_tilt_centre
    onvif_sim.clear_log()
    # The point halfway to the right edge and a quarter of the way down.
    assert cam.centre_on(0.5, -0.25).result(WAIT) is None
    (move,) = onvif_sim.received("RelativeMove", "ptz")
    assert move.params["ProfileToken"] == "main"
    assert move.params["Translation.PanTilt.space"] == FOV_SPACE
    assert float(move.params["Translation.PanTilt.x"]) == pytest.approx(0.5)
    assert float(move.params["Translation.PanTilt.y"]) == pytest.approx(-0.25)
    assert "Speed" not in move.params
    # Right by a quarter of the field of view, down by an eighth of it.
    fov_pan, fov_tilt = onvif_sim.config.fov_pan, onvif_sim.config.fov_tilt
    assert onvif_sim.wait_until(lambda: settled(onvif_sim), timeout=WAIT)
    snap = onvif_sim.snapshot()
    assert snap["pan"][0] == pytest.approx(0.5 * fov_pan / 2, abs=1e-6)
    assert snap["tilt"][0] == pytest.approx(-0.25 * fov_tilt / 2, abs=1e-6)
    status = cam.status().result(WAIT)
    assert status.pan is not None and status.pan > 0
    assert status.tilt is not None and status.tilt < 0

    # A speed goes along when given; moves add up from where the camera is.
    cam.centre_on(-1.0, 1.0, speed=0.5).result(WAIT)
    last = onvif_sim.received("RelativeMove", "ptz")[-1]
    assert float(last.params["Speed.PanTilt.x"]) == pytest.approx(0.5)
    assert onvif_sim.wait_until(lambda: settled(onvif_sim), timeout=WAIT)
    snap = onvif_sim.snapshot()
    assert snap["pan"][0] == pytest.approx(0.5 * fov_pan / 2 - fov_pan / 2, abs=1e-6)
    assert snap["tilt"][0] == pytest.approx(-0.25 * fov_tilt / 2 + fov_tilt / 2, abs=1e-6)

    # A point outside the picture is the caller's mistake, said before anything is sent.
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        cam.centre_on(1.5, 0.0).result(WAIT)
    assert len(onvif_sim.received("RelativeMove")) == 2


@pytest.mark.parametrize(
    "knobs",
    [{"fov_relative": False}, {"has_pan_tilt": False}],
    ids=["no-fov-space", "zoom-only"],
)
def test_camera_without_the_fov_space_cannot_centre(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
    knobs: dict[str, bool],
) -> None:
    sim = make_onvif_sim(**knobs)
    cam = open_connected(control_service, onvif_settings(sim))
    caps = cam.capabilities
    assert caps.pan_tilt_continuous.available is knobs.get("has_pan_tilt", True)
    assert not caps.pan_tilt_centre
    assert caps.pan_tilt_centre.reason == "the camera offers no field-of-view relative moves"
    with pytest.raises(ControlUnsupportedError, match="field-of-view relative moves"):
        cam.centre_on(0.5, 0.5).result(WAIT)
    assert sim.received("RelativeMove") == []


def test_camera_without_ptz_service_says_why(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(has_ptz=False)
    cam = open_connected(control_service, onvif_settings(sim))
    assert not cam.capabilities.pan_tilt_centre
    assert "PTZ" in cam.capabilities.pan_tilt_centre.reason


def test_camera_refusing_the_move_gives_a_control_error(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    """The node lists the space, then the camera refuses it (firmware that advertises more)."""
    cam = open_connected(control_service, onvif_settings(onvif_sim))
    onvif_sim.configure(fov_relative=False)
    with pytest.raises(ControlError, match="RelativeMove"):
        cam.centre_on(0.2, 0.2).result(WAIT)


CALL_S = 1.0


@pytest.mark.parametrize(
    "kind",
    [Misbehaviour.TRUNCATED, Misbehaviour.HTTP_500, Misbehaviour.SLOW, Misbehaviour.NOT_SOAP],
    ids=lambda k: k.value,
)
def test_broken_replies_become_control_errors_within_the_call_timeout(
    control_service: ControlService,
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
    kind: Misbehaviour,
) -> None:
    sim = make_misbehaving_sim(None, slow_s=10.0)
    settings = OnvifSettings(
        host=sim.host,
        port=sim.port,
        user=sim.config.user,
        password=sim.config.password,
        **{**TEST_TIMEOUTS, "call_timeout_s": CALL_S},
    )
    cam = open_connected(control_service, settings)
    sim.misbehave(kind, ["RelativeMove"])
    t0 = time.monotonic()
    error = cam.centre_on(0.3, 0.3).exception(CALL_S + 5.0)
    assert isinstance(error, ControlError)
    assert isinstance(error, ControlTimeoutError) == (kind is Misbehaviour.SLOW)
    assert time.monotonic() - t0 < CALL_S + 5.0
    sim.misbehave(None)
    cam.centre_on(0.1, 0.0).result(WAIT)


def test_the_cameras_own_range_of_the_space_is_used(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    """Firmware that gives the field-of-view space as [-100, 100] gets percentages."""
    sim = make_onvif_sim(fov_range=100.0)
    cam = open_connected(control_service, onvif_settings(sim))
    cam.centre_on(0.5, -0.25).result(WAIT)
    (move,) = sim.received("RelativeMove", "ptz")
    assert float(move.params["Translation.PanTilt.x"]) == pytest.approx(50.0)
    assert float(move.params["Translation.PanTilt.y"]) == pytest.approx(-25.0)
    assert sim.wait_until(lambda: settled(sim), timeout=WAIT)
    assert sim.snapshot()["pan"][0] == pytest.approx(0.5 * sim.config.fov_pan / 2, abs=1e-6)
