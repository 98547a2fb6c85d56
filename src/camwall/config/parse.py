"""TOML text → validated :class:`~camwall.config.model.Config`, with errors that name the key.

Every problem names the file, the line and the key path (``camera[2].url``, 0-based like the
array in the file) and what is wrong. All problems of a file are collected and reported
together, top to bottom, so one run of ``camwall check`` shows everything to fix. Values are
echoed only where they cannot be secret (enumerations, numbers); URLs never appear unmasked.

The schema is :mod:`camwall.config.schema` (pydantic); each ``[[camera]]`` is validated on its
own, so one bad camera is reported with its index and never hides the others' problems (and
:mod:`camwall.config.document` can save the good ones).
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError

from camwall.config.lines import LineIndex, Loc
from camwall.config.model import (
    SCHEMA_VERSION,
    Camera,
    Config,
    DetectionConfig,
    DetectStream,
    Grid,
    OnvifConfig,
    RecordingConfig,
    Transport,
    WallConfig,
    url_kind_or_none,
)
from camwall.config.names import safe_name
from camwall.config.schema import MAX_CAMERAS, CameraModel, TopModel, model_at
from camwall.config.tables import (
    MISSING,
    did_you_mean,
    key_path,
    number_text,
    type_name,
)
from camwall.config.urls import userinfo
from camwall.errors import ConfigError
from camwall.mqtt.settings import MqttSettings
from camwall.redact import redact

if TYPE_CHECKING:
    from camwall.detect.zones import Zone

log = logging.getLogger(__name__)

#: A camwall config is a few kilobytes; anything this big is the wrong file (or an attack).
MAX_FILE_BYTES = 1 << 20
_MAX_KEY_SHOWN = 80
#: Tables nested deeper than this are no camwall config (camwall's own go 3 deep).
MAX_DEPTH = 16

_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_PASSWORD_HINT = (
    "passwords do not go into the config file; put the password in an environment "
    'variable and set password_env = "VARIABLE_NAME"'
)
_KEY_HINTS = {"password": _PASSWORD_HINT, "pass": _PASSWORD_HINT, "passwd": _PASSWORD_HINT}


@dataclass
class Problems:
    """Problems and warnings found while one text is checked, each at a key path."""

    file: str | None
    text: str = ""
    items: list[tuple[Loc, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _index: LineIndex | None = None

    def add(self, loc: Loc, message: str) -> None:
        """Record a problem at ``loc`` (the message is redacted)."""
        self.items.append((loc, redact(message)))

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc`` in the text (scanned on first use)."""
        if self._index is None:
            self._index = LineIndex(self.text)
        return self._index.line_of(loc)

    def warn(self, loc: Loc, message: str) -> None:
        """Record a warning: valid, but worth the user's attention."""
        line = self.line_of(loc)
        file = f"{self.file}:{line}" if self.file and line else self.file
        where = ": ".join(p for p in (file, path_text(loc)) if p)
        self.warnings.append(f"{where}: {redact(message)}")

    def error(self) -> ConfigError | None:
        """One ConfigError holding every problem, top to bottom; None if there are none."""
        if not self.items:
            return None
        found = [(self.line_of(loc), path_text(loc), msg) for loc, msg in self.items]
        found.sort(key=lambda p: p[0] if p[0] is not None else 1 << 62)
        if len(found) == 1:
            line, key, message = found[0]
            return ConfigError(message, path=self.file, key=key, line=line, problems=tuple(found))
        lines = "\n".join(f"  {_where(line)}{key}: {message}" for line, key, message in found)
        return ConfigError(
            f"{len(found)} problems:\n{lines}", path=self.file, problems=tuple(found)
        )


def _where(line: int | None) -> str:
    return f"line {line}: " if line is not None else ""


def path_text(loc: Sequence[str | int]) -> str:
    """``("camera", 0, "url")`` → ``camera[0].url``."""
    text = ""
    for part in loc:
        if isinstance(part, str) and len(part) > _MAX_KEY_SHOWN:
            part = part[: _MAX_KEY_SHOWN - 1] + "…"  # a hostile key must not flood the message
        text = key_path(text, part)
    return text


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
    data = parse_toml(text.removeprefix("\ufeff"), file)
    source = None if path is None else Path(path).absolute()
    problems = Problems(file, text)
    config = build(data, problems, source, os.environ if env is None else env, check_env)
    error = problems.error()
    if error is not None:
        raise error
    for warning in problems.warnings:
        log.warning("%s", warning)
    assert config is not None
    return config


