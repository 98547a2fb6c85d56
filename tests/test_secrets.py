"""Camera passwords go to the keyring (a file backend here) or a 0600 file, never the config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from camwall.secrets import (
    forget_password,
    reference_for,
    resolve_password,
    secrets_path,
    store_password,
)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_keyring_round_trip(file_keyring: KeyringBackend, tmp_path: Path) -> None:
    config = tmp_path / "camwall.toml"
    ref = reference_for("porch")
    assert ref == "camwall/porch"
    assert store_password(ref, "hunter2", config_path=config) == "keyring"
    assert file_keyring.get_password("camwall", "porch") == "hunter2"
    assert not secrets_path(config).exists()
    assert resolve_password(ref, config_path=config) == "hunter2"
    forget_password(ref, config_path=config)
    assert resolve_password(ref, config_path=config) is None
    forget_password(ref, config_path=config)  # twice: no error


def test_without_a_keyring_a_private_file(no_keyring: None, tmp_path: Path) -> None:
    config = tmp_path / "camwall.toml"
    assert store_password("camwall/porch", "p@ss:w/rd", config_path=config) == "file"
    assert store_password("camwall/yard", "other", config_path=config) == "file"
    path = secrets_path(config)
    assert path.name == "camwall.secrets.toml"
    assert (path.stat().st_mode & 0o777) == 0o600
    assert resolve_password("camwall/porch", config_path=config) == "p@ss:w/rd"
    forget_password("camwall/porch", config_path=config)
    assert resolve_password("camwall/porch", config_path=config) is None
    assert resolve_password("camwall/yard", config_path=config) == "other"


def test_a_bad_reference_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="service/name"):
        resolve_password("porch", config_path=tmp_path / "c.toml")


def test_headless_and_check_use_the_password_the_wall_stored(
    no_keyring: None, tmp_path: Path
) -> None:
    """A password typed into the wall is in the 0600 file; the CLI's config loading finds it."""
    from camwall.commands.common import load_config

    config = tmp_path / "camwall.toml"
    config.write_text('version = 1\n[[camera]]\nname = "porch"\nurl = "rtsp://admin@192.0.2.4/s"\n')
    store_password(reference_for("porch"), "p@ss:w/rd", config_path=config)
    camera = load_config(config).cameras[0]
    assert camera.password() == "p@ss:w/rd"
    assert "p@ss" not in repr(camera) and "p%40ss" not in repr(camera)
