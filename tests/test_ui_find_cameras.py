"""The "Find cameras…" dialog against a real WS-Discovery responder and ONVIF simulators:
search, the reasons of broken answers, a refused password, streams, Add → tile and config."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QCoreApplication, Qt

from camwall.config import Config, load, save
from camwall.secrets import fill_password
from camwall.ui.dialogs.find_cameras import parse_targets
from camwall.ui.wall.config_sync import ConfigSync
from camwall.ui.wall.main_window import CameraWall
from support.onvif_sim import OnvifSimulator
from support.wsd_responder import GARBAGE, PRINTER, WsdDevice, WsdResponder

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 30000


def xaddr(host: str, port: int) -> str:
    return f"http://{host}:{port}/onvif/device_service"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def probe_threads() -> list[threading.Thread]:
    """The find dialogs' probe threads still running."""
    return [t for t in threading.enumerate() if t.name == "camwall-find" and t.is_alive()]


def test_closing_the_dialog_mid_search_stops_and_joins_the_probe(
    qtbot: QtBot, wall: CameraWall
) -> None:
    from camwall.ui.dialogs.find_cameras import FindCamerasDialog

    added: list[object] = []
    dialog = FindCamerasDialog(wall.controls.hub, added.append, wall, probe_timeout_s=60.0)
    qtbot.addWidget(dialog)
    dialog.show()
    # A target that receives the probe and never answers: the probe would listen for 60 s.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        dialog.multicast_box.setChecked(False)
        qtbot.keyClicks(dialog.targets_edit, f"127.0.0.1:{silent.getsockname()[1]}")
        qtbot.mouseClick(dialog.search_button, LEFT)
        assert dialog.busy and len(probe_threads()) == 1
        silent.settimeout(WAIT_MS / 1000)
        assert silent.recv(65535)  # the probe went out; now it listens
        dialog.close()
        # Joined by close() itself: nothing is left to wait for.
        assert not probe_threads()
    # The stopped probe's hand-over is queued by now; delivered, it is dropped, not shown.
    QCoreApplication.processEvents()
    assert dialog.devices == [] and added == []


def test_parse_targets() -> None:
    assert parse_targets(" 10.0.0.5, cam.local:4000 [::1]:3702 ") == [
        ("10.0.0.5", 3702),
        ("cam.local", 4000),
        ("::1", 3702),
    ]
    with pytest.raises(ValueError, match="port must be a number"):
        parse_targets("cam:http")
    with pytest.raises(ValueError, match="not an address"):
        parse_targets("user@cam")


def select_row(dialog: object, name: str) -> None:
    tree = dialog.tree  # type: ignore[attr-defined]
    for i in range(tree.topLevelItemCount()):
        if tree.topLevelItem(i).text(2) == name:
            tree.setCurrentItem(tree.topLevelItem(i))
            return
    raise AssertionError(f"no row {name!r}")


def test_find_inspect_and_add_a_camera(
    qtbot: QtBot,
    wall: CameraWall,
    tmp_path: Path,
    make_onvif_sim: Callable[..., OnvifSimulator],
    file_keyring: KeyringBackend,
) -> None:
    good = make_onvif_sim(rtsp_base="rtsp://127.0.0.1:9/door")
    locked = make_onvif_sim(password="not-the-one-you-have")
    responder = WsdResponder(
        [
            WsdDevice([xaddr(good.host, good.port)], name="Front Door", repeat=2),
            WsdDevice([xaddr(locked.host, locked.port)], name="Garage"),
            WsdDevice([xaddr("127.0.0.1", free_port())], name="Gone"),
            WsdDevice(["http://127.0.0.1:631/wsd"], name="Printer", types=[PRINTER]),
        ],
        [GARBAGE],
    ).start()
    path = tmp_path / "camwall.toml"
    save(Config(), path)
    sync = ConfigSync(wall, path, load(path))
    try:
        wall.controls.find_action.trigger()
        d = wall.controls.find_dialog
        assert d is not None and d.isVisible()
        d.multicast_box.setChecked(False)  # multicast on a container's loopback is unreliable
        qtbot.keyClicks(d.targets_edit, f"127.0.0.1:{responder.port}")
        qtbot.mouseClick(d.search_button, LEFT)
        assert d.busy and not d.search_button.isEnabled()
        qtbot.waitUntil(lambda: not d.busy, timeout=WAIT_MS)
        assert {dev.name for dev in d.devices} == {"Front Door", "Garage", "Gone", "Printer"}
        assert d.row_text("Front Door")[:3] == ["127.0.0.1", "SimCam-1440", "Front Door"]
        assert "answered 2" in d.row_text("Front Door")[3]
        assert "not an ONVIF camera" in d.row_text("Printer")[3]
        assert any("not WS-Discovery XML" in reason for _, reason in d.bad_answers)
        assert "1 unusable answer" in d.message.text()

        # A refused password: the camera's row says so; nothing can be added.
        select_row(d, "Garage")
        qtbot.keyClicks(d.user_edit, good.config.user)
        qtbot.keyClicks(d.password_edit, good.config.password)
        qtbot.mouseClick(d.inspect_button, LEFT)
        qtbot.waitUntil(lambda: not d.busy, timeout=WAIT_MS)
        status = d.row_text("Garage")[3].lower()
        assert "password" in status or "auth" in status or "refused" in status, status
        assert not d.add_button.isEnabled()

        # An unreachable camera: bounded, with its reason.
        select_row(d, "Gone")
        qtbot.mouseClick(d.inspect_button, LEFT)
        qtbot.waitUntil(lambda: not d.busy, timeout=WAIT_MS)
        assert d.row_text("Gone")[3] not in ("camera", "")

        select_row(d, "Front Door")
        qtbot.mouseClick(d.inspect_button, LEFT)
        qtbot.waitUntil(lambda: not d.busy, timeout=WAIT_MS)
        assert d.main_box.currentText() == "rtsp://127.0.0.1:9/door/main"
        assert d.sub_box.currentText() == "rtsp://127.0.0.1:9/door/sub"
        assert d.name_edit.text() == "Front Door"
        assert "2 stream(s)" in d.row_text("Front Door")[3]
        assert d.add_button.isEnabled()
        d.name_edit.setText("door")
        qtbot.mouseClick(d.add_button, LEFT)
        assert "door" in wall.camera_names()
        assert wall.tile("door") is not None
        assert "Added door" in d.message.text()
        assert d.name_edit.text() == "door-2"  # the name is taken now
        sync.wait()
        saved = load(path, check_env=False).camera("door")
        user, password = good.config.user, good.config.password
        # The config holds no password: the wall's ConfigSync put it in the keyring.
        assert password not in path.read_text()
        assert saved.url == f"rtsp://{user}@127.0.0.1:9/door/main"
        assert saved.substream_url == f"rtsp://{user}@127.0.0.1:9/door/sub"
        assert file_keyring.get_password("camwall", "door") == password
        assert saved.onvif is not None
        assert (saved.onvif.host, saved.onvif.port, saved.onvif.user) == (
            good.host,
            good.port,
            user,
        )
        # Read back through camwall.secrets, the camera and its ONVIF login work again.
        endpoint = fill_password(saved, config_path=path).onvif_settings()
        assert endpoint is not None and endpoint.password == password
        assert password not in d.message.text() and password not in d.details.text()
        d.close()
        assert not probe_threads()
    finally:
        responder.stop()
