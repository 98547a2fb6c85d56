"""Cameras added or removed on the wall persist in the config file it was opened with."""

from __future__ import annotations

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
    endpoint = filled.onvif_endpoint()
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


def test_rename_and_edit_persist_in_place(
    qtbot: QtBot, wall: CameraWall, tmp_path: Path, file_keyring: KeyringBackend
) -> None:
    path = tmp_path / "camwall.toml"
    cams = (
        Camera(name="a", url="synthetic://a?width=160&height=90"),
        Camera(name="b", url="rtsp://admin:pw1@127.0.0.1:9/b"),
        Camera(name="c", url="synthetic://c?width=160&height=90"),
    )
    save(Config(cameras=cams), path)
    sync = ConfigSync(wall, path, load(path))
    wall.add_cameras(load(path).cameras)
    wall.rename_camera("b", "porch")
    sync.wait()
    assert wall.camera_names() == ["a", "porch", "c"]  # the tile kept its place
    saved = load(path, check_env=False)
    assert [c.name for c in saved.cameras] == ["a", "porch", "c"]
    assert "pw1" not in path.read_text()
    assert file_keyring.get_password("camwall", "porch") == "pw1"
    assert file_keyring.get_password("camwall", "b") is None

    with pytest.raises(ValueError, match="already has a camera named 'a'"):
        wall.rename_camera("porch", "a")
    assert wall.camera_names() == ["a", "porch", "c"]


def test_remove_and_undo_put_the_camera_back_in_its_place(
    qtbot: QtBot, wall: CameraWall, tmp_path: Path
) -> None:
    path = tmp_path / "camwall.toml"
    cams = tuple(
        Camera(name=n, url=f"synthetic://{n}?width=160&height=90") for n in ("a", "b", "c")
    )
    save(Config(cameras=cams), path)
    sync = ConfigSync(wall, path, load(path))
    wall.add_cameras(load(path).cameras)
    wall.remove_camera("b")
    sync.wait()
    assert [c.name for c in load(path).cameras] == ["a", "c"]
    wall.undo_remove()
    sync.wait()
    assert [c.name for c in load(path).cameras] == ["a", "b", "c"]
    assert wall.camera_names() == ["a", "b", "c"]
