"""Failures a camera wall meets: bad logins, missing services, slow or absent cameras.

Each gives a readable error without the password, marks the capabilities unavailable with
the reason, and never blocks the caller's thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import zeep.exceptions

from camwall.control import Capabilities, ControlService, OnvifSettings, Velocity
from camwall.control.onvif.errors import load_onvif
from camwall.errors import (
    ControlAuthError,
    ControlConnectionError,
    ControlTimeoutError,
    ControlUnsupportedError,
)
from support.onvif_sim import OnvifSimulator

WAIT = 20.0
# Generous: "returns at once" means no network round trip, not a speed benchmark.
IMMEDIATE_S = 0.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_wrong_password(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Wrong-But-Secret-42"
    cam = control_service.open_onvif(onvif_settings(onvif_sim, password=secret))
    with pytest.raises(ControlAuthError) as info:
        cam.connected.result(WAIT)
    message = str(info.value)
    assert "rejected the login" in message and "'admin'" in message
    assert secret not in message
    caps = cam.capabilities
    assert not caps.zoom_continuous and not caps.focus_continuous
    assert "rejected the login" in caps.zoom_continuous.reason
    assert secret not in caplog.text

    # Later calls fail at once with the same reason and do not log in again (repeated bad
    # logins lock the account on some cameras).
    attempts = len(onvif_sim.requests)
    with pytest.raises(ControlAuthError):
        cam.status().result(WAIT)
    assert len(onvif_sim.requests) == attempts
    # Only an explicit connect() tries again.
    with pytest.raises(ControlAuthError):
        cam.connect().result(WAIT)
    assert len(onvif_sim.requests) > attempts
    assert all(
        not r.authenticated for r in onvif_sim.requests if r.operation != "GetSystemDateAndTime"
    )


def test_password_fixed_after_a_failed_login(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = control_service.open_onvif(onvif_settings(onvif_sim, password="old"))
    with pytest.raises(ControlAuthError):
        cam.connected.result(WAIT)
    onvif_sim.configure(password="old")  # e.g. the user reset the camera's password
    assert cam.connect().result(WAIT).zoom_continuous
    assert cam.status().result(WAIT).zoom_position is not None


@pytest.mark.parametrize("status", [400, 401])
def test_wrong_user_with_either_fault_status(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
    status: int,
) -> None:
    sim = make_onvif_sim(auth_failure_status=status)
    cam = control_service.open_onvif(onvif_settings(sim, user="nobody"))
    with pytest.raises(ControlAuthError, match="'nobody'"):
        cam.connected.result(WAIT)


def test_camera_clock_far_off_still_logs_in(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(clock_offset_s=-3 * 3600 - 17)
    # The simulated camera does check the clock: a login signed with our clock fails...
    onvif = load_onvif()

    async def naive_login() -> None:
        camera = onvif.ONVIFCamera(
            sim.host, sim.port, sim.config.user, sim.config.password, no_cache=True
        )
        try:
            await camera.update_xaddrs()
        finally:
            await camera.close()

    with pytest.raises(zeep.exceptions.Fault, match="Sender not Authorized"):
        asyncio.run(naive_login())
    # ...while camwall signs with the camera's clock.
    cam = control_service.open_onvif(onvif_settings(sim))
    assert cam.connected.result(WAIT).zoom_continuous
    cam.zoom_absolute(0.5).result(WAIT)


def test_camera_without_imaging_service(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(has_imaging=False)
    cam = control_service.open_onvif(onvif_settings(sim))
    caps = cam.connected.result(WAIT)
    for name in ("focus_continuous", "focus_absolute", "auto_focus", "focus_status"):
        feature = getattr(caps, name)
        assert not feature and feature.reason == "the camera has no ONVIF Imaging service"
    assert caps.zoom_continuous and caps.presets
    with pytest.raises(ControlUnsupportedError, match="no ONVIF Imaging service"):
        cam.focus_absolute(0.5).result(WAIT)
    hold = cam.start_move(Velocity(focus=0.5))
    with pytest.raises(ControlUnsupportedError):
        hold.started.result(WAIT)
    assert "imaging" not in {r.service for r in sim.requests}
    status = cam.status().result(WAIT)  # the PTZ half still answers
    assert status.focus_position is None and status.zoom_position is not None


def test_camera_without_ptz_service(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(has_ptz=False, get_services_supported=False)
    cam = control_service.open_onvif(onvif_settings(sim))
    caps = cam.connected.result(WAIT)
    assert "GetCapabilities" in sim.operations("device")  # the fallback for old firmware
    for name in ("zoom_continuous", "zoom_absolute", "pan_tilt_continuous", "presets"):
        feature = getattr(caps, name)
        assert not feature and feature.reason == "the camera has no ONVIF PTZ service"
    assert caps.focus_continuous
    with pytest.raises(ControlUnsupportedError, match="no ONVIF PTZ service"):
        cam.zoom_absolute(0.5).result(WAIT)
    with pytest.raises(ControlUnsupportedError, match="presets"):
        cam.presets().result(WAIT)
    assert cam.status().result(WAIT).focus_position is not None


def test_slow_camera_times_out_without_blocking_the_caller(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(delay_s=10.0)
    settings = onvif_settings(sim, call_timeout_s=0.5, connect_timeout_s=1.5)
    t0 = time.monotonic()
    cam = control_service.open_onvif(settings)
    status = cam.status()
    hold = cam.start_move(Velocity(zoom=0.5))
    returned = time.monotonic() - t0
    assert returned < IMMEDIATE_S
    assert not cam.connected.done() and not status.done()
    with pytest.raises(ControlTimeoutError, match=r"did not answer .* within 1.5 s"):
        cam.connected.result(WAIT)
    with pytest.raises(ControlTimeoutError):
        status.result(WAIT)
    with pytest.raises(ControlTimeoutError):
        hold.finished.result(WAIT)
    assert "did not answer" in cam.capabilities.zoom_continuous.reason


def test_camera_that_becomes_slow_after_connecting(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    cam = control_service.open_onvif(onvif_settings(onvif_sim, call_timeout_s=0.5))
    cam.connected.result(WAIT)
    onvif_sim.configure(delay_s=10.0)
    t0 = time.monotonic()
    pending = [cam.status(), cam.zoom_absolute(0.5), cam.presets()]
    assert time.monotonic() - t0 < IMMEDIATE_S
    for fut in pending:
        with pytest.raises(ControlTimeoutError, match=r"did not answer \w+ within 0.5 s"):
            fut.result(WAIT)
    onvif_sim.configure(delay_s=0.0)  # back: the same handle works again
    assert cam.status().result(WAIT).zoom_position is not None


def test_slow_imaging_degrades_only_focus(
    control_service: ControlService,
    make_onvif_sim: Callable[..., OnvifSimulator],
    onvif_settings: Callable[..., OnvifSettings],
) -> None:
    sim = make_onvif_sim(delay_s=10.0, delay_operations=frozenset({"GetMoveOptions"}))
    cam = control_service.open_onvif(onvif_settings(sim, call_timeout_s=0.5))
    caps = cam.connected.result(WAIT)
    assert not caps.focus_continuous
    assert "did not answer GetMoveOptions within 0.5 s" in caps.focus_continuous.reason
    assert caps.zoom_continuous and caps.presets


def test_nothing_listening(
    control_service: ControlService, onvif_settings: Callable[..., OnvifSettings]
) -> None:
    port = free_port()
    settings = OnvifSettings("127.0.0.1", port, "admin", "pw-never-shown", call_timeout_s=2)
    cam = control_service.open_onvif(settings)
    with pytest.raises(ControlConnectionError, match="connection refused") as info:
        cam.connected.result(WAIT)
    assert f"127.0.0.1:{port}" in str(info.value) and "pw-never-shown" not in str(info.value)


def test_service_lifecycle_and_generic_submit() -> None:
    service = ControlService()
    with pytest.raises(RuntimeError, match="not running"):
        service.open_onvif(OnvifSettings("127.0.0.1", 1))
    service.start()
    try:
        called: list[object] = []

        async def answer() -> int:
            return 42

        fut = service.submit(answer(), callback=lambda f: called.append(f.result()))
        assert fut.result(WAIT) == 42
        assert called == [42]
        slow = service.submit(asyncio.sleep(30), timeout_s=0.2)
        with pytest.raises(ControlTimeoutError, match=r"within 0\.2 s"):
            slow.result(WAIT)
        pending = service.submit(asyncio.sleep(30))
    finally:
        service.stop()
    assert pending.cancelled()
    service.stop()  # a second stop is harmless
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="not running"):
        service.submit(coro)
    assert coro.cr_frame is None  # closed, not left un-awaited


def test_without_the_onvif_extra_the_message_says_what_to_install() -> None:
    """camwall.control imports without onvif-zeep-async; using ONVIF names the extra."""
    script = """
