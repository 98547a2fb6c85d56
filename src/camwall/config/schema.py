"""The config file's schema as pydantic models: types, bounds, unknown keys, per-key checks.

These models validate what ``tomllib`` parsed; :mod:`camwall.config.parse` turns their errors
into messages with file, line and key path, and their values into the frozen dataclasses of
:mod:`camwall.config.model` that the rest of camwall uses. Every number and list is bounded,
so no value can make camwall overflow, loop for long or allocate without limit later.

Checks that need more than one key (credentials, duplicate names) live in
:mod:`camwall.config.parse`; checks that need the machine (environment variables, files)
read the validation context: ``{"env": Mapping, "base_dir": Path | None, "check_env": bool}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from camwall.config.model import (
    DETECT_STREAMS,
    DETECT_WHEN,
    EVENT_KINDS,
    GRIDS,
    LOG_LEVELS,
    MAX_POST_ROLL_S,
    MAX_PRE_ROLL_S,
    TRANSPORTS,
    Polygon,
)
from camwall.config.polygons import check_masks
from camwall.config.tables import did_you_mean, type_name
from camwall.config.urls import UrlProblem, file_path, url_kind

#: Bounds (see docs/config.md).
MAX_CAMERAS = 256
#: Remote nodes one wall lists by name.
MAX_NODES = 256
MAX_NAME = 64
MAX_TEXT = 2048
MAX_LABELS = 1000
MAX_AGE_DAYS = 36500.0  # 100 years
MAX_TOTAL_GB = 1_000_000.0  # 1 PiB
MAX_FPS = 1000.0
MAX_FIRST_FRAME_S = 600.0
MAX_READ_TIMEOUT_S = 3600.0

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def problem(message: str, *where: str | int) -> PydanticCustomError:
    """A validation error with camwall's own message; ``where`` extends the key path."""
    return PydanticCustomError("camwall", "{message}", {"message": message, "where": where})


