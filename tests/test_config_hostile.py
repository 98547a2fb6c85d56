"""A hostile-config corpus: every file is refused with a clear message, fast, never a traceback.

Each case is generated here (no fixture files): wrong types, huge, negative and non-finite
numbers, deep nesting, duplicate names and keys, huge polygons, unknown keys, bad bytes, an
empty file, a byte-order mark, a 10 MB file… Each must raise ConfigError within a second
whose message names the file, the key path and the line where there is one, and says what
is wrong in camwall's words (no pydantic or Python internals).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import camwall.config as config
from camwall.errors import ConfigError

H = "version = 1\n"
SECRET = "hunter2-Secret"


def cam(extra: str = "", name: str = "front", url: str = "rtsp://10.0.0.2/s") -> str:
    return f'[[camera]]\nname = "{name}"\nurl = "{url}"\n{extra}'


def polygon(points: int) -> str:
    """A convex polygon of ``points`` points on a circle, as TOML."""
    import math

    pts = [
        (
            1000 + 900 * math.cos(2 * math.pi * k / points),
            1000 + 900 * math.sin(2 * math.pi * k / points),
        )
        for k in range(points)
    ]
    return "[" + ", ".join(f"[{x:.3f}, {y:.3f}]" for x, y in pts) + "]"


def star(points: int) -> str:
    """A polygon that visits a circle's points in a star order: its edges cross."""
    import math

    order = [(k * 7) % points for k in range(points)]
    return (
        "["
        + ", ".join(
            f"[{1000 + 900 * math.cos(2 * math.pi * k / points):.3f}, "
            f"{1000 + 900 * math.sin(2 * math.pi * k / points):.3f}]"
            for k in order
        )
        + "]"
    )


@dataclass(frozen=True)
class Case:
    content: str | bytes
    #: What the message must say (after "file:line: key: ").
    says: str
    key: str | None = None
    line: int | None = None