def parse_toml(text: str, file: str | None) -> dict[str, Any]:
    """``text`` parsed by tomllib; a ConfigError for bad syntax, a huge file or deep nesting."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise ConfigError(
            f"is {size / 1e6:.1f} MB; a camwall config is at most "
            f"{MAX_FILE_BYTES // 1024} KiB (is this the right file?)",
            path=file,
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _AT_LINE.search(str(exc))
        raise ConfigError(
            f"invalid TOML: {redact(str(exc))}",
            path=file,
            line=int(at.group(1)) if at else None,
        ) from None
    except RecursionError:
        raise ConfigError(
            f"arrays or tables nested too deeply (a camwall config needs at most {MAX_DEPTH} "
            "levels)",
            path=file,
            line=LineIndex(text, deep=MAX_DEPTH, stop_when_deep=True).deep_line,
        ) from None
    deep = _too_deep(data, MAX_DEPTH)
    if deep is not None:
        index = LineIndex(text)
        raise ConfigError(
            f"nested more than {MAX_DEPTH} levels deep; a camwall config has no such tables",
            path=file,
            key=path_text(deep),
            line=index.line_of(deep),
        )
    return data


def _too_deep(value: object, limit: int) -> Loc | None:
    """The key path of the first value nested deeper than ``limit``, or None (iterative)."""
    stack: list[tuple[object, Loc]] = [(value, ())]
    while stack:
        item, loc = stack.pop()
        if len(loc) > limit:
            return loc[: limit + 1]
        if isinstance(item, dict):
            stack.extend((v, (*loc, k)) for k, v in item.items())
        elif isinstance(item, list):
            # Polygons are the deepest thing camwall reads; skip walking long numeric lists.
            stack.extend((v, (*loc, i)) for i, v in enumerate(item) if isinstance(v, list | dict))
    return None


def build(
    data: dict[str, Any],
    problems: Problems,
    source: Path | None,
    env: Mapping[str, str],
    check_env: bool,
) -> Config | None:
    """Validate parsed ``data`` into a Config, adding any problems to ``problems``."""
    _check_version(data, problems)
    base_dir = None if source is None else source.parent
    context = {"env": env, "base_dir": base_dir, "check_env": check_env}
    top: TopModel | None = None
    try:
        top = TopModel.model_validate(data, context=context)
    except ValidationError as exc:
        add_errors(problems, exc, ())
    cameras = build_cameras(data.get("camera", MISSING), problems, context)
    mqtt = None
    if isinstance(data.get("mqtt"), dict):
        try:
            mqtt = MqttSettings.from_table(data["mqtt"], source=str(source) if source else None)
        except ConfigError as exc:
            problems.add(("mqtt",), _bare(exc))
    elif "mqtt" in data:
        problems.add(("mqtt",), "must be a table: [mqtt]")
    if top is not None and top.wall.nodes and "mqtt" not in data:
        problems.add(
            ("wall", "nodes"),
            "remote nodes are found on an MQTT broker: add an [mqtt] table (host, username, "
            "password_env; see docs/mqtt.md)",
        )
    if top is None or cameras is None or problems.items:
        return None
    grid: Grid = top.wall.grid
    return Config(
        version=SCHEMA_VERSION,
        log_level=top.log_level,
        wall=WallConfig(grid=grid, decode_budget=top.wall.decode_budget, nodes=top.wall.nodes),
        recording=RecordingConfig(
            dir=None if top.recording.dir is None else Path(top.recording.dir),
            segment_seconds=top.recording.segment_seconds,
            max_age_days=top.recording.max_age_days,
            max_total_gb=top.recording.max_total_gb,
        ),
        detection=DetectionConfig(
            model=None if top.detection.model is None else Path(top.detection.model),
            labels=None if top.detection.labels is None else Path(top.detection.labels),
            fps=top.detection.fps,
            threshold=top.detection.threshold,
            thresholds=dict(top.detection.thresholds),
        ),
        cameras=cameras,
        mqtt=mqtt,
        source=source,
        warnings=tuple(problems.warnings),
    )


def _bare(exc: ConfigError) -> str:
    """A ConfigError's own words, without the file name it may already carry."""
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith(("/", "<")) and ": " in text else text


