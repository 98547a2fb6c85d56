"""Camera passwords kept out of the config: in the system keyring, or a 0600 file beside it.

A password typed in the UI is stored under a *reference* (``"camwall/<camera>"``: service
``camwall``, user name the camera's name) and the config holds only that reference. Where no
keyring backend exists (a headless box without a Secret Service), the password goes to a
file readable by its owner only, next to the config (``camwall.toml`` →
``camwall.secrets.toml``, mode 0600). A readable config never holds a password.

Keyring calls can block (D-Bus, an unlock prompt): call these off the UI thread.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import keyring
import keyring.errors
from keyring.backends import fail

from camwall.config import Camera
from camwall.config.model import url_kind_or_none
from camwall.config.urls import userinfo, with_credentials

__all__ = [
    "SERVICE",
    "Where",
    "fill_password",
    "forget_password",
    "reference_for",
    "resolve_password",
    "secrets_path",
    "split_password",
    "store_password",
    "strip_password",
    "with_password",
]

log = logging.getLogger(__name__)

#: The keyring service every camwall password is stored under.
SERVICE = "camwall"
Where = Literal["keyring", "file"]


def reference_for(camera: str) -> str:
    """The reference the config holds for camera ``camera``'s password."""
    return f"{SERVICE}/{camera}"


def _split(reference: str) -> tuple[str, str]:
    service, sep, user = reference.partition("/")
    if not sep or not service or not user:
        raise ValueError(f"password reference {reference!r} is not of the form service/name")
    return service, user


def secrets_path(config_path: Path) -> Path:
    """The 0600 file that holds passwords beside ``config_path`` when there is no keyring."""
    return config_path.with_name(f"{config_path.stem}.secrets.toml")


def _has_keyring() -> bool:
    return not isinstance(keyring.get_keyring(), fail.Keyring)


def store_password(reference: str, password: str, *, config_path: Path) -> Where:
    """Keep ``password`` under ``reference``: in the keyring, else the 0600 file; where it went."""
    service, user = _split(reference)
    if _has_keyring():
        try:
            keyring.set_password(service, user, password)
        except keyring.errors.KeyringError as exc:
            log.warning("the system keyring refused the password for %s (%s)", reference, exc)
        else:
            _write_file(config_path, reference, None)  # an older copy there is stale now
            return "keyring"
    _write_file(config_path, reference, password)
    return "file"


def resolve_password(reference: str, *, config_path: Path | None) -> str | None:
    """The password stored under ``reference`` (keyring first, then the file), or None."""
    service, user = _split(reference)
    if _has_keyring():
        try:
            found = keyring.get_password(service, user)
        except keyring.errors.KeyringError as exc:
            log.warning("cannot read %s from the system keyring: %s", reference, exc)
        else:
            if found is not None:
                return found
    if config_path is None:
        return None
    value = _read_file(secrets_path(config_path)).get(reference)
    return value if isinstance(value, str) else None


def forget_password(reference: str, *, config_path: Path | None) -> None:
    """Delete the password stored under ``reference`` wherever it is (no error if absent)."""
    service, user = _split(reference)
    if _has_keyring():
        try:
            keyring.delete_password(service, user)
        except keyring.errors.PasswordDeleteError:
            pass  # there was none
        except keyring.errors.KeyringError as exc:
            log.warning("cannot delete %s from the system keyring: %s", reference, exc)
    if config_path is not None:
        _write_file(config_path, reference, None)


def _read_file(path: Path) -> dict[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return dict(tomllib.loads(text))


def _write_file(config_path: Path, reference: str, password: str | None) -> None:
    """Set (or with None remove) one entry of the secrets file, atomically, mode 0600."""
    path = secrets_path(config_path)
    entries = _read_file(path)
    if password is None:
        if reference not in entries:
            return
        entries.pop(reference)
    else:
        entries[reference] = password
    # JSON strings (ASCII, escaped) are valid TOML basic strings: keys and values as written.
    lines = ["# camwall camera passwords (no system keyring found); keep this file private"]
    lines += [f"{json.dumps(k)} = {json.dumps(str(v))}" for k, v in sorted(entries.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        Path(temp).chmod(0o600)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# -- cameras -----------------------------------------------------------------------------------


def _network(url: str | None) -> bool:
    return url is not None and url_kind_or_none(url) == "network"


def strip_password(url: str) -> str:
    """``url`` without the password in its userinfo (the user name stays)."""
    user, password = userinfo(url)
    if password is None:
        return url
    if user:
        return with_credentials(url, user, None)
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()


def split_password(camera: Camera) -> tuple[Camera, str | None]:
    """``camera`` with no password in its URLs (what a config may hold), and that password."""
    password = userinfo(camera.url)[1] if _network(camera.url) else None
    if password is None and _network(camera.substream_url):
        password = userinfo(camera.substream_url or "")[1]
    if password is None:
        return camera, None
    sub = camera.substream_url
    return (
        dataclasses.replace(
            camera,
            url=strip_password(camera.url) if _network(camera.url) else camera.url,
            substream_url=strip_password(sub) if sub is not None and _network(sub) else sub,
        ),
        password,
    )


def with_password(camera: Camera, password: str) -> Camera:
    """``camera`` with ``password`` in its network URLs (in memory only: never save it)."""
    user = camera.user_name()

    def put(url: str | None) -> str | None:
        if url is None or not _network(url):
            return url
        return with_credentials(url, userinfo(url)[0] or user, password)

    return dataclasses.replace(
        camera, url=put(camera.url) or camera.url, substream_url=put(camera.substream_url)
    )


def fill_password(camera: Camera, *, config_path: Path | None) -> Camera:
    """``camera`` with the password stored for it put into its URLs, if it has none otherwise.

    A camera with a password in its URL or a ``password_env`` is returned as it is. This is
    what the config should call when it resolves a camera's ``password_keyring`` reference.
    """
    if camera.password_env is not None or not _network(camera.url):
        return camera
    if userinfo(camera.url)[1] is not None:
        return camera
    password = resolve_password(reference_for(camera.name), config_path=config_path)
    return camera if password is None else with_password(camera, password)
