"""Config → TOML text, and an atomic save.

A small writer for exactly the subset camwall emits (strings, numbers, booleans, arrays,
tables, arrays of tables), so saving needs no extra dependency. Output reads back with
``tomllib`` to an equal :class:`~camwall.config.model.Config`. Comments of a hand-written file
are not kept: a saved file is camwall's canonical form.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from camwall.config.model import Camera, Config, default_config_path

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}

Value = str | bool | int | float | Path | Sequence["Value"]


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    """``key`` bare if TOML allows it, else quoted."""
    return key if key and set(key) <= _BARE_KEY_CHARS else toml_string(key)


def toml_value(value: Value) -> str:
    """One TOML value (inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} to a camwall config")
        # Whole numbers as integers: every number key reads ints and floats alike.
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, Path):
        return toml_string(str(value))
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def _pairs(pairs: Iterable[tuple[str, Value | None]]) -> list[str]:
    return [f"{toml_key(k)} = {toml_value(v)}" for k, v in pairs if v is not None]


def _camera_lines(cam: Camera) -> list[str]:
    lines = ["[[camera]]"]
    lines += _pairs(
        [
            ("name", cam.name),
            ("url", cam.url),
            ("substream_url", cam.substream_url),
            ("transport", cam.transport),
            ("user", cam.user),
            ("password_env", cam.password_env),
            ("detect", cam.detect),
            ("detect_fps", cam.detect_fps),
            ("record", cam.record),
            ("first_frame_timeout_s", cam.first_frame_timeout_s),
            ("read_timeout_s", cam.read_timeout_s),
        ]
    )
    if cam.masks:
        lines.append("masks = [")
        lines += [f"  {toml_value([list(p) for p in polygon])}," for polygon in cam.masks]
        lines.append("]")
    if cam.onvif is not None:
        lines += ["", "[camera.onvif]"]
        lines += _pairs(
            [
                ("host", cam.onvif.host),
                ("port", cam.onvif.port),
                ("user", cam.onvif.user),
                ("password_env", cam.onvif.password_env),
            ]
        )
    return lines


def dumps(config: Config) -> str:
    """``config`` as TOML text (password_env references kept; no resolved password)."""
    rec, det = config.recording, config.detection
    lines = ["# camwall configuration (see docs/config.md)"]
    lines += _pairs([("version", config.version), ("log_level", config.log_level)])
    lines += ["", "[wall]", *_pairs([("grid", config.wall.grid)])]
    lines += ["", "[recording]"]
    lines += _pairs(
        [
            ("dir", rec.dir),
            ("segment_seconds", rec.segment_seconds),
            ("max_age_days", rec.max_age_days),
            ("max_total_gb", rec.max_total_gb),
        ]
    )
    lines += ["", "[detection]"]
    lines += _pairs(
        [
            ("model", det.model),
            ("labels", det.labels),
            ("fps", det.fps),
            ("threshold", det.threshold),
        ]
    )
    if det.thresholds:
        lines += ["", "[detection.thresholds]", *_pairs(sorted(det.thresholds.items()))]
    for cam in config.cameras:
        lines += ["", *_camera_lines(cam)]
    return "\n".join(lines) + "\n"


def save(config: Config, path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``config`` atomically (temp file + ``os.replace``) and return the path written.

    ``path`` defaults to the file the config came from, else the default location. The text
    is validated before anything is written, so a bad config never replaces a good file.
    A new file gets mode 0600 (a URL may hold a password); an existing file keeps its mode.
    """
    from camwall.config.parse import parse_text

    target = Path(path) if path is not None else (config.source or default_config_path())
    text = dumps(config)
    parse_text(text, path=target, check_env=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o600
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Make the rename itself durable: a power cut right after must not bring back the old file.
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return target