def build_cameras(
    raw: object, problems: Problems, context: Mapping[str, Any]
) -> tuple[Camera, ...] | None:
    """The ``[[camera]]`` entries, each validated alone; None if the list itself is wrong."""
    if raw is MISSING or raw is None:
        return ()
    if isinstance(raw, dict):
        problems.add(
            ("camera",), "write each camera as [[camera]] (an array of tables), not [camera]"
        )
        return None
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        problems.add(("camera",), "expected an array of tables ([[camera]] entries)")
        return None
    if len(raw) > MAX_CAMERAS:
        problems.add(("camera",), f"has {len(raw)} cameras; a config holds at most {MAX_CAMERAS}")
        return None
    cameras = [camera_of(entry, index, problems, context) for index, entry in enumerate(raw)]
    check_names(raw, problems)
    return tuple(c for c in cameras if c is not None)


def camera_of(
    entry: Mapping[str, Any], index: int, problems: Problems, context: Mapping[str, Any]
) -> Camera | None:
    """Validate one ``[[camera]]`` table at ``camera[index]``; None (and problems) if bad."""
    loc: Loc = ("camera", index)
    try:
        model = CameraModel.model_validate(entry, context=context)
    except ValidationError as exc:
        add_errors(problems, exc, loc)
        return None
    before = len(problems.items)
    _check_credentials(model, loc, problems)
    _check_detect_stream(model, loc, problems)
    zones = _zones(model.zones, loc, problems)
    if len(problems.items) > before or zones is None:
        return None
    onvif = None
    if model.onvif is not None:
        onvif = OnvifConfig(
            host=model.onvif.host,
            port=model.onvif.port,
            user=model.onvif.user or None,
            password_env=model.onvif.password_env,
        )
    return Camera(
        name=model.name,
        url=model.url,
        substream_url=model.substream_url,
        transport=cast(Transport, model.transport),
        user=model.user,
        password_env=model.password_env,
        onvif=onvif,
        detect=model.detect,
        detect_fps=model.detect_fps,
        record=model.record,
        record_on_events=tuple(model.record_on_events),
        pre_roll_s=model.pre_roll_s,
        post_roll_s=model.post_roll_s,
        detect_when=model.detect_when,
        masks=model.masks,
        first_frame_timeout_s=model.first_frame_timeout_s,
        read_timeout_s=model.read_timeout_s,
        detect_width=model.detect_width,
        detect_height=model.detect_height,
        detect_stream=cast(DetectStream, model.detect_stream),
        zones=zones,
        base_dir=context.get("base_dir"),
    )


#: More zones than this on one camera is a mistake, not a site.
MAX_ZONES = 32


def _zones(raw: object, loc: Loc, problems: Problems) -> tuple[Zone, ...] | None:
    """``[[camera.zones]]`` as Zones (None, with the problem recorded, if one is bad)."""
    from camwall.detect.zones import Zone  # here: loading the config needs no OpenCV

    if raw in ((), None):
        return ()
    if not isinstance(raw, list):
        problems.add((*loc, "zones"), "must be a list of [[camera.zones]] tables")
        return None
    if len(raw) > MAX_ZONES:
        problems.add((*loc, "zones"), f"has {len(raw)} zones; at most {MAX_ZONES}")
        return None
    zones: list[Zone] = []
    for i, table in enumerate(raw):
        try:
            zones.append(Zone.from_table(table))
        except ConfigError as exc:
            problems.add((*loc, "zones", i), str(exc))
            return None
    names = [z.name for z in zones]
    if len(set(names)) != len(names):
        problems.add((*loc, "zones"), "two zones have the same name")
        return None
    return tuple(zones)


def check_names(raw: Sequence[Mapping[str, Any]], problems: Problems) -> None:
    """Duplicate camera names, and names that would share recording folders."""
    names: dict[str, int] = {}
    safe_names: dict[str, tuple[int, str]] = {}
    for index, entry in enumerate(raw):
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            continue
        loc: Loc = ("camera", index, "name")
        if name in names:
            problems.add(
                loc,
                f"{name!r} is already the name of camera[{names[name]}]; "
                "camera names must be unique",
            )
            continue
        names[name] = index
        safe = safe_name(name)
        if safe in safe_names:
            other, other_name = safe_names[safe]
            problems.add(
                loc,
                f"{name!r} and {other_name!r} (camera[{other}]) would share recording file "
                f"names ({safe}_…); make them differ in letters or digits",
            )
        else:
            safe_names[safe] = (index, name)


def _check_detect_stream(model: CameraModel, loc: Loc, problems: Problems) -> None:
    if model.detect_stream == "substream" and model.substream_url is None:
        problems.add(
            (*loc, "detect_stream"),
            '"substream" needs a substream_url on this camera; set substream_url, or use '
            '"main" or "auto" (the substream when there is one, else the main stream)',
        )


