"""redact() and the logging filter against every form a password takes, and hypothesis.

The forms: ``user:pass@`` raw (reserved characters, spaces) and percent-encoded, ``password=``
values, Authorization headers and Basic tokens, FFmpeg echoing the URL back, tracebacks, and
a known password echoed on its own.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import traceback
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from camwall.errors import UrlError
from camwall.redact import (
    RedactingFilter,
    forget_secrets,
    install_redacting_filter,
    mask_url,
    redact,
)
from camwall.urls import CameraUrl, build_url, parse_url

HOST = "10.0.0.5"
CHARS = st.characters(blacklist_categories=("Cc", "Cs"))
# Raw in free text: no whitespace (a space ends a URL in text unless the rest gives it away)
# and no "%XX" (read as an escape).
RAW_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))
RAW_USER_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters=":/?#%"
)
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# Text with the pieces that confuse URL parsers mixed in more often than chance would.
TRICKY = ("://", "'", '"', "@", "@h", "@h/", "#", "/", "?", "%", ":", "[", "]", "x://", "=")
RAW_PASSWORDS = st.lists(
    st.one_of(st.text(RAW_CHARS, max_size=3), st.sampled_from(TRICKY)), max_size=8
).map("".join)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture
def record_factory() -> Iterator[None]:
    """Put the logging record factory back after a test that installs redaction."""
    saved = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(saved)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "open rtsp://admin:p@ss#1@10.0.0.5/stream failed",
            "open rtsp://***@10.0.0.5/stream failed",
        ),
        ("rtsp://admin:p%40ss%231@10.0.0.5:554/s (401)", "rtsp://***@10.0.0.5:554/s (401)"),
        ("rtsp://admin:a/b?c#d@cam.local/x", "rtsp://***@cam.local/x"),
        ("rtsp://admin:my pass word@10.0.0.5/x failed", "rtsp://***@10.0.0.5/x failed"),
        ("http://u:pw@[::1]:8080/x", "http://***@[::1]:8080/x"),
        ("rtsp://admin:pw@[::1/cam: bad", "rtsp://***@[::1/cam: bad"),
        ("rtsp://admin:pw@10.0.0.5: refused", "rtsp://***@10.0.0.5: refused"),
        ("rtsp://admin:pw@/x", "rtsp://***@/x"),
        ("'rtsp://a:b1@h1/x', 'rtsp://c:d2@h2/y'", "'rtsp://***@h1/x', 'rtsp://***@h2/y'"),
        ("rtsp://u:pa://ss@h/x", "rtsp://***@h/x"),
        ("rtsp://u:p'x://ss@h/x", "rtsp://***@h/x"),
        ("('rtsp://cam1/x','rtsp://c:d@h2/y')", "('rtsp://***@h2/y')"),  # more, never less
        ("rtsp://cam1/x and rtsp://c:d@h2/y", "rtsp://cam1/x and rtsp://***@h2/y"),
        (
            "https://h/cgi?user=admin&password=hunter2&x=1",
            "https://h/cgi?user=admin&password=***&x=1",
        ),
        ("pwd=hunter2 passwd=zz PASSWORD: yy", "pwd=*** passwd=*** PASSWORD: ***"),
        ('{"user": "a", "password": "hu\\"nter"}', '{"user": "a", "password": "***"}'),
        ("Authorization: Basic dXNlcjpzZWNyZXQ=", "Authorization: ***"),
        ("proxy-authorization: Digest username=a, response=b", "proxy-authorization: ***"),
        ("sent Basic dXNlcjpzZWNyZXQ= to the camera", "sent Basic *** to the camera"),
        # Not credentials: left alone.
        ("uses basic authentication", "uses basic authentication"),
        ("[rtsp @ 0x55d0c1] method DESCRIBE failed", "[rtsp @ 0x55d0c1] method DESCRIBE failed"),
        ("rtsp://10.0.0.5/x failed; mail admin@example.com", None),
        ("password_env = CAM_PW", "password_env = CAM_PW"),
    ],
)
def test_redact_forms(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)
    assert redact(redact(text)) == redact(text)


def test_ffmpeg_echo_and_tracebacks() -> None:
    """What FFmpeg prints and what a traceback shows, multi-line, raw and encoded."""
    ffmpeg = (
        "[rtsp @ 0x5581] method DESCRIBE failed: 401 Unauthorized\n"
        "Server returned 401 Unauthorized (authorization failed) "
        "rtsp://admin:Zq7%40ss%231@10.0.0.5/stream\n"
    )
    assert "Zq7" not in redact(ffmpeg) and "401 Unauthorized" in redact(ffmpeg)
    try:
        try:
            raise ConnectionError("refused: rtsp://admin:Zq7@ss#1@10.0.0.5/stream")
        except ConnectionError as inner:
            raise RuntimeError(f"check failed for ['rtsp://admin:Zq7 s/s#1@{HOST}/x']") from inner
    except RuntimeError as exc:
        text = "".join(traceback.format_exception(exc))
    assert "Zq7" not in redact(text)
    assert "rtsp://***@10.0.0.5/stream" in redact(text)


def test_a_known_password_is_masked_in_any_form() -> None:
    """Once parsed, the password is hidden also where no URL surrounds it."""
    password = "Zq7 p@ss#/é"
    parse_url(f"rtsp://admin:{password}@{HOST}/x")
    token = "YWRtaW46WnE3IHBAc3MjL8Op"  # base64 of "admin:" + password, as a Basic token
    for text in (
        f"login failed for {password}",
        f"GET /?p={quote(password, safe='')} HTTP/1.0",
        f"header {token}==",
    ):
        assert "Zq7" not in redact(text) and token not in redact(text), redact(text)
    forget_secrets()
    assert "Zq7" in redact(f"login failed for {password}")


def test_filter_covers_handlers_added_later_and_rebuilt_records(record_factory: None) -> None:
    """Installed once, redaction reaches a handler added afterwards (the wall's log panel)."""
    install_redacting_filter()
    stream = io.StringIO()
    late = logging.StreamHandler(stream)
    late.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("camwall.test.redact_forms")
    logger.addHandler(late)
    logger.setLevel(logging.DEBUG)
    try:
        logger.warning("cannot open %s", "rtsp://admin:Zq7@ss#1@10.0.0.5/s")
        try:
            raise OSError("401 for rtsp://admin:Zq7%40ss%231@10.0.0.5/s")
        except OSError:
            logger.exception("worker failed: %r", {"url": "rtsp://u:Zq7/x@10.0.0.5/s"})
        logger.info("stack", stack_info=True, extra={"x": 1})
        # A record rebuilt from a worker's pipe bypasses the factory; the filter catches it.
        late.addFilter(RedactingFilter())
        logger.handle(logging.makeLogRecord({"msg": "rtsp://a:Zq7@h/x", "levelno": 30}))
    finally:
        logger.removeHandler(late)
    text = stream.getvalue()
    assert "Zq7" not in text
    assert text.count("rtsp://***@10.0.0.5/s") >= 3 and "rtsp://***@h/x" in text


# -- properties -------------------------------------------------------------------------------


def _fits(url: CameraUrl) -> bool:
    """False if the credentials are too long for FFmpeg's RTSP client."""
    try:
        url.ffmpeg_url()
    except UrlError:
        return False
    return True


def _leaks(password: str, out: str, clean: str) -> bool:
    """True if ``password`` shows more often in ``out`` than in the text with it masked."""
    return bool(password) and out.count(password) > clean.count(password)


@given(user=st.text(CHARS, max_size=10), password=st.text(CHARS, min_size=1, max_size=20))
def test_encoded_credentials_never_survive_redact(user: str, password: str) -> None:
    assume("***" not in (user, password))
    url = build_url("rtsp", HOST, "/stream", port=554, user=user, password=password)
    assume(_fits(url))
    forget_secrets()  # shape alone must do it
    masked = f"rtsp://***@{HOST}:554/stream"
    for template in ("open {} failed: 401", "('{}', 3)", "{}"):
        out = redact(template.format(url.ffmpeg_url()))
        assert out == template.format(masked)
    assert mask_url(url.ffmpeg_url()) == masked or password in masked


@given(user=st.text(RAW_USER_CHARS, max_size=10), password=RAW_PASSWORDS)
def test_raw_credentials_never_survive_redact(user: str, password: str) -> None:
    assume("***" not in (user, password) and not _ESCAPE.search(password))
    typed = f"rtsp://{user}:{password}@{HOST}:554/stream"
    masked = f"rtsp://***@{HOST}:554/stream"
    for template in ("open {} failed: 401", "check {}", "{}"):
        out = redact(template.format(typed))
        clean = template.format(masked)
        assert not _leaks(password, out, clean) and not _leaks(user, out, clean), out


@given(user=st.text(CHARS, max_size=10), password=st.text(CHARS, min_size=1, max_size=20))
def test_no_formatted_log_record_shows_the_password(user: str, password: str) -> None:
    """Through the filter: message arguments, exceptions, tracebacks."""
    assume("***" not in (user, password))
    forget_secrets()
    url = build_url("rtsp", HOST, "/stream", port=554, user=user, password=password)
    assume(_fits(url))
    raw = f"rtsp://{user}:{password}@{HOST}:554/stream"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("camwall.test.redact_property")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("connecting to %s", url.ffmpeg_url())
        try:
            raise ConnectionError(f"refused by {url.ffmpeg_url()} ({raw})")
        except ConnectionError:
            logger.exception("lost %s", raw)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    text = stream.getvalue()
    # The password is known (it was parsed): every form of it is masked, short ones by shape.
    if len(password) >= 4:
        assert password not in text and quote(password, safe="") not in text
    assert url.ffmpeg_url() not in text


def test_uncaught_tracebacks_are_redacted() -> None:
    """``camwall`` installs redaction for tracebacks it does not catch (main and threads)."""
    code = (
        "import threading\n"
        "from camwall.redact import install_redaction\n"
        "install_redaction()\n"
        "def boom():\n"
        "    raise OSError('401 from rtsp://admin:Zq7@ss#1@10.0.0.5/s')\n"
        "t = threading.Thread(target=boom, name='grabber')\n"
        "t.start()\n"
        "t.join()\n"
        "raise ValueError('bad rtsp://admin:Zq7@ss#1@10.0.0.5/s')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "Zq7" not in result.stderr
    assert "Exception in thread grabber" in result.stderr and "OSError: 401 from" in result.stderr
    assert "ValueError: bad rtsp://***@10.0.0.5/s" in result.stderr