import asyncio, importlib.abc, sys
class NoOnvif(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "onvif":
            raise ImportError("blocked: " + name)
        return None
sys.meta_path.insert(0, NoOnvif())
from camwall.control import OnvifCameraControl, OnvifSettings, DigitalZoom
from camwall.errors import MissingExtraError
try:
    asyncio.run(OnvifCameraControl(OnvifSettings("127.0.0.1", 1)).connect())
except MissingExtraError as err:
    print("MISSING", err)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert 'pip install "camwall[onvif]"' in out.stdout


def test_loading_the_onvif_library_leaves_logging_alone() -> None:
    """onvif-zeep-async calls logging.basicConfig at import; camwall keeps it from acting."""
    script = """
import logging
from camwall.control.onvif.errors import load_onvif
load_onvif()
root = logging.getLogger()
print("HANDLERS", len(root.handlers), "LEVEL", root.level)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"HANDLERS 0 LEVEL {logging.WARNING}" in out.stdout


def test_capability_listener_and_proxy_environment(
    control_service: ControlService,
    onvif_sim: OnvifSimulator,
    onvif_settings: Callable[..., OnvifSettings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    seen: list[Capabilities] = []
    cam = control_service.open_onvif(onvif_settings(onvif_sim), on_capabilities=seen.append)
    caps = cam.connected.result(WAIT)
    assert seen[0].zoom_continuous.reason == "connecting…"
    assert seen[-1] == caps == cam.capabilities
    info = cam.device_info().result(WAIT)
    assert (info.manufacturer, info.model, info.serial) == ("camwall", "SimCam 1440", "SIM-0001")
    # The library pops http(s)_proxy from the process environment; camwall puts it back.
    assert os.environ.get("http_proxy") == "http://proxy.invalid:3128"
