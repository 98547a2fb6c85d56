"""The one credential-masking function and the logging filter built on it."""

from __future__ import annotations

import logging

import pytest

from camwall.capture import CameraSpec
from camwall.redact import RedactingFilter, mask_url, redact
from camwall.sources import SourceSettings


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "rtsp://admin:hunter2@10.0.0.5:554/Streaming/101",
            "rtsp://***@10.0.0.5:554/Streaming/101",
        ),
        ("rtsp://admin@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        ("rtsps://u:p%40ss@cam.local/s", "rtsps://***@cam.local/s"),
        ("http://user:pa@ss@host:8080/mjpeg?x=1", "http://***@host:8080/mjpeg?x=1"),
        (
            "https://host/cgi?user=admin&password=hunter2",
            "https://host/cgi?user=admin&password=***",
        ),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
        ("/var/video/clip.mp4", "/var/video/clip.mp4"),
        ("synthetic://cam?width=640", "synthetic://cam?width=640"),
        ("0", "0"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert "hunter2" not in mask_url(url)


def test_redact_free_text() -> None:
    text = (
        "could not open rtsp://admin:hunter2@10.0.0.5/a (401); "
        "retrying http://x:y@h/b and rtsp://h/c, pwd=hunter2 passwd=zz"
    )
    out = redact(text)
    assert "hunter2" not in out and "x:y" not in out and "zz" not in out
    assert "rtsp://***@10.0.0.5/a (401)" in out and "rtsp://h/c" in out


def test_filter_masks_message_args_and_exception(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("camwall.test.redact")
    flt = RedactingFilter()
    logger.addFilter(flt)
    try:
        with caplog.at_level(logging.INFO, logger="camwall.test.redact"):
            logger.info("connecting to %s", "rtsp://admin:hunter2@cam/1")
            try:
                raise ConnectionError("refused by rtsp://admin:hunter2@cam/1")
            except ConnectionError:
                logger.exception("failed")
    finally:
        logger.removeFilter(flt)
    rendered = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "hunter2" not in rendered
    assert "rtsp://***@cam/1" in rendered


def test_settings_and_spec_repr_hide_the_password() -> None:
    settings = SourceSettings("rtsp://admin:hunter2@cam/1")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in repr(CameraSpec("door", settings))
    assert settings.url == "rtsp://admin:hunter2@cam/1"  # the real URL is still there to use
