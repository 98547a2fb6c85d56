"""Cameras added or removed on the wall persist in the config file it was opened with."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from pytestqt.qtbot import QtBot

from camwall.config import Camera, Config, OnvifConfig, load, save
from camwall.secrets import fill_password
from camwall.ui.wall.config_sync import ConfigSync
from camwall.ui.wall.main_window import CameraWall

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_cameras_added_and_removed_are_saved(
    qtbot: QtBot, wall: CameraWall, tmp_path: Path, file_keyring: KeyringBackend
) -> None:
    path = tmp_path / "camwall.toml"
    original = Config(cameras=(Camera(name="door", url="synthetic://door?width=160&height=90"),))
    save(original, path)
    sync = ConfigSync(wall, path, load(path))
    wall.add_cameras(load(path).cameras)
    wall.add_camera(
        Camera(
            name="ptz",
            url="rtsp://admin:hunter2@127.0.0.1:9/main",
            substream_url="rtsp://admin:hunter2@127.0.0.1:9/sub",
            onvif=OnvifConfig(host="127.0.0.1", port=8080, user="admin"),
        ),
        start=False,
    )
    wall.connect_url("synthetic://yard?width=160&height=90")
    sync.wait()
    saved = load(path, check_env=False)
    assert [c.name for c in saved.cameras] == ["door", "ptz", "yard"]
    ptz = saved.camera("ptz")
    # The password went to the keyring; the file holds none, only the user.
    assert "hunter2" not in path.read_text()
    assert ptz.url == "rtsp://admin@127.0.0.1:9/main"
    assert ptz.substream_url == "rtsp://admin@127.0.0.1:9/sub"
    assert file_keyring.get_password("camwall", "ptz") == "hunter2"
    assert ptz.onvif is not None and (ptz.onvif.host, ptz.onvif.port, ptz.onvif.user) == (
        "127.0.0.1",
        8080,
        "admin",
    )
    # Read back through camwall.secrets, the camera (and its ONVIF service) has it again.
    filled = fill_password(ptz, config_path=path)
    assert filled.resolved_substream_url() == "rtsp://admin:hunter2@127.0.0.1:9/sub"
    endpoint = filled.onvif_settings()
    assert endpoint is not None and endpoint.password == "hunter2"
    assert (path.stat().st_mode & 0o777) == 0o600

    wall.remove_camera("door")
    sync.wait()
    assert [c.name for c in load(path, check_env=False).cameras] == ["ptz", "yard"]


def test_a_failed_save_is_reported_and_the_wall_goes_on(
    qtbot: QtBot, wall: CameraWall, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config folder should be")
    sync = ConfigSync(wall, blocker / "camwall.toml", None)
    with caplog.at_level(logging.ERROR):
        wall.connect_url("synthetic://yard?width=160&height=90")
        sync.wait()
    assert "could not be saved" in caplog.text
    assert wall.camera_names() == ["yard"]


def test_hand_edits_made_while_the_wall_runs_are_merged_not_overwritten(
    qtbot: QtBot, wall: CameraWall, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "camwall.toml"
    path.write_text(
        "# my cameras\nversion = 1\n\n"
        '[[camera]]\nname = "door"  # the front door\nurl = "synthetic://door?width=160&height=90"\n'
    )
    path.chmod(0o640)
    sync = ConfigSync(wall, path, load(path))
    wall.add_cameras(load(path).cameras)
    wall.connect_url("synthetic://yard?width=160&height=90", name="yard")
    sync.wait()
    # Edited by hand while the wall runs: a comment and a camera of their own.
    text = path.read_text()
    path.write_text(
        text + '\n# added by hand\n[[camera]]\nname = "gate"\nurl = "synthetic://gate"\n'
    )
    wall.connect_url("synthetic://shed?width=160&height=90", name="shed")
    sync.wait()
    saved = path.read_text()
    assert "# my cameras" in saved and "# the front door" in saved and "# added by hand" in saved
    assert [c.name for c in load(path).cameras] == ["door", "yard", "gate", "shed"]
    assert "edited while the wall ran" in caplog.text
    assert (path.stat().st_mode & 0o777) == 0o640  # the user's mode is kept


def test_rename_and_edit_persist(
    qtbot: QtBot, wall: CameraWall, tmp_path: Path, file_keyring: KeyringBackend
) -> None:
    path = tmp_path / "camwall.toml"
    path.write_text(
        "version = 1\n\n"
        '[[camera]]\nname = "a"\nurl = "synthetic://a?width=160&height=90"\n\n'
        '[[camera]]\nname = "b"  # the back door\nurl = "rtsp://admin@127.0.0.1:9/b"\n\n'
        '[[camera]]\nname = "c"\nurl = "synthetic://c?width=160&height=90"\n'
    )
    path.chmod(0o600)
    sync = ConfigSync(wall, path, load(path))
    wall.add_cameras(load(path).cameras)
    # Edited in place: its table (and comment) stay where they were.
    wall.edit_camera("b", dataclasses.replace(wall.cameras.camera("b"), record=True))
    sync.wait()
    assert [c.name for c in load(path).cameras] == ["a", "b", "c"]
    assert load(path).camera("b").record and "# the back door" in path.read_text()
    # Renamed with a password typed meanwhile: the password goes to the keyring.
    renamed = dataclasses.replace(
        wall.cameras.camera("b"), name="porch", url="rtsp://admin:pw1@127.0.0.1:9/b"
    )
    wall.edit_camera("b", renamed)
    sync.wait()
    assert wall.camera_names() == ["a", "porch", "c"]  # the tile kept its place
    assert sorted(c.name for c in load(path).cameras) == ["a", "c", "porch"]
    assert "pw1" not in path.read_text()
    assert file_keyring.get_password("camwall", "porch") == "pw1"

    with pytest.raises(ValueError, match="already has a camera named 'a'"):
        wall.rename_camera("porch", "a")
    assert wall.camera_names() == ["a", "porch", "c"]