CASES: dict[str, Case] = {
    # -- the file itself ----------------------------------------------------------------------
    "empty file": Case("", "missing required key; add version = 1", "version"),
    "only a byte-order mark": Case(b"\xef\xbb\xbf", "missing required key", "version"),
    "BOM then a mistake": Case(
        b"\xef\xbb\xbf" + (H + "[wall]\ngrid = 7\n").encode(),
        "7 is not a valid grid",
        "wall.grid",
        3,
    ),
    "latin-1 bytes": Case(
        H.encode() + b'[[camera]]\nname = "K\xfcche"\n',
        "is not UTF-8 text (bad byte at offset 32)",
        None,
        3,
    ),
    "UTF-16 file": Case(
        (H + cam()).encode("utf-16"), "is not UTF-8 text (bad byte at offset 0)", None, 1
    ),
    "NUL byte": Case(H + 'log_level = "IN\x00FO"\n', "invalid TOML", None, 2),
    "10 MB file": Case(
        H + "# " + "x" * (10 * 1024 * 1024) + "\n",
        "is 10.5 MB; a camwall config is at most 1024 KiB",
    ),
    "unterminated string": Case(H + cam() + 'user = "admin\n', "invalid TOML", None, 5),
    "binary garbage": Case(bytes(range(256)) * 4, "is not UTF-8 text", None, 2),
    # -- duplicates ---------------------------------------------------------------------------
    "duplicate key": Case(
        H + "[wall]\ngrid = 4\ngrid = 9\n", "invalid TOML: Cannot overwrite a value", None, 4
    ),
    "duplicate table": Case(H + "[wall]\ngrid = 4\n[wall]\ngrid = 9\n", "invalid TOML", None, 4),
    "duplicate key in a camera": Case(
        H + cam('url = "rtsp://10.0.0.3/s"\n'), "invalid TOML", None, 5
    ),
    "duplicate camera names": Case(
        H + cam() + cam(url="rtsp://10.0.0.3/s"),
        "'front' is already the name of camera[0]",
        "camera[1].name",
        6,
    ),
    "names sharing a folder": Case(
        H + cam(name="Front Door") + cam(name="front_door", url="rtsp://h/2"),
        "would share recording file names",
        "camera[1].name",
        6,
    ),
    # -- structure and unknown keys -----------------------------------------------------------
    "unknown top-level key": Case(
        H + "colour = 3\n", "unknown key; valid keys here: version, log_level", "colour", 2
    ),
    "unknown camera key": Case(
        H + cam("recrod = true\n"), "unknown key; did you mean 'record'?", "camera[0].recrod", 5
    ),
    "password key": Case(
        H + cam(f'passwd = "{SECRET}"\n'),
        "passwords do not go into the config file",
        "camera[0].passwd",
        5,
    ),
    "unknown onvif key": Case(
        H + cam('[camera.onvif]\nhots = "10.0.0.2"\n'),
        "did you mean 'host'?",
        "camera[0].onvif.hots",
        6,
    ),
    "unknown recording key": Case(
        H + "[recording]\nmax_size = 3\n", "unknown key", "recording.max_size", 3
    ),
    "wall is a number": Case(
        H + "wall = 5\n", "expected a table ([wall]), got an integer", "wall", 2
    ),
    "detection is an array": Case(
        H + "detection = [1, 2]\n", "expected a table ([detection]), got an array", "detection", 2
    ),
    "camera is a string": Case(
        H + 'camera = "front"\n', "expected an array of tables", "camera", 2
    ),
    "single [camera] table": Case(
        H + '[camera]\nname = "a"\nurl = "rtsp://h/s"\n',
        "write each camera as [[camera]]",
        "camera",
        2,
    ),
    "257 cameras": Case(
        H + "".join(cam(name=f"c{i}", url=f"rtsp://h/{i}") for i in range(257)),
        "has 257 cameras; a config holds at most 256",
        "camera",
        2,
    ),
    "tables nested 40 deep": Case(
        H + "[" + ".".join(["a"] * 40) + "]\nz = 1\n",
        "nested more than 16 levels deep",
        "a" + ".a" * 16,
        2,
    ),
    "arrays nested 100000 deep": Case(
        H + "\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply", None, 3
    ),
    "inline tables nested 5000 deep": Case(
        H + "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", "nested too deeply", None, 2
    ),
    "arrays nested 30 deep": Case(
        H + "x = " + "[" * 30 + "]" * 30 + "\n",
        "nested more than 16 levels deep",
        "x" + "[0]" * 16,
        2,
    ),
    # -- version and log level ----------------------------------------------------------------
    "version as text": Case('version = "1"\n', "expected an integer, got a string", "version", 1),
    "version as float": Case("version = 1.0\n", "expected an integer, got a number", "version", 1),
    "huge version": Case(
        "version = 99999999999999999999999\n",
        "schema version (a huge number) is not supported",
        "version",
        1,
    ),
    "log level a number": Case(
        H + "log_level = 5\n", "expected a string, got an integer", "log_level", 2
    ),
    "grid a boolean": Case(
        H + "[wall]\ngrid = true\n", 'expected an integer or "auto", got a boolean', "wall.grid", 3
    ),
    # -- numbers: negative, huge, non-finite, wrong type ----------------------------------------
    "negative segment": Case(
        H + "[recording]\nsegment_seconds = -1\n",
        "must be at least 1, got -1",
        "recording.segment_seconds",
        3,
    ),
    "NaN segment": Case(
        H + "[recording]\nsegment_seconds = nan\n",
        "must be a finite number, got nan",
        "recording.segment_seconds",
        3,
    ),
    "overflowing float": Case(
        H + "[recording]\nsegment_seconds = 1e400\n",
        "must be a finite number, got inf",
        "recording.segment_seconds",
        3,
    ),
    "max_total_gb 1e308": Case(
        H + "[recording]\nmax_total_gb = 1e308\n",
        "must be at most 1000000, got 1e+308",
        "recording.max_total_gb",
        3,
    ),
    "max_total_gb -inf": Case(
        H + "[recording]\nmax_total_gb = -inf\n",
        "must be a finite number, got -inf",
        "recording.max_total_gb",
        3,
    ),
    "max_age_days 1e6": Case(
        H + "[recording]\nmax_age_days = 1e6\n",
        "must be at most 36500, got 1000000",
        "recording.max_age_days",
        3,
    ),
    "max_age_days negative": Case(
        H + "[recording]\nmax_age_days = -7\n",
        "must be at least 0, got -7",
        "recording.max_age_days",
        3,
    ),
    "max_age_days a huge integer": Case(
        H + "[recording]\n\nmax_age_days = 1" + "0" * 40 + "\n",
        "must be at most 36500, got a huge number",
        "recording.max_age_days",
        4,
    ),
    "segment a date": Case(
        H + "[recording]\nsegment_seconds = 1979-05-27\n",
        "expected a number, got a date/time",
        "recording.segment_seconds",
        3,
    ),
    "detection fps zero": Case(
        H + "[detection]\nfps = 0\n", "must be greater than 0, got 0", "detection.fps", 3
    ),
    "detection fps huge": Case(
        H + "[detection]\nfps = 1e9\n", "must be at most 1000, got 1000000000", "detection.fps", 3
    ),
    "threshold negative": Case(
        H + "[detection]\nthreshold = -0.5\n",
        "must be at least 0, got -0.5",
        "detection.threshold",
        3,
    ),
    "threshold a word": Case(
        H + '[detection.thresholds]\nperson = "high"\n',
        "expected a number, got a string",
        "detection.thresholds.person",
        3,
    ),
    "1001 labels": Case(
        H + "[detection.thresholds]\n" + "".join(f"l{i} = 0.5\n" for i in range(1001)),
        "has more than 1000 entries",
        "detection.thresholds",
        2,
    ),
    "label of 70 characters": Case(
        H + "[detection.thresholds]\n" + "x" * 70 + " = 0.5\n",
        "label is longer than 64 characters",
        "detection.thresholds." + "x" * 70,
        3,
    ),
    "detect_fps negative": Case(
        H + cam("detect_fps = -5\n"), "must be greater than 0, got -5", "camera[0].detect_fps", 5
    ),
    "first frame timeout zero": Case(
        H + cam("first_frame_timeout_s = 0\n"),
        "must be greater than 0, got 0",
        "camera[0].first_frame_timeout_s",
        5,
    ),
    "read timeout infinite": Case(
        H + cam("read_timeout_s = inf\n"),
        "must be a finite number, got inf",
        "camera[0].read_timeout_s",
        5,
    ),
    "read timeout huge": Case(
        H + cam("read_timeout_s = 1e9\n"),
        "must be at most 3600, got 1000000000",
        "camera[0].read_timeout_s",
        5,
    ),
    "read timeout a string": Case(
        H + cam('read_timeout_s = "10s"\n'),
        "expected a number, got a string",
        "camera[0].read_timeout_s",
        5,
    ),
    "onvif port huge": Case(
        H + cam("[camera.onvif]\nport = 70000\n"),
        "must be from 1 to 65535, got 70000",
        "camera[0].onvif.port",
        6,
    ),
    "onvif port text": Case(
        H + cam('[camera.onvif]\nport = "80"\n'),
        "expected an integer, got a string",
        "camera[0].onvif.port",
        6,
    ),
    "onvif a string": Case(
        H + cam('onvif = "10.0.0.2"\n'),
        "expected a table ([camera[0].onvif]), got a string",
        "camera[0].onvif",
        5,
    ),
    # -- camera names and URLs ----------------------------------------------------------------
    "name too long": Case(
        H + cam(name="n" * 65), "is longer than 64 characters", "camera[0].name", 3
    ),
    "name empty": Case(H + cam(name=""), "must not be empty", "camera[0].name", 3),
    "name with a bell": Case(
        H + cam(name="front\\u0007"), "contains control characters", "camera[0].name", 3
    ),
    "name a number": Case(
        H + '[[camera]]\nname = 5\nurl = "rtsp://h/s"\n',
        "expected a string, got an integer",
        "camera[0].name",
        3,
    ),
    "url missing": Case(H + '[[camera]]\nname = "a"\n', "missing required key", "camera[0].url", 2),
    "url empty": Case(H + cam(url=""), "is empty", "camera[0].url", 4),
    "url scheme": Case(
        H + cam(url=f"ftp://u:{SECRET}@h/s"), "scheme 'ftp' is not supported", "camera[0].url", 4
    ),
    "url bad IPv6": Case(
        H + cam(url=f"rtsp://admin:{SECRET}@[::1/cam"),
        "has an IPv6 address without its closing ] (write it as [::1])",
        "camera[0].url",
        4,
    ),
    "url 3000 characters": Case(
        H + cam(url="rtsp://h/" + "p" * 3000), "is longer than 2048 characters", "camera[0].url", 4
    ),
    "url a number": Case(
        H + '[[camera]]\nname = "a"\nurl = 554\n',
        "expected a string, got an integer",
        "camera[0].url",
        4,
    ),
    "transport unknown": Case(
        H + cam('transport = "quic"\n'),
        '\'quic\' is not one of "tcp", "udp"',
        "camera[0].transport",
        5,
    ),
    "detect yes": Case(
        H + cam('detect = "yes"\n'), "expected true or false, got a string", "camera[0].detect", 5
    ),
    "password in password_env": Case(
        H + cam(f'password_env = "{SECRET}!"\n', url="rtsp://admin@h/s"),
        "must be the name of an environment variable",
        "camera[0].password_env",
        5,
    ),
    # -- polygons -----------------------------------------------------------------------------
    "masks a number": Case(
        H + cam("masks = 5\n"),
        "expected an array of polygons, got an integer",
        "camera[0].masks",
        5,
    ),
    "6000-point polygon": Case(
        H + cam(f"masks = [\n{polygon(6000)},\n]\n"),
        "has 6000 points; a polygon may have at most 1000",
        "camera[0].masks[0]",
        6,
    ),
    "4500 mask points in all": Case(
        H + cam("masks = [" + ", ".join([polygon(900)] * 5) + "]\n"),
        "have 4500 points in all; at most 4000 are allowed",
        "camera[0].masks",
        5,
    ),
    "a 100000-character key": Case(
        H + "k" * 100_000 + " = 1\n",
        "unknown key; valid keys here",
        '"' + "k" * 79 + '…"',
        2,
    ),
    "65 polygons": Case(
        H + cam("masks = [" + ", ".join([polygon(3)] * 65) + "]\n"),
        "has 65 polygons; at most 64 are allowed",
        "camera[0].masks",
        5,
    ),
    "1000-point star": Case(
        H + cam(f"masks = [\n{star(1000)},\n]\n"),
        "crosses the edge from point",
        "camera[0].masks[0]",
        6,
    ),
    "NaN point": Case(
        H + cam("masks = [[[0, 0], [nan, 0], [3, 3]]]\n"),
        "got [nan, 0]",
        "camera[0].masks[0][1]",
        5,
    ),
    "huge point": Case(
        H + cam("masks = [[[0, 0], [1e300, 0], [3, 3]]]\n"),
        "coordinates are frame pixels from 0 to 1000000",
        "camera[0].masks[0][1]",
        5,
    ),
    "negative point": Case(
        H + cam("masks = [\n  [[0, 0], [10, 0], [10, 10]],\n  [[0, 0], [-1, 5], [3, 3]],\n]\n"),
        "got [-1, 5]",
        "camera[0].masks[1][1]",
        7,
    ),
    "point of strings": Case(
        H + cam('masks = [[["0", "0"], [1, 0], [1, 1]]]\n'),
        "a point is [x, y] with two numbers",
        "camera[0].masks[0][0]",
        5,
    ),
}


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", CASES)
def test_hostile_file_gives_a_clear_error_quickly(tmp_path: Path, name: str) -> None:
    """ConfigError within a second; the message names file, line and key and says what."""
    case = CASES[name]
    file = tmp_path / "camwall.toml"
    if isinstance(case.content, bytes):
        file.write_bytes(case.content)
    else:
        file.write_text(case.content, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        config.load(file, env={})
    elapsed = time.perf_counter() - started
    err = info.value
    message = str(err)
    assert elapsed < 1.0, f"{name}: took {elapsed:.2f} s"
    assert case.says in message, message
    assert (err.key, err.line) == (case.key, case.line), message
    where = f"{file}:{case.line}" if case.line else str(file)
    assert message.startswith(f"{where}: {case.key}: " if case.key else f"{where}: "), message
    # camwall's words only: no library internals, no secrets, one line.
    for leak in ("pydantic", "Value error", "type=", "Traceback", SECRET, "input_value"):
        assert leak not in message, message
    assert "\n" not in message
