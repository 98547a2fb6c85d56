"""``camwall check`` against the real RTSP server, a refused port, a 401, and a config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camwall.cli import main
from fixtures.rtsp import PASSWORD, USER, RtspServer

pytestmark = pytest.mark.usefixtures("restore_camwall_logging")


@pytest.mark.rtsp
def test_check_reports_the_stream(
    rtsp_shared: RtspServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Codec, resolution, rate, bitrate, time to first frame and decode time; exit code 0."""
    code = main(["check", rtsp_shared.url("cam"), "--seconds", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "OK" in out and "h264 320×180" in out
    assert "first frame after" in out and "ms decode per frame" in out and "Mbit/s" in out
    assert "all 1 OK" in out


@pytest.mark.rtsp
def test_check_failures_give_reasons_and_exit_3(
    rtsp_shared: RtspServer, free_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused port and a wrong password: each FAILED with its reason; exit code 3."""
    code = main(
        [
            "check",
            f"rtsp://127.0.0.1:{free_port}/x",
            rtsp_shared.url("secure", USER, "wrong-pass"),
            "--seconds",
            "0.5",
        ]
    )
    captured = capsys.readouterr()
    assert code == 3
    out = captured.out
    assert "FAILED (SourceRefusedError)" in out and str(free_port) in out
    assert "FAILED (SourceAuthError)" in out and "401" in out
    assert "2 checked, 2 failed" in out
    assert "wrong-pass" not in out + captured.err


@pytest.mark.rtsp
def test_check_json_parses(
    rtsp_shared: RtspServer, free_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json: one document, a result per URL, the same exit codes."""
    code = main(
        [
            "check",
            "--json",
            "--seconds",
            "0.5",
            rtsp_shared.url("cam"),
            rtsp_shared.url("secure", USER, "nope-nope"),
            f"rtsp://127.0.0.1:{free_port}/x",
        ]
    )
    captured = capsys.readouterr()
    assert code == 3
    doc = json.loads(captured.out)
    assert doc["ok"] is False and doc["config"] is None
    ok, auth, refused = doc["checks"]
    assert ok["ok"] and (ok["codec"], ok["width"], ok["height"]) == ("h264", 320, 180)
    assert ok["time_to_first_frame_s"] > 0 and ok["decode_ms_per_frame"] > 0
    assert auth["error"] == "SourceAuthError" and "401" in auth["reason"]
    assert auth["url"] == f"rtsp://***@127.0.0.1:{rtsp_shared.port}/secure"
    assert refused["error"] == "SourceRefusedError"
    assert "nope-nope" not in captured.out + captured.err


@pytest.mark.rtsp
def test_check_the_config(
    rtsp_shared: RtspServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No URLs: every camera of the config (password from the environment), main and
    substream, and the recording folder."""
    monkeypatch.setenv("TEST_CAM_PW", PASSWORD)
    config = tmp_path / "camwall.toml"
    config.write_text(
        f"""
version = 1
[recording]
dir = "rec"
[[camera]]
name = "secure door"
url = "rtsp://{USER}@127.0.0.1:{rtsp_shared.port}/secure"
password_env = "TEST_CAM_PW"
substream_url = "{rtsp_shared.url("cam")}"
record = true
"""
    )
    code = main(["check", "--config", str(config), "--json", "--seconds", "0.5"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert code == 0, doc
    assert doc["config"] == str(config)
    assert [(c["camera"], c["stream"], c["ok"]) for c in doc["checks"]] == [
        ("secure door", "main", True),
        ("secure door", "sub", True),
    ]
    assert doc["recording_dir"] == {"dir": str(tmp_path / "rec"), "ok": True, "reason": None}
    assert PASSWORD not in captured.out + captured.err


def test_check_an_unwritable_recording_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recording camera whose folder cannot be made: FAILED with the reason, exit 3."""
    (tmp_path / "file").write_text("")
    config = tmp_path / "camwall.toml"
    config.write_text(
        'version = 1\n[recording]\ndir = "file/rec"\n'
        '[[camera]]\nname = "s"\nurl = "synthetic://s?width=64&height=48&fps=10"\nrecord = true\n'
    )
    code = main(["check", "--config", str(config), "--seconds", "0.3"])
    out = capsys.readouterr().out
    assert code == 3
    assert "[s] synthetic://s" in out and "OK" in out
    assert "recording folder: FAILED" in out and "not a directory" in out.lower()


def test_check_config_errors_exit_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken config: exit code 2, one line on stderr naming file and key, no traceback."""
    config = tmp_path / "bad.toml"
    config.write_text('version = 1\n[[camera]]\nname = "a"\nurl = "rtsp://h/x"\ntrasport = "tcp"\n')
    code = main(["check", "--config", str(config)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("camwall: error: ")
    assert "camera[0].trasport" in captured.err and "did you mean 'transport'" in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err and captured.out == ""


def test_check_without_urls_or_config_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No URL and no config file at the default place: exit 2 and a hint."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nowhere"))
    code = main(["check"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(tmp_path / "nowhere") in err and "--config" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_seconds_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse rejects a non-positive --seconds with exit code 2."""
    with pytest.raises(SystemExit) as exc:
        main(["check", "--seconds", "0", "rtsp://127.0.0.1/x"])
    assert exc.value.code == 2
    assert "--seconds" in capsys.readouterr().err
