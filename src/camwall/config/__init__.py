"""camwall's config file: one TOML file → validated, frozen dataclasses (see docs/config.md).

>>> cfg = load("camwall.toml")            # ConfigError naming file:line and key on any mistake
>>> cfg.camera("frontdoor").resolved_url()  # password injected from password_env; keep secret
>>> save(cfg, "camwall.toml")             # in place: comments kept; atomic; mode kept
>>> doc = ConfigDocument.load("camwall.toml")   # finer edits: set_camera, remove_camera, save
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from camwall.config.document import ConfigDocument, read_config_file
from camwall.config.model import (
    GB,
    GRIDS,
    LOG_LEVELS,
    SCHEMA_VERSION,
    Camera,
    Config,
    DetectionConfig,
    OnvifConfig,
    Polygon,
    RecordingConfig,
    WallConfig,
    default_config_path,
    default_recording_dir,
)
from camwall.config.names import safe_name
from camwall.config.parse import parse_text
from camwall.config.writer import dumps, save
from camwall.errors import ConfigConflictError, ConfigError

__all__ = [
    "GB",
    "GRIDS",
    "LOG_LEVELS",
    "SCHEMA_VERSION",
    "Camera",
    "Config",
    "ConfigConflictError",
    "ConfigDocument",
    "ConfigError",
    "DetectionConfig",
    "OnvifConfig",
    "Polygon",
    "RecordingConfig",
    "WallConfig",
    "default_config_path",
    "default_recording_dir",
    "dumps",
    "load",
    "loads",
    "safe_name",
    "save",
]


def load(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    check_env: bool = True,
) -> Config:
    """Read and validate a config file (default: :func:`default_config_path`).

    ``env`` replaces ``os.environ`` for ``password_env`` look-ups; with ``check_env=False``
    unset variables and missing model/video files are not errors (e.g. to edit a config on
    another machine).
    """
    file = Path(path) if path is not None else default_config_path()
    text, _ = read_config_file(file, default_location=path is None)
    return parse_text(text, path=file, env=env, check_env=check_env)


def loads(
    text: str,
    *,
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    check_env: bool = True,
) -> Config:
    """Validate config ``text``; ``path`` (if given) names it in errors and anchors relative paths."""
    return parse_text(text, path=None if path is None else Path(path), env=env, check_env=check_env)