class _Table(BaseModel):
    """A TOML table: exact types (no "60" for 60), no unknown keys, no NaN or infinity."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        allow_inf_nan=False,
        protected_namespaces=(),
        hide_input_in_errors=True,
    )


Text = Annotated[str, Field(max_length=MAX_TEXT)]
Fps = Annotated[float, Field(gt=0.0, le=MAX_FPS)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]
Label = Annotated[str, Field(max_length=MAX_NAME)]


def _context(info: ValidationInfo) -> Mapping[str, Any]:
    return info.context if isinstance(info.context, Mapping) else {}


def _choice(value: str, options: tuple[str, ...]) -> str:
    folded = {o.lower(): o for o in options}
    if value.lower() in folded:
        return folded[value.lower()]
    listed = ", ".join(f'"{o}"' for o in options)
    raise problem(f"{value!r} is not one of {listed}{did_you_mean(value.lower(), folded)}")


def _path(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if "\0" in value:
        raise problem("contains a NUL character")
    return value


def _resolve(path: str, info: ValidationInfo) -> Path:
    base_dir = _context(info).get("base_dir")
    file = Path(path).expanduser()
    return file if file.is_absolute() else (base_dir or Path.cwd()) / file


def _must_exist(path: str | None, info: ValidationInfo) -> str | None:
    checked = path is not None and _context(info).get("check_env", False)
    if path is not None and checked and not _resolve(path, info).exists():
        raise problem(f"no such file: {_resolve(path, info)}")
    return path


def env_name(name: str | None, info: ValidationInfo) -> str | None:
    """Check a ``password_env`` value: a variable name (never echoed), set if checked."""
    if name is None:
        return None
    if not _ENV_NAME.match(name):
        # Never echo it: a common slip is writing the password itself here.
        raise problem(
            "must be the name of an environment variable (letters, digits and _, not starting "
            "with a digit), not the password itself"
        )
    context = _context(info)
    if context.get("check_env", False) and name not in context.get("env", {}):
        raise problem(
            f"environment variable {name} is not set; export it before starting camwall "
            "(or set it in the service's environment)"
        )
    return name


class WallModel(_Table):
    """``[wall]``."""

    grid: Any = "auto"
    decode_budget: bool = True
    nodes: Any = ()

    @field_validator("nodes", mode="plain")
    @classmethod
    def _nodes(cls, nodes: object) -> tuple[str, ...] | str:
        hint = 'a list of node names (["cellar", "garage"]) or "*" for every node on the broker'
        if nodes == "*":
            return "*"
        if isinstance(nodes, str):
            raise problem(f"{nodes!r} is not valid here; use {hint}")
        if not isinstance(nodes, list):
            raise problem(f"expected {hint}, got {type_name(nodes)}")
        if len(nodes) > MAX_NODES:
            raise problem(f"lists {len(nodes)} nodes; at most {MAX_NODES}")
        seen: set[str] = set()
        for i, node in enumerate(nodes):
            if not isinstance(node, str):
                raise problem(f"expected a node name, got {type_name(node)}", i)
            if not node or len(node) > MAX_NAME or "/" in node or set(node) & set("#+\0"):
                raise problem(
                    f"{node[:MAX_NAME]!r} is not a node name: the name a node publishes under "
                    f"(--node), 1 to {MAX_NAME} characters without '/', '+' or '#'",
                    i,
                )
            if node in seen:
                raise problem(f"{node!r} is listed twice", i)
            seen.add(node)
        return tuple(nodes)

    @field_validator("grid", mode="plain")
    @classmethod
    def _grid(cls, grid: object) -> int | str:
        valid = ", ".join(str(g) for g in GRIDS) + ' or "auto"'
        if grid == "auto" or (type(grid) is int and grid in GRIDS):
            return grid
        if type(grid) is int:
            raise problem(f"{grid} is not a valid grid; use {valid}")
        if isinstance(grid, str):
            raise problem(f"{grid!r} is not a valid grid; use {valid}")
        raise problem(f'expected an integer or "auto", got {type_name(grid)}')


class RecordingModel(_Table):
    """``[recording]``."""

    dir: Text | None = None
    segment_seconds: float = Field(default=60.0, ge=1.0, le=86400.0)
    max_age_days: float = Field(default=7.0, ge=0.0, le=MAX_AGE_DAYS)
    max_total_gb: float = Field(default=0.0, ge=0.0, le=MAX_TOTAL_GB)

    @field_validator("dir")
    @classmethod
    def _dir(cls, value: str | None) -> str | None:
        return _path(value)


class DetectionModel(_Table):
    """``[detection]``."""

    model: Text | None = None
    labels: Text | None = None
    fps: Fps = 5.0
    threshold: Score = 0.5
    thresholds: dict[Label, Score] = Field(default_factory=dict, max_length=MAX_LABELS)

    @field_validator("model", "labels")
    @classmethod
    def _file(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _must_exist(_path(value), info)


class OnvifModel(_Table):
    """``[camera.onvif]``."""

    host: Text | None = None
    port: Any = 80
    user: Text | None = None
    password_env: Text | None = None

    @field_validator("host")
    @classmethod
    def _host(cls, host: str | None) -> str | None:
        if host is not None and (not host.strip() or any(c in host for c in "/@ ")):
            raise problem("must be a host name or IP address (no scheme, path or user)")
        return host

    @field_validator("port", mode="plain")
    @classmethod
    def _port(cls, port: object) -> int:
        if type(port) is not int:
            raise problem(f"expected an integer, got {type_name(port)}")
        if not 1 <= port <= 65535:
            shown = port if abs(port) < 10**9 else "a huge number"
            raise problem(f"must be from 1 to 65535, got {shown}")
        return port

    @field_validator("password_env")
    @classmethod
    def _password_env(cls, name: str | None, info: ValidationInfo) -> str | None:
        return env_name(name, info)


class CameraModel(_Table):
    """One ``[[camera]]`` table."""

    name: str
    url: Text
    substream_url: Text | None = None
    transport: str = "tcp"
    user: Text | None = None
    password_env: Text | None = None
    onvif: OnvifModel | None = None
    detect: bool = False
    detect_fps: Fps | None = None
    record: bool = False
    record_on_events: list[str] = Field(default_factory=list, max_length=len(EVENT_KINDS))
    pre_roll_s: float = Field(default=5.0, ge=0.0, le=MAX_PRE_ROLL_S)
    post_roll_s: float = Field(default=10.0, gt=0.0, le=MAX_POST_ROLL_S)
    detect_when: str = "always"
    masks: Any = ()
    #: None: adaptive (the capture waits long enough for a long GOP).
    first_frame_timeout_s: float | None = Field(default=None, gt=0.0, le=MAX_FIRST_FRAME_S)
    #: None: adaptive (follows the observed frame interval).
    read_timeout_s: float | None = Field(default=None, gt=0.0, le=MAX_READ_TIMEOUT_S)
    #: The detect size (None: 640 wide keeping the aspect).
    detect_width: int | None = Field(default=None, ge=16, le=4096)
    detect_height: int | None = Field(default=None, ge=16, le=4096)
    #: Which stream feeds detection; "substream" needs a substream_url (checked in parse).
    detect_stream: str = "auto"
    #: ``[[camera.zones]]`` tables, parsed by camwall.detect.zones.Zone.from_table.
    zones: Any = ()

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not name.strip():
            raise problem("must not be empty")
        if name != name.strip():
            raise problem("must not start or end with spaces")
        if len(name) > MAX_NAME:
            raise problem(f"is longer than {MAX_NAME} characters")
        if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
            raise problem("contains control characters")
        return name

    @field_validator("url", "substream_url")
    @classmethod
    def _url(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url is None:
            return None
        try:
            kind = url_kind(url)
        except UrlProblem as exc:
            raise problem(str(exc)) from None
        except ValueError as exc:  # urlsplit's own complaints ("Invalid IPv6 URL")
            raise problem(f"is not a valid URL ({exc})") from None
        if kind == "file" and _context(info).get("check_env", False):
            path = _resolve(file_path(url), info)
            if not path.exists():
                # A path that fails to exist may be a mistyped camera address with
                # credentials ("admin:pw@10.0.0.5/…"): show it only when it cannot hold any.
                shown = "" if "@" in url or ":" in url else f": {path}"
                raise problem(
                    f"no such file{shown} (camera addresses start with rtsp://, rtsps://, "
                    "http:// or https://)"
                )
        return url

    @field_validator("transport")
    @classmethod
    def _transport(cls, value: str) -> str:
        return _choice(value, TRANSPORTS)

    @field_validator("record_on_events")
    @classmethod
    def _record_on_events(cls, kinds: list[str]) -> list[str]:
        out = [_choice(kind, EVENT_KINDS) for kind in kinds]
        return list(dict.fromkeys(out))

    @field_validator("detect_when")
    @classmethod
    def _detect_when(cls, value: str) -> str:
        return _choice(value, DETECT_WHEN)

    @field_validator("detect_stream")
    @classmethod
    def _detect_stream(cls, value: str) -> str:
        return _choice(value, DETECT_STREAMS)

    @field_validator("user")
    @classmethod
    def _user(cls, user: str | None) -> str | None:
        if user == "":
            raise problem("must not be empty (leave the key out instead)")
        return user

    @field_validator("password_env")
    @classmethod
    def _password_env(cls, name: str | None, info: ValidationInfo) -> str | None:
        return env_name(name, info)

    @field_validator("masks", mode="plain")
    @classmethod
    def _masks(cls, raw: object) -> tuple[Polygon, ...]:
        if raw == ():
            return ()
        polygons, found = check_masks(raw)
        if found is not None:
            raise problem(found[1], *found[0])
        return polygons


class TopModel(_Table):
    """The file's top level; ``camera`` entries are validated one by one (CameraModel)."""

    version: int
    log_level: str = "INFO"
    wall: WallModel = WallModel()
    recording: RecordingModel = RecordingModel()
    detection: DetectionModel = DetectionModel()
    camera: Any = None
    #: ``[mqtt]``, validated by camwall.mqtt.settings.MqttSettings.from_table.
    mqtt: Any = None

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        return _choice(value, LOG_LEVELS)


def model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that validates the table at ``loc`` (for "valid keys here")."""
    model: type[BaseModel] = TopModel
    for part in loc:
        if isinstance(part, int):
            continue
        if model is TopModel and part == "camera":
            model = CameraModel
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        found = next(
            (t for t in _types(field.annotation) if isinstance(t, type) and issubclass(t, _Table)),
            None,
        )
        if found is None:
            return None
        model = found
    return model


def _types(annotation: object) -> tuple[object, ...]:
    args = getattr(annotation, "__args__", None)
    return tuple(args) if args else (annotation,)
