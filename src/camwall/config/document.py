"""A config file opened for editing with tomlkit: a save keeps comments, order and formatting.

>>> doc = ConfigDocument.load("camwall.toml")
>>> doc.set_camera(Camera("yard", "rtsp://cam@10.0.0.7/main"))   # validated alone; in place
>>> doc.remove_camera("old")
>>> try:
...     doc.save()                      # atomic; follows symlinks; keeps the file's mode
... except ConfigConflictError:         # someone edited the file since it was loaded
...     doc.reload()                    # their edits + our pending camera changes
...     doc.save()

Rules a save follows (see docs/config.md, "Saving"):

- Only what changed is touched: a camera is updated key by key inside its own ``[[camera]]``
  table, a new one is appended to the camera list, a removed one disappears with its table.
- Every camera is validated on its own when it is set; a bad one raises ConfigError naming it
  and leaves the document as it was, so it never blocks saving the others.
- A password taken from the environment is never written: if a camera's URL carries the very
  password its ``password_env`` (or the file's entry of that name) refers to, the URL is
  written without it and ``password_env`` stays the reference.
- A password in a URL is never written into a file that other users may read (mode & 0o077):
  set_camera refuses with a message saying to ``chmod 600`` the file or use ``password_env``.
  camwall does not tighten the mode itself: the file's mode is the user's choice.
- A file changed on disk since it was loaded (or last saved) is never overwritten: save()
  raises :class:`~camwall.errors.ConfigConflictError`; reload() re-reads it and re-applies the
  camera changes not yet saved.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import tomlkit
from tomlkit.items import AoT, Item, Table
from tomlkit.toml_document import TOMLDocument

from camwall.config.atomic import FileStamp, file_mode, real_target, write_atomic
from camwall.config.model import SCHEMA_VERSION, Camera, Config, default_config_path
from camwall.config.names import safe_name
from camwall.config.parse import Problems, camera_of, parse_text, parse_toml
from camwall.config.urls import userinfo, with_credentials
from camwall.errors import ConfigConflictError, ConfigError

#: Keys of a ``[[camera]]`` table in the order camwall writes them, with their defaults.
CAMERA_DEFAULTS: dict[str, object] = {
    "name": None,
    "url": None,
    "substream_url": None,
    "transport": "tcp",
    "user": None,
    "password_env": None,
    "detect": False,
    "detect_fps": None,
    "record": False,
    "record_on_events": (),
    "pre_roll_s": 5.0,
    "post_roll_s": 10.0,
    "detect_when": "always",
    "first_frame_timeout_s": None,
    "read_timeout_s": None,
    "detect_width": None,
    "detect_height": None,
    "detect_stream": "auto",
    "masks": (),
    "zones": (),
}
ONVIF_DEFAULTS: dict[str, object] = {"host": None, "port": 80, "user": None, "password_env": None}

# What this process last read from or wrote to each config file (by real path), so that the
# stateless save(config) can tell a hand edit made since from its own previous save.
_known: dict[Path, FileStamp] = {}
_known_lock = threading.Lock()


def remember(path: Path, stamp: FileStamp | None) -> None:
    """Record that ``path`` (a real path) held ``stamp`` when camwall last read or wrote it."""
    with _known_lock:
        if stamp is None:
            _known.pop(path, None)
        else:
            _known[path] = stamp


def known(path: Path) -> FileStamp | None:
    """What camwall last saw in ``path`` (a real path), or None."""
    with _known_lock:
        return _known.get(path)


def read_config_file(file: Path, *, default_location: bool = False) -> tuple[str, FileStamp]:
    """The text of a config file and its stamp; ConfigError for anything unreadable."""
    try:
        with open(file, "rb") as fh:
            st = os.fstat(fh.fileno())
            data = fh.read()
    except FileNotFoundError:
        hint = " (the default location; pass --config to use another)" if default_location else ""
        raise ConfigError(
            f"file not found{hint}; docs/config.example.toml is a commented example to start from",
            path=str(file),
        ) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a config file", path=str(file)) from None
    except PermissionError:
        raise ConfigError("permission denied; cannot read the file", path=str(file)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8",
            path=str(file),
            line=line,
        ) from None
    stamp = FileStamp.of_bytes(data, st)
    remember(real_target(file), stamp)
    return text, stamp


def _same(a: FileStamp | None, b: FileStamp | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.same_content(b)


def _plain(value: object) -> object:
    """A value as tomlkit should write it: whole floats as integers, tuples as lists."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _unwrap(value: object) -> object:
    return value.unwrap() if isinstance(value, Item) else value


