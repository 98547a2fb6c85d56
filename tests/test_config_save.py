"""Saving a config edits the user's file in place and never loses or leaks anything.

Comments, order and formatting survive; a symlink stays a link; the mode is kept (0600 for a
new file); a password from the environment is never written, nor any password into a file
others can read; a hand edit made meanwhile is detected, not overwritten; one bad camera never
blocks saving the others; non-Latin camera names get distinct folders.
"""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

import camwall.config as config
from camwall.config import Camera, ConfigConflictError, ConfigDocument, OnvifConfig
from camwall.errors import ConfigError
from camwall.record.naming import segment_dir

SECRET = "s3cr#t:/@ pässwörd"
ENV = {"FRONT_PW": SECRET}

HAND_WRITTEN = """\
# My cameras, written by hand
version = 1  # the schema

[wall]
grid = 4  # four tiles

# The front of the house
[[camera]]
name = "front"   # by the door
url = "rtsp://admin@10.0.0.2/s"
password_env = "FRONT_PW"
transport = "tcp"  # written out on purpose

[camera.onvif]
port = 8000

# The garage
[[camera]]
name = "garage"
url = "rtsp://10.0.0.3/s"
"""


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_save_keeps_comments_order_and_formatting(tmp_path: Path) -> None:
    """Adding a camera through save(config) appends its table; every hand-written line stays."""
    file = write(tmp_path / "camwall.toml", HAND_WRITTEN)
    cfg = config.load(file, env=ENV)
    yard = Camera("yard", "rtsp://10.0.0.4/s", record=True)
    config.save(dataclasses.replace(cfg, cameras=(*cfg.cameras, yard)))
    text = file.read_text()
    assert text.startswith(HAND_WRITTEN)
    assert (
        text[len(HAND_WRITTEN) :]
        == '\n[[camera]]\nname = "yard"\nurl = "rtsp://10.0.0.4/s"\nrecord = true\n'
    )
    assert [c.name for c in config.load(file, env=ENV).cameras] == ["front", "garage", "yard"]


def test_update_and_remove_touch_only_what_changed(tmp_path: Path) -> None:
    """Updating one key of one camera changes that line; removing a camera removes its table."""
    file = write(tmp_path / "camwall.toml", HAND_WRITTEN)
    doc = ConfigDocument.load(file)
    doc.set_camera(
        Camera(
            "front",
            "rtsp://admin@10.0.0.2/s",
            password_env="FRONT_PW",
            detect=True,
            onvif=OnvifConfig(port=8080),
            read_timeout_s=30,
        ),
        env=ENV,
    )
    doc.remove_camera("garage")
    doc.save()
    expected = (
        # The comment above a removed table stays (tomlkit files it with the table before).
        HAND_WRITTEN.split('[[camera]]\nname = "garage"')[0]
        .replace(
            '"tcp"  # written out on purpose\n',
            '"tcp"  # written out on purpose\ndetect = true\nread_timeout_s = 30\n',
        )
        .replace("port = 8000", "port = 8080")
    )
    assert file.read_text() == expected
    front = config.load(file, env=ENV).camera("front")
    assert front.read_timeout_s == 30.0 and front.first_frame_timeout_s is None


def test_a_default_is_not_written_into_a_table_that_left_it_out(tmp_path: Path) -> None:
    """An ONVIF table without a port keeps meaning port 80: saving does not spell it out."""
    text = 'version = 1\n\n[[camera]]\nname = "front"\nurl = "rtsp://10.0.0.2/s"\n\n[camera.onvif]\nuser = "op"\n'
    file = write(tmp_path / "camwall.toml", text)
    doc = ConfigDocument.load(file)
    doc.set_camera(dataclasses.replace(config.load(file).camera("front"), detect=True))
    doc.save()
    assert file.read_text() == text.replace('s"\n\n', 's"\ndetect = true\n\n')


def test_save_follows_a_symlink_and_keeps_the_link(tmp_path: Path) -> None:
    """The link's target is replaced (atomically, in its own folder); the link stays a link."""
    real_dir = tmp_path / "dotfiles"
    real_dir.mkdir()
    real = write(real_dir / "camwall.toml", HAND_WRITTEN, 0o640)
    link = tmp_path / "camwall.toml"
    link.symlink_to(real)
    cfg = config.load(link, env=ENV)
    config.save(dataclasses.replace(cfg, log_level="DEBUG"))
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert 'log_level = "DEBUG"' in real.read_text()
    assert mode_of(real) == 0o640
    assert no_temp_files(real_dir) and no_temp_files(tmp_path)


def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path) -> None:
    """A link to a file not there yet (dotfiles set up before first run): the target is
    created 0600, the link stays."""
    link = tmp_path / "camwall.toml"
    target = tmp_path / "dotfiles" / "camwall.toml"
    target.parent.mkdir()
    link.symlink_to(target)
    doc = ConfigDocument.load(link)
    doc.set_camera(Camera("yard", "rtsp://10.0.0.4/s"))
    assert doc.save() == target.resolve()
    assert link.is_symlink() and mode_of(target) == 0o600
    assert [c.name for c in config.load(link).cameras] == ["yard"]


def test_mode_is_kept_and_new_files_are_private(tmp_path: Path) -> None:
    """An existing 0644 file stays 0644 (no password written); a new file is created 0600."""
    file = write(tmp_path / "camwall.toml", HAND_WRITTEN, 0o644)
    cfg = config.load(file, env=ENV)
    config.save(dataclasses.replace(cfg, log_level="WARNING"))
    assert mode_of(file) == 0o644
    new = tmp_path / "sub" / "new.toml"
    config.save(cfg, new)
    assert mode_of(new) == 0o600
    assert config.load(new, env=ENV) == cfg


