"""Control data: validation of speeds, ranges and settings; capability reasons."""

from __future__ import annotations

import math

import pytest

from camwall.control import (
    Axis,
    Capabilities,
    Feature,
    HoldPolicy,
    MoveState,
    OnvifSettings,
    Range,
    Velocity,
)


def test_velocity_axes_and_validation() -> None:
    assert Velocity(zoom=0.5, focus=-1).axes == {Axis.ZOOM, Axis.FOCUS}
    assert not Velocity().axes
    assert Velocity(pan=0.1).uses_ptz and not Velocity(focus=0.1).uses_ptz
    for bad in (1.5, -1.01, math.nan, "fast"):
        with pytest.raises(ValueError, match="zoom speed"):
            Velocity(zoom=bad)  # type: ignore[arg-type]


def test_range_scaling() -> None:
    r = Range(-2.0, 4.0)
    assert r.scale_signed(0.5) == 2.0 and r.scale_signed(-0.5) == -1.0 and r.scale_signed(0) == 0
    with pytest.raises(ValueError, match="no negative speeds"):
        Range(0.0, 1.0).scale_signed(-0.5)
    assert r.clamp(9) == 4.0 and r.contains(0) and not r.contains(-3)
    with pytest.raises(ValueError):
        Range(1.0, 0.0)


def test_settings_validation_and_repr_hides_password() -> None:
    s = OnvifSettings("cam.local", 8080, "admin", "hunter2-secret")
    assert "hunter2" not in repr(s) and s.label == "cam.local:8080"
    assert OnvifSettings("fe80::1", 80).label == "[fe80::1]:80"
    with pytest.raises(ValueError, match="port"):
        OnvifSettings("cam", 0)
    with pytest.raises(ValueError, match="host"):
        OnvifSettings("rtsp://cam/stream")
    with pytest.raises(ValueError, match="shorter than"):
        OnvifSettings("cam", move_timeout_s=0.3, resend_interval_s=0.4)
    with pytest.raises(ValueError, match="call_timeout_s"):
        OnvifSettings("cam", call_timeout_s=0)
    with pytest.raises(ValueError, match="shorter than"):
        HoldPolicy(move_timeout_s=0.2, resend_interval_s=0.2)


def test_capabilities_none_gives_every_feature_the_reason() -> None:
    caps = Capabilities.none("not connected yet")
    assert set(caps.unavailable()) == set(caps.features())
    assert set(caps.unavailable().values()) == {"not connected yet"}
    assert len(caps.features()) == 12
    assert not Feature.missing("x") and Feature.ok()


def test_move_state_parsing() -> None:
    assert MoveState.parse("MOVING") is MoveState.MOVING
    assert MoveState.parse(" idle ") is MoveState.IDLE
    assert MoveState.parse(None) is MoveState.UNKNOWN
    assert MoveState.parse("sideways") is MoveState.UNKNOWN
