"""Cameras whose ONVIF replies do not conform: each ends in a clear state, nothing hangs.

The camera is :class:`support.onvif_sim_faults.MisbehavingOnvifSimulator` — the conforming
simulator with replies spoiled on the wire (real HTTP and SOAP on 127.0.0.1). Whatever the
reply, connecting ends FAILED with a reason a person can act on within a bound (the attempts'
timeouts plus the backoff), and every future a caller holds resolves.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from camwall.backoff import BackoffPolicy
from camwall.control import (
    ControlService,
    ControlState,
    OnvifSettings,
    Velocity,
    discover_streams,
)
from camwall.errors import ControlError, ControlTimeoutError
from fixtures.onvif import open_connected
from support.onvif_sim_faults import MisbehavingOnvifSimulator, Misbehaviour

ATTEMPTS = 2
FAST_BACKOFF = BackoffPolicy(initial_s=0.2, factor=2.0, max_s=0.4, jitter=0.0)
CONNECT_S = 4.0
CALL_S = 1.0
# Attempts × their timeout, the backoff between them, and slack for a loaded machine.
BOUND_S = ATTEMPTS * CONNECT_S + 0.2 + 6.0

REASONS = {
    Misbehaviour.UNDECLARED_PREFIX: "namespace prefix is used but never declared",
    Misbehaviour.TRUNCATED: "cannot read",
    Misbehaviour.HTTP_500: "HTTP error page instead of a SOAP reply",
    Misbehaviour.SLOW: f"did not answer login and service discovery within {CONNECT_S:g} s",
    Misbehaviour.WRONG_TYPES: "cannot read",
    Misbehaviour.NOT_SOAP: "not valid ONVIF",
}


def settings_for(sim: MisbehavingOnvifSimulator) -> OnvifSettings:
    return OnvifSettings(
        sim.host,
        sim.port,
        sim.config.user,
        sim.config.password,
        call_timeout_s=CALL_S,
        connect_timeout_s=CONNECT_S,
        move_timeout_s=1.0,
        resend_interval_s=0.3,
    )


@pytest.mark.parametrize("kind", list(Misbehaviour), ids=lambda k: k.value)
def test_connect_ends_failed_with_the_reason(
    control_service: ControlService,
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
    kind: Misbehaviour,
) -> None:
    sim = make_misbehaving_sim(kind, slow_s=CONNECT_S + 3)
    seen: list[str] = []
    t0 = time.monotonic()
    cam = control_service.open_onvif(
        settings_for(sim),
        attempts=ATTEMPTS,
        backoff=FAST_BACKOFF,
        on_capabilities=lambda caps: seen.append(caps.zoom_continuous.reason),
    )
    hold = cam.start_move(Velocity(zoom=0.5))  # pressed while the camera is connecting
    status = cam.status()
    with pytest.raises(ControlError, match=REASONS[kind]) as info:
        cam.connected.result(BOUND_S)
    assert time.monotonic() - t0 < BOUND_S
    assert cam.state is ControlState.FAILED
    assert str(info.value) in cam.capabilities.zoom_continuous.reason
    assert sim.config.password not in str(info.value)
    # Retried once with backoff, then gave up: the listener saw it all, ending in the reason.
    assert sum("trying again in" in r for r in seen) == ATTEMPTS - 1
    assert seen[-1] == str(info.value)
    assert len(sim.received("GetSystemDateAndTime")) >= ATTEMPTS
    # Nothing a caller holds is left pending.
    for fut in (hold.started, hold.finished, status):
        with pytest.raises(ControlError):
            fut.result(BOUND_S)


def test_server_error_is_retried_and_a_recovered_camera_connects(
    control_service: ControlService,
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
) -> None:
    sim = make_misbehaving_sim(Misbehaviour.HTTP_500, ["GetProfiles"])
    cam = control_service.open_onvif(settings_for(sim), attempts=3, backoff=FAST_BACKOFF)
    with pytest.raises(ControlError, match="HTTP error page"):
        cam.connected.result(BOUND_S)
    assert len(sim.received("GetProfiles")) == 3  # a 500 may pass: retried, then FAILED
    assert cam.state is ControlState.FAILED
    sim.misbehave(None)  # the camera's web server recovered
    assert cam.connect().result(BOUND_S).zoom_continuous
    assert cam.state is ControlState.CONNECTED


def test_wrong_password_is_not_retried(
    control_service: ControlService,
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
) -> None:
    sim = make_misbehaving_sim(None)
    settings = OnvifSettings(sim.host, sim.port, "admin", "wrong", connect_timeout_s=CONNECT_S)
    cam = control_service.open_onvif(settings, attempts=3, backoff=FAST_BACKOFF)
    with pytest.raises(ControlError, match="rejected the login"):
        cam.connected.result(BOUND_S)
    assert cam.state is ControlState.FAILED
    assert len(sim.received("GetSystemDateAndTime")) == 1  # bad logins lock some cameras


@pytest.mark.parametrize(
    "kind",
    [
        Misbehaviour.UNDECLARED_PREFIX,
        Misbehaviour.TRUNCATED,
        Misbehaviour.HTTP_500,
        Misbehaviour.SLOW,
        Misbehaviour.NOT_SOAP,
    ],
    ids=lambda k: k.value,
)
def test_held_move_resolves_when_moves_and_stops_go_wrong(
    control_service: ControlService,
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
    kind: Misbehaviour,
) -> None:
    sim = make_misbehaving_sim(None, slow_s=10.0)
    cam = open_connected(control_service, settings_for(sim))
    assert cam.state is ControlState.CONNECTED
    sim.misbehave(kind, ["ContinuousMove", "Stop"])
    errors: list[ControlError] = []
    hold = cam.start_move(Velocity(zoom=0.5), on_error=errors.append)
    if kind is Misbehaviour.UNDECLARED_PREFIX:
        # An empty reply with undeclared prefixes parses (leniently) as an empty answer:
        # the camera took the move. What matters is that the hold still resolves.
        assert hold.started.result(BOUND_S) is True
    else:
        with pytest.raises(ControlError) as started:
            hold.started.result(BOUND_S)
        assert isinstance(started.value, ControlTimeoutError) == (kind is Misbehaviour.SLOW)
        assert sim.wait_until(lambda: bool(errors), timeout=5)
        assert all("ContinuousMove" in str(e) for e in errors)
    t0 = time.monotonic()
    stopped = hold.stop()
    # Stop and its zero-velocity fallback, each bounded by the call timeout.
    outcome = stopped.exception(4 * CALL_S + 3.0)  # TimeoutError here if still pending
    if kind is Misbehaviour.UNDECLARED_PREFIX:
        assert outcome is None
    else:
        assert isinstance(outcome, ControlError)
    assert time.monotonic() - t0 < 4 * CALL_S + 3.0
    # The camera is still usable once it answers properly again.
    sim.misbehave(None)
    assert cam.status().result(BOUND_S).zoom_position is not None


def test_partly_broken_reply_degrades_only_that_feature(
    control_service: ControlService,
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
) -> None:
    sim = make_misbehaving_sim(Misbehaviour.UNDECLARED_PREFIX, ["GetMoveOptions"])
    cam = open_connected(control_service, settings_for(sim))
    caps = cam.capabilities
    assert not caps.focus_continuous
    assert "namespace prefix is used but never declared" in caps.focus_continuous.reason
    assert caps.zoom_continuous and caps.presets
    assert cam.state is ControlState.CONNECTED


def test_stream_discovery_with_broken_replies(
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
) -> None:
    sim = make_misbehaving_sim(Misbehaviour.TRUNCATED, ["GetStreamUri"])
    # A truncated answer parses leniently into an empty URL: no use, and said so.
    with pytest.raises(ControlError, match="gave no stream URL for profile"):
        discover_streams(settings_for(sim))
    sim.misbehave(Misbehaviour.WRONG_TYPES, ["GetProfiles"])
    streams = discover_streams(settings_for(sim))  # garbled sizes are unknown, not a crash
    assert {s.uri for s in streams} == {"rtsp://127.0.0.1:8554/main", "rtsp://127.0.0.1:8554/sub"}
    assert all(s.width is None and s.bitrate_kbps is None for s in streams)
    sim.misbehave(Misbehaviour.UNDECLARED_PREFIX, ["GetStreamUri"])
    with pytest.raises(ControlError, match="never declared"):
        discover_streams(settings_for(sim))