def _equal(have: object, want: object) -> bool:
    have = _unwrap(have)
    if isinstance(have, bool) or isinstance(want, bool):
        return type(have) is type(want) and have == want
    if isinstance(want, list | tuple) and isinstance(have, list | tuple):
        return len(have) == len(want) and all(_equal(h, w) for h, w in zip(have, want, strict=True))
    if isinstance(want, dict) and isinstance(have, dict):
        return have.keys() == want.keys() and all(_equal(have[k], want[k]) for k in want)
    same_kind = type(have) is type(want) or {type(have), type(want)} <= {int, float}
    return same_kind and have == want


def _set_keys(
    table: Table | TOMLDocument, values: Mapping[str, object], defaults: Mapping[str, object]
) -> None:
    """Make ``table`` hold ``values`` (None: absent), touching only keys whose value changes.

    A key the user wrote out with its default value, which stays the default, is kept.
    """
    for key, default in defaults.items():
        want = values.get(key)
        if key not in table:
            # An absent key already means its default: writing it out would change nothing.
            if want is not None and (default is None or not _equal(want, _plain(default))):
                table[key] = _item(want)
        elif want is None:
            if default is None or not _equal(table[key], _plain(default)):
                del table[key]
        elif not _equal(table[key], want):
            table[key] = _item(want)


def _item(value: object) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        # [[camera.zones]] tables; a blank line after the last keeps the next [[camera]] apart.
        aot = tomlkit.aot()
        for i, v in enumerate(value):
            table = _item(v)
            if i == len(value) - 1:
                table.add(tomlkit.nl())
            aot.append(table)
        return aot
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        array = tomlkit.array()
        array.extend(value)
        if len(value) > 1 or any(isinstance(p, list) for v in value for p in v):
            array.multiline(True)
        return array
    if isinstance(value, dict):
        table = tomlkit.table()
        for k, v in value.items():
            table[k] = v
        return table
    return value


def camera_values(camera: Camera) -> dict[str, object]:
    """A camera as the TOML values of its table (None: the key is left out)."""
    values: dict[str, object] = {
        "name": camera.name,
        "url": camera.url,
        "substream_url": camera.substream_url,
        "transport": camera.transport,
        "user": camera.user,
        "password_env": camera.password_env,
        "detect": camera.detect,
        "detect_fps": camera.detect_fps,
        "record": camera.record,
        "record_on_events": list(camera.record_on_events),
        "pre_roll_s": camera.pre_roll_s,
        "post_roll_s": camera.post_roll_s,
        "detect_when": camera.detect_when,
        "first_frame_timeout_s": camera.first_frame_timeout_s,
        "read_timeout_s": camera.read_timeout_s,
        "detect_width": camera.detect_width,
        "detect_height": camera.detect_height,
        "detect_stream": camera.detect_stream,
        "masks": [[list(p) for p in poly] for poly in camera.masks],
        "zones": [zone.to_table() for zone in camera.zones],
    }
    for key, default in CAMERA_DEFAULTS.items():
        if values[key] == default or values[key] == []:
            values[key] = None
    out = {k: _plain(v) for k, v in values.items() if v is not None}
    if camera.onvif is not None:
        onvif = {
            "host": camera.onvif.host,
            "port": camera.onvif.port,
            "user": camera.onvif.user,
            "password_env": camera.onvif.password_env,
        }
        out["onvif"] = {k: v for k, v in onvif.items() if v is not None}
    return out


