"""Finding cameras: a WS-Discovery probe of a responder on loopback with simulated cameras
behind it — good ones, a duplicate, a wrong password, an unreachable one, a printer, garbage."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from camwall.cli import main
from camwall.control import OnvifSettings, StreamRole
from camwall.control.onvif.find import inspect_devices, probe
from support.onvif_sim import OnvifSimulator
from support.wsd_responder import BROKEN_PROBE_MATCH, GARBAGE, PRINTER, WsdDevice, WsdResponder

PROBE_S = 1.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def xaddr(host: str, port: int) -> str:
    return f"http://{host}:{port}/onvif/device_service"


@pytest.fixture
def lan(make_onvif_sim: Callable[..., OnvifSimulator]) -> Iterator[dict[str, object]]:
    """A responder for five devices and two bad answers; the cameras are simulators."""
    good = make_onvif_sim()
    other = make_onvif_sim(rtsp_base="rtsp://127.0.0.1:9554/other")
    locked = make_onvif_sim(password="not-the-one-you-have")
    devices = {
        "good": WsdDevice([xaddr(good.host, good.port)], name="Front Door", repeat=3),
        "other": WsdDevice([xaddr(other.host, other.port)], name="Yard"),
        "locked": WsdDevice([xaddr(locked.host, locked.port)], name="Garage"),
        "gone": WsdDevice([xaddr("127.0.0.1", free_port())], name="Gone"),
        "printer": WsdDevice(["http://127.0.0.1:631/wsd"], name="Printer", types=[PRINTER]),
    }
    responder = WsdResponder(list(devices.values()), [GARBAGE, BROKEN_PROBE_MATCH]).start()
    try:
        yield {"responder": responder, "sim": good, **devices}
    finally:
        responder.stop()


def login(sim: OnvifSimulator) -> OnvifSettings:
    return OnvifSettings("0.0.0.0", 80, sim.config.user, sim.config.password, connect_timeout_s=5)


def test_probe_lists_devices_duplicates_and_bad_answers(lan: dict[str, object]) -> None:
    responder = lan["responder"]
    assert isinstance(responder, WsdResponder)
    t0 = time.monotonic()
    found = probe(PROBE_S, targets=[("127.0.0.1", responder.port)], multicast=False)
    assert time.monotonic() - t0 < PROBE_S + 1.0
    by_name = {d.name: d for d in found.devices}
    assert set(by_name) == {"Front Door", "Yard", "Garage", "Gone", "Printer"}
    assert by_name["Front Door"].answers == 3  # listed once, the repeats counted
    assert by_name["Front Door"].model == "SimCam-1440"
    assert by_name["Front Door"].address == "127.0.0.1"
    assert "onvif://www.onvif.org/type/video_encoder" in by_name["Yard"].scopes
    assert not by_name["Printer"].is_camera
    assert "not an ONVIF camera" in (by_name["Printer"].problem or "")
    assert {d.name for d in found.cameras} == {"Front Door", "Yard", "Garage", "Gone"}
    reasons = sorted(b.reason for b in found.bad_answers)
    assert len(reasons) == 2
    assert "not WS-Discovery XML" in reasons[1] and "parts missing" in reasons[0]


def test_inspect_gives_streams_or_the_reason(lan: dict[str, object]) -> None:
    responder, good = lan["responder"], lan["sim"]
    assert isinstance(responder, WsdResponder) and isinstance(good, OnvifSimulator)
    found = probe(PROBE_S, targets=[("127.0.0.1", responder.port)], multicast=False)
    t0 = time.monotonic()
    devices = {d.name: d for d in inspect_devices(found.devices, login(good))}
    assert time.monotonic() - t0 < 5 + 3 * 5 + 5
    front = devices["Front Door"]
    assert front.problem is None and front.info is not None
    assert front.model == "SimCam 1440"  # GetDeviceInformation beats the scope
    assert [s.role for s in front.streams] == [StreamRole.MAIN, StreamRole.SUB]
    assert (front.streams[0].width, front.streams[0].encoding) == (2560, "H264")
    assert devices["Yard"].streams[0].uri == "rtsp://127.0.0.1:9554/other/main"
    assert "rejected the login" in (devices["Garage"].problem or "")
    assert "connection refused" in (devices["Gone"].problem or "")
    assert devices["Printer"].streams == ()  # not logged in to


@pytest.mark.usefixtures("restore_camwall_logging")
def test_cli_json_and_text(
    lan: dict[str, object], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    responder, good = lan["responder"], lan["sim"]
    assert isinstance(responder, WsdResponder) and isinstance(good, OnvifSimulator)
    monkeypatch.setenv("CAM_PW", good.config.password)
    target = f"127.0.0.1:{responder.port}"
    args = ["discover", "--address", target, "--no-multicast", "--timeout", str(PROBE_S)]
    code = main([*args, "--json", "--user", "admin", "--password-env", "CAM_PW"])
    text = capsys.readouterr().out
    assert code == 3  # Garage and Gone failed
    document = json.loads(text)
    names = {d["name"]: d for d in document["devices"]}
    assert names["Front Door"]["streams"][0]["role"] == "main"
    assert names["Front Door"]["answers"] == 3
    assert "rejected the login" in names["Garage"]["problem"]
    assert len(document["bad_answers"]) == 2
    assert good.config.password not in text

    assert main(args) == 0  # without logging in: every camera answered properly
    text = capsys.readouterr().out
    assert "✓ 127.0.0.1:" in text and "Front Door" in text and "answered 3 times" in text
    assert "✗ 127.0.0.1  not WS-Discovery XML" not in text  # reason, not a guess
    assert "the answer is not WS-Discovery XML" in text


@pytest.mark.usefixtures("restore_camwall_logging")
def test_cli_nothing_answers_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    silent = free_port()
    t0 = time.monotonic()
    assert (
        main(["discover", "--address", f"127.0.0.1:{silent}", "--no-multicast", "--timeout", "0.5"])
        == 3
    )
    assert time.monotonic() - t0 < 3
    assert "no device answered" in capsys.readouterr().out
    assert main(["discover", "--no-multicast"]) == 2
    assert "--address" in capsys.readouterr().err
    assert (
        main(
            [
                "discover",
                "--user",
                "a",
                "--password-env",
                "CAMWALL_UNSET_VAR_X",
                "--address",
                "127.0.0.1",
            ]
        )
        == 2
    )
    with pytest.raises(SystemExit):
        main(["discover", "--address", "127.0.0.1:http"])