def test_a_password_from_the_environment_is_never_written(tmp_path: Path) -> None:
    """The wall hands back the URL it connected with (password from FRONT_PW inside): the
    file keeps password_env as the reference and never holds the password."""
    file = write(tmp_path / "camwall.toml", HAND_WRITTEN)
    front = config.load(file, env=ENV).camera("front")
    resolved = front.resolved_url(ENV)
    assert "s3cr" in resolved
    doc = ConfigDocument.load(file)
    stored = doc.set_camera(Camera("front", resolved, detect=True), env=ENV)
    assert stored.password_env == "FRONT_PW" and stored.url == "rtsp://admin@10.0.0.2/s"
    doc.save()
    text = file.read_text()
    assert "s3cr" not in text and "s3cr%23t" not in text
    assert 'password_env = "FRONT_PW"' in text
    assert config.load(file, env=ENV).camera("front").resolved_url(ENV) == resolved


def test_no_password_goes_into_a_file_others_can_read(tmp_path: Path) -> None:
    """A camera with a password in its URL is refused for a 0644 file, with what to do; the
    other cameras are saved. Into a 0600 file it is written (and load warns)."""
    file = write(tmp_path / "camwall.toml", HAND_WRITTEN, 0o644)
    cfg = config.load(file, env=ENV)
    inline = Camera("yard", "rtsp://admin:hunter2@10.0.0.5/s")
    porch = Camera("porch", "rtsp://10.0.0.6/s")
    with pytest.raises(ConfigError) as info:
        config.save(dataclasses.replace(cfg, cameras=(*cfg.cameras, inline, porch)))
    message = str(info.value)
    assert "camera[2].url: contains a password, and the file is readable by other users" in message
    assert "mode 0644" in message and "chmod 600" in message and "hunter2" not in message
    assert "hunter2" not in file.read_text()
    assert [c.name for c in config.load(file, env=ENV).cameras] == ["front", "garage", "porch"]
    file.chmod(0o600)
    config.save(dataclasses.replace(cfg, cameras=(*cfg.cameras, inline, porch)))
    assert config.load(file, env=ENV).camera("yard").password() == "hunter2"
    assert mode_of(file) == 0o600


def test_a_hand_edit_made_meanwhile_is_detected_not_overwritten(tmp_path: Path) -> None:
    """save(config) after the file was edited raises ConfigConflictError and writes nothing;
    ConfigDocument.reload() merges the pending camera change into the edited file."""
    file = write(tmp_path / "camwall.toml", HAND_WRITTEN)
    cfg = config.load(file, env=ENV)
    doc = ConfigDocument.load(file)
    edited = HAND_WRITTEN.replace("grid = 4  # four tiles", "grid = 9  # changed by hand")
    file.write_text(edited)
    yard = Camera("yard", "rtsp://10.0.0.4/s")
    with pytest.raises(ConfigConflictError, match="changed on disk since camwall read it"):
        config.save(dataclasses.replace(cfg, cameras=(*cfg.cameras, yard)))
    assert file.read_text() == edited
    doc.set_camera(yard)
    assert doc.changed_on_disk()
    with pytest.raises(ConfigConflictError):
        doc.save()
    assert file.read_text() == edited
    assert doc.reload() == []
    doc.save()
    merged = config.load(file, env=ENV)
    assert merged.wall.grid == 9 and [c.name for c in merged.cameras][-1] == "yard"
    assert "# changed by hand" in file.read_text()


def test_one_bad_camera_never_blocks_saving_the_others(tmp_path: Path) -> None:
    """A camera that fails validation is reported by name; the good ones are saved, and so is
    every later change."""
    file = write(tmp_path / "camwall.toml", HAND_WRITTEN)
    cfg = config.load(file, env=ENV)
    bad = Camera("bad", "rtsp://***@10.0.0.8:99999/s")
    yard = Camera("yard", "rtsp://10.0.0.4/s")
    with pytest.raises(ConfigError, match=r"camera\[2\]\.url: has an invalid port"):
        config.save(dataclasses.replace(cfg, cameras=(*cfg.cameras, bad, yard)))
    assert [c.name for c in config.load(file, env=ENV).cameras] == ["front", "garage", "yard"]
    porch = Camera("porch", "rtsp://10.0.0.6/s")
    with pytest.raises(ConfigError, match=r"camera\[3\]\.url: has an invalid port"):
        config.save(dataclasses.replace(cfg, cameras=(*cfg.cameras, bad, yard, porch)))
    assert [c.name for c in config.load(file, env=ENV).cameras][-2:] == ["yard", "porch"]
    doc = ConfigDocument.load(file)
    with pytest.raises(ConfigError):
        doc.set_camera(bad)
    assert "bad" not in doc.camera_names()


def test_non_latin_names_are_kept_with_distinct_safe_folders(tmp_path: Path) -> None:
    """Two cameras named in Cyrillic (or CJK) load, keep their names for display, and record
    into different folders."""
    names = ["Кухня", "Гараж", "前门", "後門"]
    text = "version = 1\n" + "".join(
        f'[[camera]]\nname = "{n}"\nurl = "rtsp://10.0.0.{i}/s"\n' for i, n in enumerate(names, 2)
    )
    file = write(tmp_path / "camwall.toml", text)
    cfg = config.load(file)
    assert [c.name for c in cfg.cameras] == names
    slugs = {config.safe_name(n) for n in names}
    assert len(slugs) == len(names) and "camera" not in slugs
    assert all(s.isascii() for s in slugs)
    folders = {segment_dir(tmp_path, n, cfg_start()) for n in names}
    assert len(folders) == len(names)
    config.save(cfg, tmp_path / "copy.toml")
    assert [c.name for c in config.load(tmp_path / "copy.toml").cameras] == names


def cfg_start():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 11, 26, tzinfo=UTC)
