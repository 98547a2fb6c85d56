"""Adding a camera by host/port/user/password: its main and sub RTSP streams over ONVIF."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from camwall.control import ControlService, OnvifSettings, StreamRole, discover_streams
from camwall.errors import ControlAuthError
from support.onvif_sim import OnvifSimulator

WAIT = 20.0


def sim_settings(sim: OnvifSimulator) -> OnvifSettings:
    return OnvifSettings(sim.host, sim.port, sim.config.user, sim.config.password)


def test_discover_streams_returns_main_then_sub(onvif_sim: OnvifSimulator) -> None:
    streams = discover_streams(sim_settings(onvif_sim))
    assert [s.role for s in streams] == [StreamRole.MAIN, StreamRole.SUB]
    main, sub = streams
    assert main.uri == "rtsp://127.0.0.1:8554/main"
    assert sub.uri == "rtsp://127.0.0.1:8554/sub"
    assert (main.width, main.height, main.encoding) == (2560, 1440, "H264")
    assert (sub.width, sub.height, sub.fps) == (640, 360, 15.0)
    assert main.token == "main" and main.name == "MainStream"
    # Only what discovery needs was asked: no focus or PTZ probing.
    assert {r.service for r in onvif_sim.requests} == {"device", "media"}
    assert onvif_sim.operations("media").count("GetStreamUri") == 2


def test_discover_streams_through_the_service(
    control_service: ControlService, make_onvif_sim: Callable[..., OnvifSimulator]
) -> None:
    sim = make_onvif_sim(get_services_supported=False, rtsp_base="rtsp://127.0.0.1:10554/live")
    fut = control_service.discover_streams(sim_settings(sim))
    streams = fut.result(WAIT)
    assert [s.uri for s in streams] == [
        "rtsp://127.0.0.1:10554/live/main",
        "rtsp://127.0.0.1:10554/live/sub",
    ]


def test_discover_streams_wrong_password(onvif_sim: OnvifSimulator) -> None:
    with pytest.raises(ControlAuthError, match="rejected the login"):
        discover_streams(OnvifSettings(onvif_sim.host, onvif_sim.port, "admin", "nope-nope"))


def test_uri_with_credentials_is_encoded_and_masked_in_str(onvif_sim: OnvifSimulator) -> None:
    main = discover_streams(sim_settings(onvif_sim))[0]
    url = main.uri_with_credentials("ad min", "p@ss:w/rd")
    assert url == "rtsp://ad%20min:p%40ss%3Aw%2Frd@127.0.0.1:8554/main"
    assert "p%40ss" not in str(main) and "127.0.0.1:8554/main" in str(main)
