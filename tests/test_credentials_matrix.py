"""A password with every character a URL reserves connects, and shows nowhere.

The real RTSP server asks for basic auth with a user name and password holding every
printable ASCII punctuation character, a space and non-ASCII letters. Through ``camwall
check`` (text and --json), ``camwall run --headless`` (JSON lines) and config loading, with
the password raw or percent-encoded in the URL, or from ``password_env``: the camera streams,
a wrong password is a 401, and no output carries the password. Its marker fragments
(``Zq7``, ``Mw3``, ``Kx9``: start, middle, end) catch a partial leak too.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import string
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from camwall.cli import main
from camwall.config import load
from camwall.errors import ConfigError
from camwall.redact import forget_secrets
from camwall.testing.rtsp import RtspServer, gst_missing
from camwall.urls import encode_userinfo
from conftest import skip_or_fail
from support.faultservers import MjpegServer
from support.runtime_events import Collector

USER = "ad min@é"
PASSWORD = "Zq7 " + string.punctuation + " Mw3 é€😀 Kx9"
MARKERS = ("Zq7", "Mw3", "Kx9")
WRONG = "Wr0ng #/?@:% pw"
ENV = "CAMWALL_TEST_HOSTILE_PW"

pytestmark = pytest.mark.usefixtures("restore_camwall_logging")


def leaks(text: str) -> list[str]:
    """The password markers found in ``text``."""
    return [m for m in (*MARKERS, "Wr0ng") if m in text]


def raw_url(port: int, password: str = PASSWORD) -> str:
    """The URL as a person types it: the password raw."""
    return f"rtsp://{USER}:{password}@127.0.0.1:{port}/secure"


def encoded_url(port: int, password: str = PASSWORD) -> str:
    """The URL with user name and password percent-encoded."""
    user, pw = quote(USER, safe=""), quote(password, safe="")
    return f"rtsp://{user}:{pw}@127.0.0.1:{port}/secure"


@pytest.fixture(scope="module")
def hostile() -> Iterator[RtspServer]:
    """An RTSP server whose ``secure`` mount wants USER and PASSWORD."""
    reason = gst_missing()
    if reason:
        skip_or_fail(reason)
    server = RtspServer(
        ("secure:width=160,height=96,fps=15,auth=1", "cam:width=160,height=96,fps=15"),
        credentials=f"{USER}:{PASSWORD}",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    forget_secrets()


def camwall(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``camwall`` command as a real child process."""
    return subprocess.run(
        [sys.executable, "-m", "camwall", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.rtsp
@pytest.mark.parametrize("form", ["raw", "encoded"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_check_connects_with_any_password(hostile: RtspServer, form: str, as_json: bool) -> None:
    """The right password plays, a wrong one is a 401; neither is ever printed."""
    make = raw_url if form == "raw" else encoded_url
    args = ["check", make(hostile.port), make(hostile.port, WRONG), "--seconds", "0.3"]
    result = camwall(*args, *(["--json"] if as_json else []))
    out = result.stdout + result.stderr
    assert result.returncode == 3, out
    assert not leaks(out), out
    shown = f"rtsp://***@127.0.0.1:{hostile.port}/secure"
    if as_json:
        good, bad = json.loads(result.stdout)["checks"]
        assert good["ok"] and good["codec"] == "h264" and good["url"] == shown, good
        assert bad["error"] == "SourceAuthError" and "401" in bad["reason"], bad
    else:
        assert f"{shown}: OK" in result.stdout
        assert f"{shown}: FAILED (SourceAuthError)" in result.stdout
        assert "Traceback" not in result.stderr


def test_check_mjpeg_over_http_with_any_password() -> None:
    """The same password, raw in an http:// URL, against an MJPEG camera with basic auth."""
    server = MjpegServer(width=160, height=96, user=USER, password=PASSWORD)
    try:
        good = f"http://{USER}:{PASSWORD}@127.0.0.1:{server.port}/video.mjpg"
        bad = f"http://{USER}:{WRONG}@127.0.0.1:{server.port}/video.mjpg"
        result = camwall("check", good, bad, "--seconds", "0.3", "--json")
    finally:
        server.stop()
    assert not leaks(result.stdout + result.stderr), result.stdout + result.stderr
    good_report, bad_report = json.loads(result.stdout)["checks"]
    assert good_report["ok"] and good_report["codec"] == "mjpeg", good_report
    assert bad_report["error"] == "SourceAuthError", bad_report
    assert result.returncode == 3


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("rtsp://admin:Zq7pw@[::1/cam", "rtsp://***@[::1/cam: has an IPv6 address without"),
        ("rtsp://admin:Zq7pw@10.0.0.5:99999/x", "invalid port (a number from 1 to 65535)"),
        ("rtsp://admin:Zq7pw@10.0.0.5:0/x", "invalid port"),
        ("rtsp://admin:Zq7pw@cam era/x", "space or control character in its host"),
        ("rtp://admin:Zq7pw@10.0.0.5/x", "scheme 'rtp' is not supported"),
        ("", "is empty"),
        ("rtsp://***@10.0.0.5/x", "this URL is masked"),
    ],
)
def test_check_a_malformed_url_is_one_line_and_exit_2(
    url: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's ``camwall check 'rtsp://admin:pw@[::1/cam'``: a reason, never a traceback."""
    for extra in ([], ["--json"]):
        code = main(["check", url, *extra])
        captured = capsys.readouterr()
        assert code == 2
        assert captured.out == ""
        assert captured.err.startswith("camwall: error: ") and reason in captured.err
        assert len(captured.err.splitlines()) == 1
        assert "Zq7" not in captured.err


def test_check_malformed_url_in_a_real_process() -> None:
    result = camwall("check", "rtsp://admin:Zq7pw@[::1/cam", "--json")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "camwall: error: rtsp://***@[::1/cam: has an IPv6 address without its closing ] "
        "(write it as [::1])"
    )
    assert result.stdout == ""


def _config(path: Path, cameras: dict[str, dict[str, str]]) -> Path:
    lines = ["version = 1"]
    for name, keys in cameras.items():
        lines += ["[[camera]]", f"name = {json.dumps(name)}"]
        # json.dumps(ensure_ascii=False) writes a valid TOML basic string.
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in keys.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cameras(port: int) -> dict[str, dict[str, str]]:
    bare = f"rtsp://127.0.0.1:{port}/secure"
    user_url = f"rtsp://{quote(USER, safe='')}@127.0.0.1:{port}/secure"
    return {
        "raw in url": {"url": raw_url(port)},
        "encoded in url": {"url": encoded_url(port)},
        "password_env": {"url": user_url, "password_env": ENV},
        "user and password_env": {"url": bare, "user": USER, "password_env": ENV},
    }


@pytest.mark.rtsp
def test_config_cameras_check_with_every_password_form(hostile: RtspServer, tmp_path: Path) -> None:
    config = _config(tmp_path / "camwall.toml", _cameras(hostile.port))
    result = camwall(
        "check", "--config", str(config), "--json", "--seconds", "0.3", env={ENV: PASSWORD}
    )
    out = result.stdout + result.stderr
    assert not leaks(out), out
    doc = json.loads(result.stdout)
    assert [(c["camera"], c["ok"]) for c in doc["checks"]] == [
        (name, True) for name in _cameras(hostile.port)
    ], doc
    assert result.returncode == 0


def test_config_load_never_shows_the_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Loading, printing and failing to load a config: no password in any text."""
    caplog.set_level(logging.DEBUG)
    config = _config(tmp_path / "ok.toml", _cameras(8554))
    loaded = load(config, env={ENV: PASSWORD})
    texts = [repr(loaded), str(loaded)]
    for camera in loaded.cameras:
        texts += [repr(camera), camera.display_url]
        resolved = camera.resolved_url({ENV: PASSWORD})
        assert encode_userinfo(PASSWORD) in resolved  # what FFmpeg gets
    bad = _config(
        tmp_path / "bad.toml",
        {
            "v6": {"url": f"rtsp://{USER}:{PASSWORD}@[::1/cam"},
            "port": {"url": f"rtsp://{USER}:{PASSWORD}@10.0.0.5:99999/x"},
        },
    )
    with pytest.raises(ConfigError) as info:
        load(bad)
    texts.append(str(info.value))
    assert "camera[0].url: has an IPv6 address without its closing ]" in str(info.value)
    assert "camera[1].url: has an invalid port" in str(info.value)
    texts += [r.getMessage() for r in caplog.records]
    assert not leaks("\n".join(texts)), texts


class _Headless:
    """``camwall run --headless`` as a child; stdout JSON lines collected."""

    def __init__(self, config: Path, env: dict[str, str], stderr: Any) -> None:
        self.events = Collector()
        self.stdout: list[str] = []
        args = ["run", "--headless", "--config", str(config), "--stats-interval", "1"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "camwall", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **env},
        )
        self._reader = threading.Thread(target=self._read, name="test-headless-creds", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line)
            self.events.add(json.loads(line))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self._reader.join(10)
            assert self.proc.stdout is not None
            self.proc.stdout.close()


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_headless_streams_and_never_prints_the_password(
    hostile: RtspServer, tmp_path: Path
) -> None:
    """Every password form streams; a wrong one fails with 401; JSON lines and stderr clean."""
    cameras = _cameras(hostile.port)
    cameras["wrong"] = {"url": raw_url(hostile.port, WRONG)}
    config = _config(tmp_path / "camwall.toml", cameras)
    with (tmp_path / "stderr.txt").open("w+", encoding="utf-8") as err:
        child = _Headless(config, {ENV: PASSWORD}, err)
        try:
            for name in _cameras(hostile.port):
                child.events.wait_type("state", 90, camera=name, state="streaming")
                child.events.wait_type("stats", 30, camera=name)
            failed = child.events.wait(
                lambda e: e.get("camera") == "wrong" and "401" in str(e.get("reason") or ""), 60
            )
            assert failed["type"] == "state"
        finally:
            code = child.stop()
        err.seek(0)
        stderr = err.read()
    stdout = "".join(child.stdout)
    assert code == 0, stderr[-3000:]
    assert not leaks(stdout), [line for line in child.stdout if leaks(line)][:3]
    assert not leaks(stderr), stderr[-3000:]
    assert "Traceback" not in stderr