class ConfigDocument:
    """One config file being edited: load, change cameras and settings, save in place."""

    def __init__(self, path: str | os.PathLike[str], text: str, stamp: FileStamp | None) -> None:
        """Edit ``text`` that was read from ``path`` (``stamp``: None if no file existed)."""
        self.path = Path(path)
        parse_toml(text, str(self.path))  # size, depth and syntax, with camwall's messages
        self._doc = tomlkit.parse(text)
        self._loaded_text = text
        self._stamp = stamp
        self._pending: list[tuple[str, Camera | str]] = []

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> ConfigDocument:
        """Open the config file at ``path`` (default location if None); a new one if absent."""
        file = Path(path) if path is not None else default_config_path()
        if not file.exists():  # also a dangling symlink: saving creates its target
            return cls(file, f"version = {SCHEMA_VERSION}\n", None)
        text, stamp = read_config_file(file)
        return cls(file, text, stamp)

    # -- reading ------------------------------------------------------------------------------

    def text(self) -> str:
        """The document as it would be saved now."""
        return self._doc.as_string()

    def config(self, *, env: Mapping[str, str] | None = None, check_env: bool = False) -> Config:
        """The document validated into a Config (ConfigError naming every problem)."""
        return parse_text(self.text(), path=self.path, env=env, check_env=check_env)

    def camera_names(self) -> list[str]:
        """The names of the ``[[camera]]`` tables, in file order."""
        return [str(t.get("name")) for t in self._cameras()]

    @property
    def stamp(self) -> FileStamp | None:
        """What the file held when loaded or last saved (None: there was no file)."""
        return self._stamp

    @property
    def dirty(self) -> bool:
        """True if there are changes not yet saved."""
        return bool(self._pending) or self.text() != self._loaded_text

    def changed_on_disk(self) -> bool:
        """True if the file now differs from what was loaded or last saved."""
        return not _same(FileStamp.read(real_target(self.path)), self._stamp)

    # -- editing ------------------------------------------------------------------------------

    def set_camera(self, camera: Camera, *, env: Mapping[str, str] | None = None) -> Camera:
        """Add ``camera``, or update the camera of that name in place; returns what is stored.

        ConfigError (naming ``camera[i]`` and the key) if the camera is invalid or would put a
        password into a file others can read; the document is then unchanged.
        """
        environ = os.environ if env is None else env
        cameras = self._cameras()
        index = next((i for i, t in enumerate(cameras) if t.get("name") == camera.name), None)
        existing = cameras[index] if index is not None else None
        camera = _without_env_password(camera, existing, environ)
        at = len(cameras) if index is None else index
        values = camera_values(camera)
        self._validate(values, at, camera, cameras)
        if existing is None:
            table = tomlkit.table()
            table.trivia.indent = "\n"  # a blank line above each new [[camera]]
            _set_keys(table, values, CAMERA_DEFAULTS)
            self._onvif(table, values.get("onvif"))
            self._camera_list().append(table)
        else:
            _set_keys(existing, values, CAMERA_DEFAULTS)
            self._onvif(existing, values.get("onvif"))
        self._pending.append(("set", camera))
        return camera

    def remove_camera(self, name: str) -> bool:
        """Remove the camera called ``name`` with its table; False if there was none."""
        cameras = self._cameras()
        for i, table in enumerate(cameras):
            if table.get("name") == name:
                aot = self._doc["camera"]
                assert isinstance(aot, AoT)
                del aot[i]
                self._pending.append(("remove", name))
                return True
        return False

    def set_settings(self, config: Config) -> None:
        """Make the file's non-camera settings those of ``config`` (changed keys only)."""
        if self._doc.get("log_level") is not None or config.log_level != "INFO":
            _set_keys(self._doc, {"log_level": config.log_level}, {"log_level": "INFO"})
        rec, det = config.recording, config.detection
        self._section(
            "wall",
            {
                "grid": config.wall.grid,
                "decode_budget": config.wall.decode_budget,
                "nodes": config.wall.nodes,
            },
            {"grid": "auto", "decode_budget": True, "nodes": ()},
        )
        self._section(
            "recording",
            {
                "dir": rec.dir,
                "segment_seconds": rec.segment_seconds,
                "max_age_days": rec.max_age_days,
                "max_total_gb": rec.max_total_gb,
            },
            {"dir": None, "segment_seconds": 60.0, "max_age_days": 7.0, "max_total_gb": 0.0},
        )
        self._section(
            "detection",
            {
                "model": det.model,
                "labels": det.labels,
                "fps": det.fps,
                "threshold": det.threshold,
                "thresholds": dict(det.thresholds) or None,
            },
            {"model": None, "labels": None, "fps": 5.0, "threshold": 0.5, "thresholds": None},
        )

    # -- saving -------------------------------------------------------------------------------

    def save(self) -> Path:
        """Write the document atomically; returns the real file written.

        ConfigConflictError if the file changed on disk since it was loaded or last saved
        (nothing is written; :meth:`reload` merges). Nothing is written when nothing changed.
        """
        target = real_target(self.path)
        current = FileStamp.read(target)
        if not _same(current, self._stamp):
            raise ConfigConflictError(
                "changed on disk since camwall read it; not overwritten (reload the file to "
                "merge camwall's unsaved camera changes into it)",
                path=str(self.path),
            )
        text = self.text()
        if current is not None and text == self._loaded_text:
            self._pending.clear()
            return target
        parse_toml(text, str(self.path))
        written = write_atomic(self.path, text)
        self._stamp = FileStamp.read(written)
        self._loaded_text = text
        self._pending.clear()
        remember(written, self._stamp)
        return written

    def reload(self, *, env: Mapping[str, str] | None = None) -> list[ConfigError]:
        """Re-read the file and re-apply the camera changes not saved yet.

        Returns the changes that no longer apply (e.g. a camera the new file makes invalid).
        """
        pending = list(self._pending)
        fresh = ConfigDocument.load(self.path)
        self._doc, self._loaded_text, self._stamp = fresh._doc, fresh._loaded_text, fresh._stamp
        self._pending = []
        failed: list[ConfigError] = []
        for op, arg in pending:
            try:
                if op == "set":
                    assert isinstance(arg, Camera)
                    self.set_camera(arg, env=env)
                else:
                    self.remove_camera(str(arg))
            except ConfigError as exc:
                failed.append(exc)
        return failed

    # -- internals ----------------------------------------------------------------------------

    def _cameras(self) -> list[Table]:
        found = self._doc.get("camera")
        if found is None:
            return []
        if not isinstance(found, AoT):
            raise ConfigError(
                "write each camera as [[camera]] (an array of tables), not [camera]",
                path=str(self.path),
                key="camera",
            )
        return list(found)

    def _camera_list(self) -> AoT:
        found = self._doc.get("camera")
        if found is None:
            aot = tomlkit.aot()
            self._doc.append("camera", aot)
            return aot
        assert isinstance(found, AoT)
        return found

    def _section(
        self, name: str, values: Mapping[str, object], defaults: Mapping[str, object]
    ) -> None:
        wanted = {
            k: _plain(v)
            for k, v in values.items()
            if v is not None and not _equal(_plain(v), _plain(defaults[k]))
        }
        table = self._doc.get(name)
        if table is None:
            if not wanted:
                return
            table = tomlkit.table()
            _set_keys(table, wanted, defaults)
            # After the camera list is valid TOML too; a file camwall creates has it above.
            self._doc.add(name, table)
            return
        if not isinstance(table, Table):
            raise ConfigError(f"expected a table ([{name}])", path=str(self.path), key=name)
        _set_keys(table, wanted, defaults)

    def _onvif(self, table: Table, values: object) -> None:
        if values is None:
            if "onvif" in table:
                del table["onvif"]
            return
        assert isinstance(values, dict)
        onvif = table.get("onvif")
        if isinstance(onvif, Table):
            _set_keys(onvif, values, ONVIF_DEFAULTS)
        else:
            if onvif is not None:
                del table["onvif"]
            sub = tomlkit.table()
            _set_keys(sub, values, ONVIF_DEFAULTS)
            table.append("onvif", sub)

    def _validate(
        self, values: Mapping[str, object], at: int, camera: Camera, cameras: list[Table]
    ) -> None:
        problems = Problems(str(self.path))
        context = {"env": {}, "base_dir": self.path.parent, "check_env": False}
        camera_of(values, at, problems, context)
        safe = safe_name(camera.name)
        for i, other in enumerate(cameras):
            name = other.get("name")
            if i != at and isinstance(name, str) and safe_name(name) == safe:
                problems.add(
                    ("camera", at, "name"),
                    f"{camera.name!r} and {name!r} (camera[{i}]) would share recording file "
                    f"names ({safe}_…); make them differ in letters or digits",
                )
        has_password = any(
            u is not None and userinfo(u)[1] is not None for u in (camera.url, camera.substream_url)
        )
        mode = file_mode(real_target(self.path))
        if has_password and mode is not None and mode & 0o077:
            problems.add(
                ("camera", at, "url"),
                f"contains a password, and the file is readable by other users (mode "
                f"{mode:04o}); camwall does not write a password into it: run chmod 600 "
                f"{self.path}, or put the password in an environment variable and set "
                "password_env",
            )
        error = problems.error()
        if error is not None:
            raise error


def _without_env_password(camera: Camera, existing: Table | None, env: Mapping[str, str]) -> Camera:
    """``camera`` with any URL password removed that is the value of its password_env."""
    reference = camera.password_env
    if reference is None and existing is not None:
        old = existing.get("password_env")
        reference = str(old) if isinstance(old, str) else None
    if reference is None or reference not in env:
        return camera
    secret = env[reference]
    changed: dict[str, Any] = {}
    for key in ("url", "substream_url"):
        url = getattr(camera, key)
        if url is None:
            continue
        user, password = userinfo(url)
        if password is not None and password == secret:
            changed[key] = with_credentials(url, user, None) if user else _no_userinfo(url)
    if not changed:
        return camera
    return replace(camera, password_env=reference, **changed)


def _no_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
