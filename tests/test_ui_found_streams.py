"""The streams both add-camera dialogs offer (Qt-free): main/sub choice, shown and real URLs."""

from __future__ import annotations

import pytest

from camwall.control.model import StreamProfile, StreamRole
from camwall.ui.dialogs.found_streams import FoundStreams, describe, free_name, scrub, shown_url


def profile(token: str, role: StreamRole, uri: str, width: int, height: int) -> StreamProfile:
    return StreamProfile(token, token, role, uri, "H264", width, height)


MAIN = profile("p0", StreamRole.MAIN, "rtsp://10.0.0.5:554/main", 2560, 1440)
SUB = profile("p1", StreamRole.SUB, "rtsp://10.0.0.5:554/sub", 640, 360)


def test_main_and_sub_by_role_and_the_first_profile_without_one() -> None:
    assert (FoundStreams((SUB, MAIN)).main, FoundStreams((SUB, MAIN)).sub) == (MAIN, SUB)
    # No profile marked main: the first is, and it is not offered again as the substream.
    only_sub = FoundStreams((SUB,))
    assert only_sub.main is SUB and only_sub.sub is None
    assert FoundStreams().main is None and FoundStreams().sub is None


def test_a_shown_url_stands_for_the_cameras_url_with_the_login() -> None:
    found = FoundStreams((MAIN, SUB))
    assert (
        found.real_url(shown_url(MAIN), "admin", "p@ss") == "rtsp://admin:p%40ss@10.0.0.5:554/main"
    )
    typed = "rtsp://10.0.0.9/other"
    assert found.real_url(typed, "admin", "pw") == "rtsp://admin:pw@10.0.0.9/other"
    assert found.real_url("rtsp://bob@10.0.0.9/x", "admin", "pw") == "rtsp://bob@10.0.0.9/x"
    assert found.real_url("  ", "admin", "pw") == ""


def test_the_camera_has_the_login_in_its_urls_and_onvif_without_the_password() -> None:
    found = FoundStreams((MAIN, SUB))
    cam = found.camera(
        "door",
        shown_url(MAIN),
        shown_url(SUB),
        host="10.0.0.5",
        port=80,
        user="admin",
        password="pw",
    )
    assert cam.url == "rtsp://admin:pw@10.0.0.5:554/main"
    assert cam.substream_url == "rtsp://admin:pw@10.0.0.5:554/sub"
    assert cam.onvif is not None and (cam.onvif.host, cam.onvif.port) == ("10.0.0.5", 80)
    same = found.camera(
        "door", shown_url(MAIN), shown_url(MAIN), host="h", port=80, user="", password=""
    )
    assert same.substream_url is None  # the main stream twice is no substream
    with pytest.raises(ValueError, match="already has a camera named 'door'"):
        found.camera(
            "door", shown_url(MAIN), "", host="h", port=80, user="", password="", taken=["door"]
        )
    with pytest.raises(ValueError, match="no main stream"):
        found.camera("new", "", "", host="h", port=80, user="", password="")


def test_helpers_for_people() -> None:
    assert describe(MAIN) == "main · p0 · H264 · 2560×1440"
    assert free_name("cam", ["cam", "cam-2"]) == "cam-3"
    assert free_name("cam", []) == "cam"
    assert "s3cret" not in scrub("login s3cret failed for rtsp://u:s3cret@h/x", "s3cret")
