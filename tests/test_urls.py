"""camwall.urls: the one URL parser, and the helpers that delegate to it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from camwall.config.urls import UrlProblem, host_of, url_kind, userinfo, with_credentials
from camwall.control.model import StreamProfile, StreamRole
from camwall.errors import InvalidSourceError, UrlError
from camwall.redact import forget_secrets, mask_url
from camwall.sources import SourceSettings, open_source, source_kind
from camwall.urls import (
    CameraUrl,
    build_url,
    encode_userinfo,
    is_masked,
    parse_url,
    unmask,
)

HOST = "10.0.0.5"
MASKED = f"rtsp://***@{HOST}:554/stream"

# Any printable character, ASCII or not (no control characters, no lone surrogates).
CHARS = st.characters(blacklist_categories=("Cc", "Cs"))
# A raw user name holds no ":" (it ends the user) nor "/?#" (see camwall.urls); "%" would be
# read as an escape.
RAW_USER_CHARS = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=":/?#%")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# Passwords with the pieces that confuse URL parsers mixed in more often than chance would.
TRICKY = ("://", "@", "@h", "@10.0.0.5", "@h/", "#", "/", "?", "%", ":", "[", "]", " ", "***")
PASSWORDS = st.lists(
    st.one_of(st.text(CHARS, max_size=3), st.sampled_from(TRICKY)), max_size=8
).map("".join)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    # Passwords parsed here are registered for redaction; do not let them mask other tests.
    yield
    forget_secrets()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        (" rtsp://h/x", "leading or trailing spaces"),
        ("rtp://h/x", "scheme 'rtp' is not supported"),
        ("rtsp:10.0.0.5/x", "has no // after rtsp:"),
        ("10.0.0.5:554/stream", "has no scheme; write it as rtsp://10.0.0.5:554/stream"),
        ("admin:pw@10.0.0.5/stream", "has no scheme; write it as rtsp://***@10.0.0.5/stream"),
        ("rtsp:///stream", "has no host name"),
        ("rtsp://admin:pw@/stream", "has no host name"),
        ("rtsp://a b/x", "space or control character in its host name"),
        ("rtsp://h\tx/x", "control characters"),
        ("rtsp://h/x\ny", "control characters"),
        ("rtsp://ca!m/x", "'ca!m' is not a valid host name"),
        ("rtsp://10.0.0.256/x", "10.0.0.256 is not a valid IPv4 address"),
        ("rtsp://h:0/x", "invalid port"),
        ("rtsp://h:65536/x", "invalid port"),
        ("rtsp://h:99999/x", "invalid port"),
        ("rtsp://h:abc/x", "invalid port"),
        ("rtsp://h:/x", "invalid port"),
        ("rtsp://h:١٢/x", "invalid port"),  # Arabic-Indic digits are digits, not a port
        ("rtsp://admin:pw@[::1/cam", "IPv6 address without its closing ]"),
        ("rtsp://admin:p/w@[::1/cam", "IPv6 address without its closing ]"),
        ("rtsp://[::g]/cam", "[::g] is not a valid IPv6 address"),
        ("rtsp://[::1]x/cam", "after the IPv6 address"),
        ("rtsp://::1]/cam", "without a ["),
        ("rtsp://h/a b", "spaces after the host"),
        ("rtsp://***@h/x", "this URL is masked"),
        ("rtsp://admin:***@h/x", "this URL is masked"),
    ],
)
def test_malformed_urls_give_a_one_line_reason(text: str, reason: str) -> None:
    with pytest.raises(UrlError) as info:
        parse_url(text)
    message = str(info.value)
    assert reason in message
    assert "\n" not in message and "pw" not in message
    assert isinstance(info.value, InvalidSourceError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("text", "user", "password", "host", "port", "path"),
    [
        # The examples: raw reserved characters in the password.
        ("rtsp://admin:p@ss#1@10.0.0.5/stream", "admin", "p@ss#1", HOST, None, "/stream"),
        ("rtsp://admin:a/b?c@10.0.0.5:554/s?x=1", "admin", "a/b?c", HOST, 554, "/s?x=1"),
        ("rtsp://admin:12/b@10.0.0.5/x", "admin", "12/b", HOST, None, "/x"),
        ("rtsp://admin:p ss wörd@10.0.0.5", "admin", "p ss wörd", HOST, None, ""),
        ("rtsp://admin:100%@cam.local/s", "admin", "100%", "cam.local", None, "/s"),
        ("rtsp://admin:a:b:c@cam/s", "admin", "a:b:c", "cam", None, "/s"),
        # Percent-encoded, also non-ASCII (UTF-8).
        ("rtsp://ad%20min:p%40ss%23%2F%3F%C3%A9@cam/s", "ad min", "p@ss#/?é", "cam", None, "/s"),
        ("rtsp://admin:%FF@cam/s", "admin", "%FF", "cam", None, "/s"),  # not UTF-8: as typed
        ("rtsp://admin@cam/s", "admin", None, "cam", None, "/s"),
        ("rtsp://admin:@cam/s", "admin", "", "cam", None, "/s"),
        ("rtsp://@cam/s", None, None, "cam", None, "/s"),
        ("RTSP://[::1]:8554/cam", None, None, "::1", 8554, "/cam"),
        ("rtsp://u:pw9@[fe80::1%25eth0]/cam", "u", "pw9", "fe80::1%25eth0", None, "/cam"),
        # An "@" in a path or a query is not a user name.
        ("rtsp://10.0.0.5/live@main", None, None, HOST, None, "/live@main"),
        ("rtsp://10.0.0.5/live@ma!n", None, None, HOST, None, "/live@ma!n"),
        ("http://cam.local/cgi?mail=bob@example.com", None, None, "cam.local", None, None),
    ],
)
def test_parse(
    text: str, user: str | None, password: str | None, host: str, port: int | None, path: str
) -> None:
    url = parse_url(text)
    assert (url.kind, url.user, url.password, url.host, url.port) == (
        "network",
        user,
        password,
        host,
        port,
    )
    if path is not None:
        assert url.path == path
    if password:
        assert password not in repr(url) and password not in str(url)


def test_ffmpeg_url_percent_encodes_and_display_masks() -> None:
    url = parse_url("rtsp://admin:p@ss#1 é@10.0.0.5/Streaming/101")
    # Only what must be encoded is: FFmpeg keeps 127 bytes of RTSP credentials.
    assert url.ffmpeg_url() == "rtsp://admin:p%40ss%231%20é@10.0.0.5/Streaming/101"
    assert url.display() == "rtsp://***@10.0.0.5/Streaming/101"
    assert parse_url("rtsp://münchen.de/x").ffmpeg_url() == "rtsp://xn--mnchen-3ya.de/x"
    assert parse_url("rtsp://[::1]:8554/a").ffmpeg_url() == "rtsp://[::1]:8554/a"
    assert parse_url("https://h/cgi?user=a&password=hunter2").display() == (
        "https://h/cgi?user=a&password=***"
    )


def test_other_kinds() -> None:
    assert parse_url("0").kind == "webcam"
    assert parse_url("webcam://1").ffmpeg_url() == "webcam://1"
    assert parse_url("synthetic://cam?width=64").ffmpeg_url() == "synthetic://cam?width=64"
    assert parse_url("/var/video/a b.mp4").path == "/var/video/a b.mp4"
    assert parse_url("file:///tmp/a%20b.mp4").path == "/tmp/a b.mp4"
    assert parse_url("clips/x.mp4").kind == "file"
    assert parse_url("cam@home.mp4").path == "cam@home.mp4"  # not "user@host"
    with pytest.raises(UrlError, match=r"has no scheme; write it as rtsp://\*\*\*@10.0.0.5/s"):
        parse_url("admin@10.0.0.5/s")


def test_is_masked_and_masked_urls_are_refused() -> None:
    """A masked URL from the URL box (``rtsp://***@…``) can never become a camera."""
    assert is_masked("rtsp://***@10.0.0.5/x")
    assert is_masked("rtsp://admin:***@10.0.0.5/x")
    assert is_masked(" rtsp://***@10.0.0.5/x ")
    assert not is_masked("rtsp://admin:pw@10.0.0.5/x")
    assert not is_masked("rtsp://10.0.0.5/x")
    assert not is_masked("clip.mp4")
    with pytest.raises(UrlError, match=r"this URL is masked \(\*\*\*\); type the password again"):
        parse_url(mask_url("rtsp://admin:pw@10.0.0.5/x"))


def test_helpers_delegate_to_the_parser() -> None:
    """config.urls, sources.source_kind and redact.mask_url all read URLs the same way."""
    raw = "rtsp://admin:p@ss#1@10.0.0.5/stream"
    assert userinfo(raw) == ("admin", "p@ss#1")
    assert host_of(raw) == HOST
    assert url_kind(raw) == source_kind(raw) == "network"
    assert with_credentials(raw, None, None) == "rtsp://admin:p%40ss%231@10.0.0.5/stream"
    assert with_credentials("rtsp://cam/s", "ad min", "p/w#") == "rtsp://ad%20min:p%2Fw%23@cam/s"
    assert mask_url(raw) == "rtsp://***@10.0.0.5/stream"
    with pytest.raises(UrlProblem, match=r"^has an IPv6 address without its closing \]"):
        url_kind("rtsp://admin:pw@[::1/cam")
    with pytest.raises(UrlError, match=r"^rtsp://\*\*\*@\[::1/cam: has an IPv6"):
        source_kind("rtsp://admin:pw@[::1/cam")
    profile = StreamProfile("t", "main", StreamRole.MAIN, "rtsp://10.0.0.5:554/onvif1")
    assert profile.uri_with_credentials("admin", "p@ss#1") == (
        "rtsp://admin:p%40ss%231@10.0.0.5:554/onvif1"
    )


def test_open_source_gives_ffmpeg_the_encoded_url() -> None:
    source = open_source(SourceSettings("rtsp://admin:p@ss#1@10.0.0.5/stream"))
    assert source.settings.url == "rtsp://admin:p%40ss%231@10.0.0.5/stream"
    assert "p@ss" not in repr(source)


# -- properties over arbitrary user names and passwords ---------------------------------------


@given(user=st.text(CHARS, max_size=12), password=PASSWORDS)
def test_build_then_parse_round_trips(user: str, password: str) -> None:
    assume("***" not in (user, password))
    forget_secrets()  # a password registered by an earlier example would be masked here
    built = build_url("rtsp", HOST, "/stream", port=554, user=user, password=password)
    assume(_fits(built))
    parsed = parse_url(built.ffmpeg_url())
    assert (parsed.user, parsed.password) == (user, password)
    assert (parsed.host, parsed.port, parsed.path) == (HOST, 554, "/stream")
    assert parsed == built
    # Exact, unless the password is part of the address itself: a known password is masked
    # wherever it appears.
    assert mask_url(built.ffmpeg_url()) == MASKED or password in MASKED
    assert built.display() == str(built) == mask_url(built.ffmpeg_url())
    assert "password" not in repr(built) or password == ""


@given(user=st.text(RAW_USER_CHARS, max_size=12), password=PASSWORDS)
def test_raw_credentials_parse_as_typed(user: str, password: str) -> None:
    """A user types the password raw, reserved characters and all: it still parses."""
    assume("***" not in (user, password) and not _ESCAPE.search(password))
    forget_secrets()
    typed = f"rtsp://{user}:{password}@{HOST}:554/stream"
    assume(_fits(build_url("rtsp", HOST, user=user, password=password)))
    parsed = parse_url(typed)
    assert (parsed.user, parsed.password, parsed.host, parsed.port) == (user, password, HOST, 554)
    assert parse_url(parsed.ffmpeg_url()) == parsed
    # What the rest of camwall (and urllib) reads from the URL FFmpeg gets: the right host.
    split = urlsplit(parsed.ffmpeg_url())
    assert (split.hostname, split.port, split.path) == (HOST, 554, "/stream")
    assert mask_url(typed) == MASKED or password in MASKED
    assert encode_userinfo(password) in parsed.ffmpeg_url()


def _fits(url: CameraUrl) -> bool:
    """False if the credentials are too long for FFmpeg's RTSP client (a UrlError says so)."""
    try:
        url.ffmpeg_url()
    except UrlError as exc:
        assert "too long for FFmpeg's RTSP client" in str(exc)
        return False
    return True


def test_credentials_too_long_for_ffmpeg_are_refused() -> None:
    """FFmpeg keeps 127 bytes of RTSP "user:password" and cuts the rest: say so, not 401."""
    fits = "x" * (127 - len("user:"))
    assert parse_url(f"rtsp://user:{fits}@cam/s").password == fits
    with pytest.raises(UrlError, match=r"too long for FFmpeg's RTSP client \(128 bytes"):
        parse_url(f"rtsp://user:{fits}x@cam/s")
    with pytest.raises(UrlError, match=r"^rtsp://\*\*\*@cam/s: the user name and password"):
        build_url("rtsp", "cam", "/s", user="user", password="é" * 70).ffmpeg_url()
    assert parse_url(f"http://user:{fits}x@cam/s").password == fits + "x"  # HTTP: no limit


def test_unmask_puts_the_credentials_back_only_for_the_same_host() -> None:
    """The URL box shows ``rtsp://***@host/path``; editing the path keeps the password."""
    original = "rtsp://admin:p@ss#1@10.0.0.5:554/Streaming/101"
    shown = mask_url(original)
    edited = unmask(shown.replace("/101", "/102"), original)
    assert (edited.user, edited.password, edited.path) == ("admin", "p@ss#1", "/Streaming/102")
    assert unmask(" rtsp://u:new@10.0.0.5/x ", original).password == "new"  # typed again
    for other in ("rtsp://***@10.0.0.6:554/Streaming/101", "rtsp://***@10.0.0.5:8554/x"):
        with pytest.raises(UrlError, match="this URL is masked"):
            unmask(other, original)
    with pytest.raises(UrlError, match="this URL is masked"):
        unmask(shown, "clip.mp4")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("rtsp://admin:p@ss#1@10.0.0.5/stream", "10.0.0.5"),  # not "ss"
        ("rtsp://admin:pa/ss@cam.local/stream", "cam.local"),  # not "admin"
        ("rtsp://[::1]:8554/x", "::1"),
        ("0", "webcam0"),
        ("webcam://1?width=640", "webcam1"),
        ("synthetic://door?width=64", "door"),
        ("/var/video/back yard.mp4", "back yard"),
    ],
)
def test_default_name_is_never_the_user_or_the_password(text: str, name: str) -> None:
    assert parse_url(text).default_name() == name
