"""TOML text → validated :class:`~camwall.config.model.Config`, with errors that name the key.

Every problem names the file, the key path (``camera[2].url``, 0-based like the array in the
file) and what is wrong. All problems of a file are collected and reported together, so one
run of ``camwall check`` shows everything to fix. Values are echoed only where they cannot
be secret (enumerations, numbers); URLs never appear unmasked.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from camwall.config.model import (
    GRIDS,
    LOG_LEVELS,
    SCHEMA_VERSION,
    TRANSPORTS,
    Camera,
    Config,
    DetectionConfig,
    Grid,
    OnvifConfig,
    RecordingConfig,
    Transport,
    WallConfig,
)
from camwall.config.names import safe_name
from camwall.config.polygons import masks_of
from camwall.config.tables import MISSING, Problems, Table, key_path, type_name
from camwall.config.urls import UrlProblem, file_path, url_kind, userinfo
from camwall.errors import ConfigError
from camwall.redact import redact

log = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_NAME = 64

TOP_KEYS = ("version", "log_level", "wall", "recording", "detection", "camera")
WALL_KEYS = ("grid",)
RECORDING_KEYS = ("dir", "segment_seconds", "max_age_days", "max_total_gb")
DETECTION_KEYS = ("model", "labels", "fps", "threshold", "thresholds")
CAMERA_KEYS = (
    "name",
    "url",
    "substream_url",
    "transport",
    "user",
    "password_env",
    "onvif",
    "detect",
    "detect_fps",
    "record",
    "masks",
)
ONVIF_KEYS = ("host", "port", "user", "password_env")


def parse_text(
    text: str,
    *,
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    check_env: bool = True,
) -> Config:
    """Parse and validate TOML ``text``; ``path`` names the file in errors and anchors paths.

    With ``check_env`` (the default) it also checks what lives outside the file: that every
    ``password_env`` variable is set and that referenced files exist.
    """
    file = None if path is None else str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {redact(str(exc))}", path=file) from None
    source = None if path is None else Path(path).absolute()
    return _build(data, file, source, os.environ if env is None else env, check_env)


def _build(
    data: dict[str, Any],
    file: str | None,
    source: Path | None,
    env: Mapping[str, str],
    check_env: bool,
) -> Config:
    problems = Problems(file)
    _check_version(data, file)
    base_dir = None if source is None else source.parent
    top = Table(data, "", problems, TOP_KEYS)
    log_level = top.choice("log_level", "INFO", LOG_LEVELS, fold=True)
    wall = _wall(top.table("wall", WALL_KEYS))
    recording = _recording(top.table("recording", RECORDING_KEYS))
    detection = _detection(top.table("detection", DETECTION_KEYS), base_dir, check_env)
    cameras = _cameras(top, env, base_dir, check_env)
    problems.raise_if_any()
    for warning in problems.warnings:
        log.warning("%s", warning)
    return Config(
        version=SCHEMA_VERSION,
        log_level=log_level,
        wall=wall,
        recording=recording,
        detection=detection,
        cameras=cameras,
        source=source,
        warnings=tuple(problems.warnings),
    )


def _check_version(data: Mapping[str, Any], file: str | None) -> None:
    # Checked first and alone: a file of another schema version would otherwise drown the
    # real reason in unknown-key errors.
    version = data.get("version", MISSING)
    if version is MISSING:
        raise ConfigError(
            f"missing required key; add version = {SCHEMA_VERSION} at the top of the file",
            path=file,
            key="version",
        )
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(
            f"expected an integer, got {type_name(version)}", path=file, key="version"
        )
    if version != SCHEMA_VERSION:
        newer = (
            " (written for a newer camwall: upgrade camwall)" if version > SCHEMA_VERSION else ""
        )
        raise ConfigError(
            f"schema version {version} is not supported; this camwall reads version "
            f"{SCHEMA_VERSION}{newer}",
            path=file,
            key="version",
        )


def _wall(table: Table | None) -> WallConfig:
    if table is None:
        return WallConfig()
    grid = table.raw("grid")
    if grid is MISSING:
        return WallConfig()
    valid = ", ".join(str(g) for g in GRIDS) + ' or "auto"'
    if grid == "auto" or (isinstance(grid, int) and not isinstance(grid, bool) and grid in GRIDS):
        value: Grid = grid
        return WallConfig(grid=value)
    if isinstance(grid, int) and not isinstance(grid, bool):
        table.problems.add(table.key("grid"), f"{grid} is not a valid grid; use {valid}")
    elif isinstance(grid, str):
        table.problems.add(table.key("grid"), f"{grid!r} is not a valid grid; use {valid}")
    else:
        table.problems.add(
            table.key("grid"), f'expected an integer or "auto", got {type_name(grid)}'
        )
    return WallConfig()


def _path_value(table: Table, key: str) -> Path | None:
    value = table.string(key)
    if value is None or value == "":
        return None
    if "\0" in value:
        table.problems.add(table.key(key), "contains a NUL character")
        return None
    return Path(value)


def _recording(table: Table | None) -> RecordingConfig:
    if table is None:
        return RecordingConfig()
    d = RecordingConfig()
    return RecordingConfig(
        dir=_path_value(table, "dir"),
        segment_seconds=table.number(
            "segment_seconds", d.segment_seconds, at_least=1.0, at_most=86400.0
        ),
        max_age_days=table.number("max_age_days", d.max_age_days, at_least=0.0),
        max_total_gb=table.number("max_total_gb", d.max_total_gb, at_least=0.0),
    )


def _detection(table: Table | None, base_dir: Path | None, check_env: bool) -> DetectionConfig:
    if table is None:
        return DetectionConfig()
    d = DetectionConfig()
    model = _path_value(table, "model")
    labels = _path_value(table, "labels")
    if check_env:
        for key, value in (("model", model), ("labels", labels)):
            if value is not None and not _exists(value, base_dir):
                table.problems.add(table.key(key), f"no such file: {_shown_path(value, base_dir)}")
    thresholds: dict[str, float] = {}
    sub = table.table("thresholds", None)  # any label may be a key
    if sub is not None:
        for label in sub.data:
            score = sub.number(label, None, at_least=0.0, at_most=1.0)
            if score is not None:
                thresholds[label] = score
    return DetectionConfig(
        model=model,
        labels=labels,
        fps=table.number("fps", d.fps, above=0.0, at_most=1000.0),
        threshold=table.number("threshold", d.threshold, at_least=0.0, at_most=1.0),
        thresholds=thresholds,
    )


def _exists(path: Path, base_dir: Path | None) -> bool:
    path = path.expanduser()
    return (path if path.is_absolute() else (base_dir or Path.cwd()) / path).exists()


def _shown_path(path: Path, base_dir: Path | None) -> str:
    path = path.expanduser()
    return str(path if path.is_absolute() else (base_dir or Path.cwd()) / path)


def _cameras(
    top: Table, env: Mapping[str, str], base_dir: Path | None, check_env: bool
) -> tuple[Camera, ...]:
    raw = top.raw("camera")
    if raw is MISSING:
        return ()
    if isinstance(raw, dict):
        top.problems.add(
            "camera", "write each camera as [[camera]] (an array of tables), not [camera]"
        )
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        top.problems.add("camera", "expected an array of tables ([[camera]] entries)")
        return ()
    cameras: list[Camera] = []
    names: dict[str, int] = {}
    safe_names: dict[str, tuple[int, str]] = {}
    for index, entry in enumerate(raw):
        table = Table(entry, key_path("camera", index), top.problems, CAMERA_KEYS)
        camera = _camera(table, env, base_dir, check_env)
        if camera.name:
            if camera.name in names:
                top.problems.add(
                    table.key("name"),
                    f"{camera.name!r} is already the name of camera[{names[camera.name]}]; "
                    "camera names must be unique",
                )
            else:
                names[camera.name] = index
                safe = safe_name(camera.name)
                if safe in safe_names:
                    other, other_name = safe_names[safe]
                    top.problems.add(
                        table.key("name"),
                        f"{camera.name!r} and {other_name!r} (camera[{other}]) would share "
                        f"recording file names ({safe_name(camera.name)}_…); make them differ "
                        "in letters or digits",
                    )
                else:
                    safe_names[safe] = (index, camera.name)
        cameras.append(camera)
    return tuple(cameras)


def _camera(table: Table, env: Mapping[str, str], base_dir: Path | None, check_env: bool) -> Camera:
    problems = table.problems
    name = table.string("name", "", required=True)
    if table.raw("name") is not MISSING and isinstance(name, str):
        if not name.strip():
            problems.add(table.key("name"), "must not be empty")
        elif name != name.strip():
            problems.add(table.key("name"), "must not start or end with spaces")
        elif len(name) > _MAX_NAME:
            problems.add(table.key("name"), f"is longer than {_MAX_NAME} characters")
        elif any(ord(c) < 32 or ord(c) == 127 for c in name):
            problems.add(table.key("name"), "contains control characters")
    url = table.string("url", "", required=True)
    kind = _check_url(table, "url", url, base_dir, check_env)
    substream = table.string("substream_url")
    if substream is not None:
        _check_url(table, "substream_url", substream, base_dir, check_env)
    transport: Transport = table.choice("transport", "tcp", TRANSPORTS, fold=True)
    user = table.string("user")
    if user == "":
        problems.add(table.key("user"), "must not be empty (leave the key out instead)")
        user = None
    password_env = _env_name(table, "password_env", env, check_env)
    if kind == "network":
        _check_credentials(table, url, substream, user, password_env)
    onvif = _onvif(table.table("onvif", ONVIF_KEYS), env, check_env)
    if onvif is not None and onvif.host is None and kind != "network":
        problems.add(
            key_path(table.key("onvif"), "host"),
            "missing required key (the camera URL has no host)",
        )
    return Camera(
        name=name,
        url=url,
        substream_url=substream,
        transport=transport,
        user=user,
        password_env=password_env,
        onvif=onvif,
        detect=table.boolean("detect", False),
        detect_fps=table.number("detect_fps", None, above=0.0, at_most=1000.0),
        record=table.boolean("record", False),
        masks=masks_of(table),
        base_dir=base_dir,
    )


def _check_url(
    table: Table, key: str, url: str, base_dir: Path | None, check_env: bool
) -> str | None:
    if table.raw(key) is MISSING or not isinstance(table.raw(key), str):
        return None
    try:
        kind = url_kind(url)
    except UrlProblem as exc:
        table.problems.add(table.key(key), str(exc))
        return None
    if kind == "file" and check_env:
        path = Path(file_path(url))
        if not _exists(path, base_dir):
            # A path that fails to exist may be a mistyped camera address with credentials
            # ("admin:pw@10.0.0.5/…"): show it only when it cannot hold any.
            shown = "" if "@" in url or ":" in url else f": {_shown_path(path, base_dir)}"
            table.problems.add(
                table.key(key),
                f"no such file{shown} (camera addresses start with rtsp://, rtsps://, "
                "http:// or https://)",
            )
    return kind


def _check_credentials(
    table: Table, url: str, substream: str | None, user: str | None, password_env: str | None
) -> None:
    problems = table.problems
    url_user, url_password = userinfo(url)
    if url_password is not None:
        if password_env is not None:
            problems.add(
                table.key("url"),
                "contains a password and password_env is set too; remove the password from the URL",
            )
        else:
            problems.warn(
                table.key("url"),
                "contains a password in clear text; move it into an environment variable "
                "and set password_env (the password is never shown)",
            )
    if substream is not None and userinfo(substream)[1] is not None and password_env is not None:
        problems.add(
            table.key("substream_url"),
            "contains a password and password_env is set too; remove the password from the URL",
        )
    if user is not None and url_user not in (None, "", user):
        problems.add(
            table.key("user"), "the URL names a different user; keep the user in one place"
        )
    if password_env is not None and not (user or url_user):
        problems.add(
            table.key("password_env"),
            "the camera has no user name to go with the password; put one in the URL "
            '(USER@ before the host) or set user = "..."',
        )


def _env_name(table: Table, key: str, env: Mapping[str, str], check_env: bool) -> str | None:
    name = table.string(key)
    if name is None:
        return None
    if not _ENV_NAME.match(name):
        # Never echo it: a common slip is writing the password itself here.
        table.problems.add(
            table.key(key),
            "must be the name of an environment variable (letters, digits and _, not starting "
            "with a digit), not the password itself",
        )
        return None
    if check_env and name not in env:
        table.problems.add(
            table.key(key),
            f"environment variable {name} is not set; export it before starting camwall "
            "(or set it in the service's environment)",
        )
    return str(name)


def _onvif(table: Table | None, env: Mapping[str, str], check_env: bool) -> OnvifConfig | None:
    if table is None:
        return None
    host = table.string("host")
    if host is not None and (not host.strip() or "/" in host or "@" in host or " " in host):
        table.problems.add(
            table.key("host"), "must be a host name or IP address (no scheme, path or user)"
        )
        host = None
    port = table.raw("port")
    port_value = 80
    if port is not MISSING:
        if not isinstance(port, int) or isinstance(port, bool):
            table.problems.add(table.key("port"), f"expected an integer, got {type_name(port)}")
        elif not 1 <= port <= 65535:
            table.problems.add(table.key("port"), f"must be from 1 to 65535, got {port}")
        else:
            port_value = port
    user = table.string("user")
    return OnvifConfig(
        host=host,
        port=port_value,
        user=user or None,
        password_env=_env_name(table, "password_env", env, check_env),
    )
