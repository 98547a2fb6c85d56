"""Every kind of config mistake gives one precise message: the file, the key path, the reason.

No message, ever, contains a password (from the environment or written into a URL).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import camwall.config as config
from camwall.errors import ConfigError

SECRET = "Sup3r-S3cret!"
INLINE = "InL1ne-pw"
ENV = {"CAM1_PASS": SECRET}
HEAD = "version = 1\n"


def located_error(
    tmp_path: Path, text: str, env: dict[str, str] | None = None
) -> tuple[int | None, str]:
    """Load ``text`` as cameras.toml; the error's line and its message after ``file:line: ``."""
    file = tmp_path / "cameras.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(file, env=ENV if env is None else env)
    message = str(info.value)
    for secret in (SECRET, INLINE):
        assert secret not in message and secret not in repr(info.value)
    line = info.value.line
    prefix = f"{file}:{line}: " if line is not None else f"{file}: "
    assert message.startswith(prefix), message
    return line, message[len(prefix) :]


def error_for(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    """Load ``text`` as cameras.toml and return the error message (after ``file:line: ``)."""
    return located_error(tmp_path, text, env)[1]


def cam(extra: str = "", *, name: str = "front", url: str = "rtsp://10.0.0.2/stream1") -> str:
    return f'[[camera]]\nname = "{name}"\nurl = "{url}"\n{extra}'


CASES = {
    "unknown key with suggestion": (
        HEAD + cam('trasport = "udp"\n'),
        "camera[0].trasport: unknown key; did you mean 'transport'?",
    ),
    "unknown table with suggestion": (
        HEAD + '[[cameras]]\nname = "a"\n',
        "cameras: unknown key; did you mean 'camera'?",
    ),
    "unknown key without a close match lists the valid ones": (
        HEAD + "[wall]\ncolumns = 3\n",
        "wall.columns: unknown key; valid keys here: grid, decode_budget, nodes",
    ),
    "a password key": (
        HEAD + cam(f'password = "{INLINE}"\n'),
        "camera[0].password: unknown key; passwords do not go into the config file; put the "
        'password in an environment variable and set password_env = "VARIABLE_NAME"',
    ),
    "wrong type": (
        HEAD + '[recording]\nsegment_seconds = "60"\n',
        "recording.segment_seconds: expected a number, got a string",
    ),
    "wrong type, boolean for number": (
        HEAD + cam("detect_fps = true\n"),
        "camera[0].detect_fps: expected a number, got a boolean",
    ),
    "wrong type, string for boolean": (
        HEAD + cam('record = "yes"\n'),
        "camera[0].record: expected true or false, got a string",
    ),
    "bad URL scheme": (
        HEAD + cam(name="a") + cam(name="b") + cam(name="c", url=f"rtp://u:{INLINE}@10.0.0.9/x"),
        "camera[2].url: scheme 'rtp' is not supported; use rtsp, rtsps, http, https or a file "
        "path (or a webcam number, synthetic://)",
    ),
    "URL without scheme": (
        HEAD + cam(url="192.168.1.10:554/stream1"),
        "camera[0].url: has no scheme; write it as rtsp://192.168.1.10:554/stream1",
    ),
    "URL without host": (
        HEAD + cam(url="rtsp:///stream1"),
        "camera[0].url: has no host name",
    ),
    "URL with a bad port": (
        HEAD + cam(url="rtsp://10.0.0.2:99999/s"),
        "camera[0].url: has an invalid port (a number from 1 to 65535)",
    ),
    "missing file": (
        HEAD + cam(url="videos/nothere.mp4"),
        "camera[0].url: no such file: {dir}/videos/nothere.mp4 (camera addresses start with "
        "rtsp://, rtsps://, http:// or https://)",
    ),
    "missing required key": (
        HEAD + '[[camera]]\nname = "front"\n',
        "camera[0].url: missing required key",
    ),
    "missing name": (
        HEAD + '[[camera]]\nurl = "rtsp://h/s"\n',
        "camera[0].name: missing required key",
    ),
    "empty name": (
        HEAD + cam(name="  "),
        "camera[0].name: must not be empty",
    ),
    "duplicate camera names": (
        HEAD + cam(name="front") + cam(name="front", url="rtsp://10.0.0.3/s"),
        "camera[1].name: 'front' is already the name of camera[0]; camera names must be unique",
    ),
    "names that collide as file names": (
        HEAD + cam(name="front door") + cam(name="front_door", url="rtsp://10.0.0.3/s"),
        "camera[1].name: 'front_door' and 'front door' (camera[0]) would share recording file "
        "names (front_door_…); make them differ in letters or digits",
    ),
    "camera fps 0": (
        HEAD + cam("detect_fps = 0\n"),
        "camera[0].detect_fps: must be greater than 0, got 0",
    ),
    "detection fps negative": (
        HEAD + "[detection]\nfps = -2.5\n",
        "detection.fps: must be greater than 0, got -2.5",
    ),
    "threshold above 1": (
        HEAD + "[detection.thresholds]\nperson = 1.5\n",
        "detection.thresholds.person: must be at most 1, got 1.5",
    ),
    "threshold of a label with a space": (
        HEAD + '[detection.thresholds]\n"traffic light" = -0.1\n',
        'detection.thresholds."traffic light": must be at least 0, got -0.1',
    ),
    "grid 5": (
        HEAD + "[wall]\ngrid = 5\n",
        'wall.grid: 5 is not a valid grid; use 1, 4, 9, 16 or "auto"',
    ),
    "grid word": (
        HEAD + '[wall]\ngrid = "big"\n',
        "wall.grid: 'big' is not a valid grid; use 1, 4, 9, 16 or \"auto\"",
    ),
    "segment too short": (
        HEAD + "[recording]\nsegment_seconds = 0.5\n",
        "recording.segment_seconds: must be at least 1, got 0.5",
    ),
    "infinite retention number": (
        HEAD + "[recording]\nmax_total_gb = inf\n",
        "recording.max_total_gb: must be a finite number, got inf",
    ),
    "bad transport": (
        HEAD + cam('transport = "tcpp"\n'),
        "camera[0].transport: 'tcpp' is not one of \"tcp\", \"udp\"; did you mean 'tcp'?",
    ),
    "bad log level": (
        HEAD + 'log_level = "verbose"\n',
        'log_level: \'verbose\' is not one of "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"',
    ),
    "unset env var": (
        HEAD + cam('password_env = "CAM9_PASS"\n', url="rtsp://admin@10.0.0.2/s"),
        "camera[0].password_env: environment variable CAM9_PASS is not set; export it before "
        "starting camwall (or set it in the service's environment)",
    ),
    "the password itself in password_env": (
        HEAD + cam(f'password_env = "{INLINE}"\n', url="rtsp://admin@10.0.0.2/s"),
        "camera[0].password_env: must be the name of an environment variable (letters, digits "
        "and _, not starting with a digit), not the password itself",
    ),
    "password_env without a user": (
        HEAD + cam('password_env = "CAM1_PASS"\n'),
        "camera[0].password_env: the camera has no user name to go with the password; put one "
        'in the URL (USER@ before the host) or set user = "..."',
    ),
    "password inline and password_env": (
        HEAD + cam('password_env = "CAM1_PASS"\n', url=f"rtsp://admin:{INLINE}@10.0.0.2/s"),
        "camera[0].url: contains a password and password_env is set too; remove the password "
        "from the URL",
    ),
    "two user names": (
        HEAD + cam('user = "bob"\n', url="rtsp://admin@10.0.0.2/s"),
        "camera[0].user: the URL names a different user; keep the user in one place",
    ),
    "invalid TOML syntax": (
        HEAD + '[[camera]]\nname = "front"\nurl = rtsp://10.0.0.2/s\n',
        "invalid TOML: Invalid value (at line 4, column 7)",
    ),
    "unsupported schema version": (
        "version = 2\n" + cam(),
        "version: schema version 2 is not supported; this camwall reads version 1 (written for "
        "a newer camwall: upgrade camwall)",
    ),
    "missing schema version": (
        cam(),
        "version: missing required key; add version = 1 at the top of the file",
    ),
    "version as text": (
        'version = "1"\n',
        "version: expected an integer, got a string",
    ),
    "polygon with two points": (
        HEAD + cam("masks = [[[0, 0], [10, 10]]]\n"),
        "camera[0].masks[0]: a polygon needs at least 3 points, got 2 (e.g. [[0, 0], [200, 0], "
        "[200, 100]])",
    ),
    "polygon point with three numbers": (
        HEAD + cam("masks = [[[0, 0], [10, 0], [10, 10]], [[0, 0], [5, 5, 5], [0, 5]]]\n"),
        "camera[0].masks[1][1]: a point is [x, y] with two numbers",
    ),
    "polygon with negative coordinates": (
        HEAD + cam("masks = [[[0, 0], [-10, 0], [10, 10]]]\n"),
        "camera[0].masks[0][1]: coordinates are frame pixels from 0 to 1000000; got [-10, 0]",
    ),
    "polygon whose edges cross": (
        HEAD + cam("masks = [[[0, 0], [100, 0], [0, 50], [100, 100]]]\n"),
        "camera[0].masks[0]: the edge from point 1 to point 2 crosses the edge from point 3 to "
        "point 0; list the points in order around the area",
    ),
    "polygon on a line": (
        HEAD + cam("masks = [[[0, 0], [5, 5], [10, 10]]]\n"),
        "camera[0].masks[0]: the polygon has no area (all its points lie on one line)",
    ),
    "polygon not an array of points": (
        HEAD + cam('masks = ["left half"]\n'),
        "camera[0].masks[0]: a polygon is an array of [x, y] points (e.g. [[0, 0], [200, 0], "
        "[200, 100]])",
    ),
    "single [camera] table": (
        HEAD + '[camera]\nname = "front"\nurl = "rtsp://h/s"\n',
        "camera: write each camera as [[camera]] (an array of tables), not [camera]",
    ),
    "onvif port out of range": (
        HEAD + cam("[camera.onvif]\nport = 0\n"),
        "camera[0].onvif.port: must be from 1 to 65535, got 0",
    ),
    "onvif host with a scheme": (
        HEAD + cam('[camera.onvif]\nhost = "http://10.0.0.2"\n'),
        "camera[0].onvif.host: must be a host name or IP address (no scheme, path or user)",
    ),
    "onvif unset env var": (
        HEAD + cam('[camera.onvif]\nuser = "admin"\npassword_env = "ONVIF_PW"\n'),
        "camera[0].onvif.password_env: environment variable ONVIF_PW is not set; export it "
        "before starting camwall (or set it in the service's environment)",
    ),
    "onvif without a host for a file camera": (
        HEAD + cam("[camera.onvif]\nport = 80\n", url="{clip}"),
        "camera[0].onvif.host: missing required key (the camera URL has no host)",
    ),
    "missing model file": (
        HEAD + '[detection]\nmodel = "models/yolo.onnx"\n',
        "detection.model: no such file: {dir}/models/yolo.onnx",
    ),
}


LINES = {
    "unknown key with suggestion": 5,
    "unknown table with suggestion": 2,
    "unknown key without a close match lists the valid ones": 3,
    "a password key": 5,
    "wrong type": 3,
    "wrong type, boolean for number": 5,
    "wrong type, string for boolean": 5,
    "bad URL scheme": 10,
    "URL without scheme": 4,
    "URL without host": 4,
    "URL with a bad port": 4,
    "missing file": 4,
    "missing required key": 2,
    "missing name": 2,
    "empty name": 3,
    "duplicate camera names": 6,
    "names that collide as file names": 6,
    "camera fps 0": 5,
    "detection fps negative": 3,
    "threshold above 1": 3,
    "threshold of a label with a space": 3,
    "grid 5": 3,
    "grid word": 3,
    "segment too short": 3,
    "infinite retention number": 3,
    "bad transport": 5,
    "bad log level": 2,
    "unset env var": 5,
    "the password itself in password_env": 5,
    "password_env without a user": 5,
    "password inline and password_env": 4,
    "two user names": 5,
    "invalid TOML syntax": 4,
    "unsupported schema version": 1,
    "missing schema version": None,
    "version as text": 1,
    "polygon with two points": 5,
    "polygon point with three numbers": 5,
    "polygon with negative coordinates": 5,
    "polygon whose edges cross": 5,
    "polygon on a line": 5,
    "polygon not an array of points": 5,
    "single [camera] table": 2,
    "onvif port out of range": 6,
    "onvif host with a scheme": 6,
    "onvif unset env var": 7,
    "onvif without a host for a file camera": 5,
    "missing model file": 3,
}


@pytest.mark.parametrize("case", CASES)
def test_each_mistake_has_a_precise_message(tmp_path: Path, case: str) -> None:
    """The message names the file, the line, the key path and says what is wrong."""
    text, expected = CASES[case]
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    text = text.replace("{clip}", str(clip))
    line, message = located_error(tmp_path, text)
    assert message == expected.replace("{dir}", str(tmp_path))
    assert line == LINES[case]


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    """One run shows every mistake in the file, each on its own line with its key path."""
    text = HEAD + "[wall]\ngrid = 5\n" + cam('transport = "tcpp"\ndetect_fps = 0\n')
    message = error_for(tmp_path, text)
    assert message.splitlines() == [
        "3 problems:",
        '  line 3: wall.grid: 5 is not a valid grid; use 1, 4, 9, 16 or "auto"',
        "  line 7: camera[0].transport: 'tcpp' is not one of \"tcp\", \"udp\"; did you mean 'tcp'?",
        "  line 8: camera[0].detect_fps: must be greater than 0, got 0",
    ]


def test_error_carries_path_and_key(tmp_path: Path) -> None:
    """Callers (the CLI, the settings dialog) can point at the key without parsing text."""
    file = tmp_path / "cameras.toml"
    file.write_text(HEAD + "[wall]\ngrid = 5\n")
    with pytest.raises(ConfigError) as info:
        config.load(file)
    assert info.value.path == str(file)
    assert info.value.key == "wall.grid"
    assert info.value.line == 3
    assert info.value.problems == (
        (3, "wall.grid", '5 is not a valid grid; use 1, 4, 9, 16 or "auto"'),
    )
    assert isinstance(info.value, ValueError)


def test_inline_password_is_allowed_with_a_warning_that_does_not_echo_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A password written into the URL works, but camwall warns (masked) and suggests password_env."""
    file = tmp_path / "cameras.toml"
    file.write_text(HEAD + cam(url=f"rtsp://admin:{INLINE}@10.0.0.2/s"))
    cfg = config.load(file)
    assert cfg.cameras[0].resolved_url() == f"rtsp://admin:{INLINE}@10.0.0.2/s"
    assert cfg.warnings == (
        f"{file}:4: camera[0].url: contains a password in clear text; move it into an environment "
        "variable and set password_env (the password is never shown)",
    )
    assert any("contains a password in clear text" in r.getMessage() for r in caplog.records)
    assert all(INLINE not in r.getMessage() for r in caplog.records)
    assert INLINE not in repr(cfg) and INLINE not in str(cfg.cameras[0])


def test_type_errors_never_echo_url_values(tmp_path: Path) -> None:
    """A URL in the wrong place (a number key) is reported by type, never shown."""
    text = HEAD + cam(f'detect_fps = "rtsp://admin:{INLINE}@h/s"\n')
    assert error_for(tmp_path, text) == "camera[0].detect_fps: expected a number, got a string"


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "file not found; docs/config.example.toml is a commented example to start from"),
        (b"version = 1\n\xff\xfe", "is not UTF-8 text (bad byte at offset 12); save it as UTF-8"),
        ("dir", "is a directory, not a config file"),
    ],
    ids=["missing", "not-utf8", "directory"],
)
def test_unreadable_files(tmp_path: Path, content: bytes | str | None, expected: str) -> None:
    """A file that is missing, not text or a folder says so, naming the path."""
    file = tmp_path / "cameras.toml"
    if content == "dir":
        file.mkdir()
    elif isinstance(content, bytes):
        file.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        config.load(file)
    line = ":2" if isinstance(content, bytes) else ""
    assert str(info.value) == f"{file}{line}: {expected}"


def test_missing_default_file_mentions_the_default_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no --config, the error names where camwall looked and how to point elsewhere."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    expected_path = tmp_path / "xdg" / "camwall" / "camwall.toml"
    assert config.default_config_path() == expected_path
    with pytest.raises(ConfigError) as info:
        config.load()
    assert str(info.value) == (
        f"{expected_path}: file not found (the default location; pass --config to use "
        "another); docs/config.example.toml is a commented example to start from"
    )


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """Editors that write a byte-order mark do not break the config."""
    file = tmp_path / "cameras.toml"
    file.write_bytes(b"\xef\xbb\xbf" + (HEAD + cam()).encode())
    assert config.load(file).cameras[0].name == "front"