def _check_credentials(model: CameraModel, loc: Loc, problems: Problems) -> None:
    kind = url_kind_or_none(model.url)
    if model.onvif is not None and model.onvif.host is None and kind != "network":
        problems.add((*loc, "onvif", "host"), "missing required key (the camera URL has no host)")
    if kind != "network":
        return
    url_user, url_password = userinfo(model.url)
    if url_password is not None:
        if model.password_env is not None:
            problems.add(
                (*loc, "url"),
                "contains a password and password_env is set too; remove the password from the URL",
            )
        else:
            problems.warn(
                (*loc, "url"),
                "contains a password in clear text; move it into an environment variable "
                "and set password_env (the password is never shown)",
            )
    sub = model.substream_url
    if sub is not None and userinfo(sub)[1] is not None and model.password_env is not None:
        problems.add(
            (*loc, "substream_url"),
            "contains a password and password_env is set too; remove the password from the URL",
        )
    if model.user is not None and url_user not in (None, "", model.user):
        problems.add((*loc, "user"), "the URL names a different user; keep the user in one place")
    if model.password_env is not None and not (model.user or url_user):
        problems.add(
            (*loc, "password_env"),
            "the camera has no user name to go with the password; put one in the URL "
            '(USER@ before the host) or set user = "..."',
        )


def _check_version(data: Mapping[str, Any], problems: Problems) -> None:
    # Checked first and alone: a file of another schema version would otherwise drown the
    # real reason in unknown-key errors.
    version = data.get("version", MISSING)
    file, line = problems.file, problems.line_of(("version",))
    if version is MISSING:
        raise ConfigError(
            f"missing required key; add version = {SCHEMA_VERSION} at the top of the file",
            path=file,
            key="version",
        )
    if type(version) is not int:
        raise ConfigError(
            f"expected an integer, got {type_name(version)}", path=file, key="version", line=line
        )
    if version != SCHEMA_VERSION:
        newer = (
            " (written for a newer camwall: upgrade camwall)" if version > SCHEMA_VERSION else ""
        )
        shown = version if abs(version) < 10**9 else "(a huge number)"
        raise ConfigError(
            f"schema version {shown} is not supported; this camwall reads version "
            f"{SCHEMA_VERSION}{newer}",
            path=file,
            key="version",
            line=line,
        )


# -- pydantic errors → camwall's messages ------------------------------------------------------

_TYPES = {
    "string_type": "a string",
    "bool_type": "true or false",
    "float_type": "a number",
    "int_type": "an integer",
    "list_type": "an array",
    "tuple_type": "an array",
}
_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def add_errors(problems: Problems, exc: ValidationError, prefix: Loc) -> None:
    """Add every error of a pydantic ValidationError under ``prefix`` with camwall's wording."""
    for err in exc.errors(include_url=False):
        loc: Loc = (*prefix, *err["loc"])
        ctx = err.get("ctx") or {}
        if loc and loc[-1] == "[key]":  # a dict key (a label) rather than its value
            loc = loc[:-1]
            problems.add(loc, "label " + _message(err["type"], loc, None, ctx, err["msg"]))
        elif err["type"] == "camwall":
            problems.add((*loc, *ctx.get("where", ())), str(ctx["message"]))
        else:
            problems.add(loc, _message(err["type"], loc, err.get("input"), ctx, err["msg"]))


def _message(kind: str, loc: Loc, value: object, ctx: Mapping[str, Any], fallback: str) -> str:
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]), loc[:-1])
    if kind == "float_type" and type(value) is int:
        return "is far too large"  # an integer beyond what a float holds
    if kind in _TYPES:
        return f"expected {_TYPES[kind]}, got {type_name(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a table ([{path_text(loc)}]), got {type_name(value)}"
    if kind == "finite_number":
        return f"must be a finite number, got {value}"
    if kind in _BOUNDS:
        bound, words = _BOUNDS[kind]
        return f"must be {words} {number_text(float(ctx[bound]))}, got {_shown(value)}"
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters"
    if kind == "too_long":
        return f"has more than {ctx['max_length']} entries"
    return redact(fallback)


def _shown(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int) and abs(value) >= 10**15:
            return "a huge number"
        return number_text(float(value))
    return type_name(value)


def _unknown_key(key: str, parent: Loc) -> str:
    if key.lower() in _KEY_HINTS:
        return f"unknown key; {_KEY_HINTS[key.lower()]}"
    model = model_at(tuple(p for p in parent))
    allowed = list(model.model_fields) if model is not None else []
    hint = did_you_mean(key, allowed)
    if hint:
        return "unknown key" + hint
    return "unknown key; valid keys here: " + ", ".join(allowed)
