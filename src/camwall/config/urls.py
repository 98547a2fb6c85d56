"""Camera URLs in the config: what kinds are accepted, and putting credentials in at use time.

Thin helpers over :mod:`camwall.urls`, the one URL parser; their messages are reasons without
the URL (the config names the key instead).
"""

from __future__ import annotations

from camwall.errors import UrlError
from camwall.urls import NETWORK_SCHEMES, SUPPORTED_TEXT, CameraUrl, UrlKind, parse_url

__all__ = [
    "NETWORK_SCHEMES",
    "SUPPORTED_TEXT",
    "UrlKind",
    "UrlProblem",
    "file_path",
    "host_of",
    "url_kind",
    "userinfo",
    "with_credentials",
]


class UrlProblem(UrlError):
    """Why a URL cannot name a camera (the text never contains the URL's password)."""


def _parse(url: str) -> CameraUrl:
    try:
        return parse_url(url)
    except UrlError as exc:
        raise UrlProblem(exc.reason) from None


def url_kind(url: str) -> UrlKind:
    """Classify ``url``; raise :class:`UrlProblem` with a reason if it names no source."""
    return _parse(url).kind


def file_path(url: str) -> str:
    """The path part of a file URL or plain path."""
    try:
        parsed = parse_url(url)
    except UrlError:
        return url
    return parsed.path if parsed.kind == "file" else url


def userinfo(url: str) -> tuple[str | None, str | None]:
    """The (user, password) written in a network URL, decoded; None where absent or invalid."""
    try:
        parsed = parse_url(url)
    except UrlError:
        return None, None
    return parsed.user, parsed.password


def with_credentials(url: str, user: str | None, password: str | None) -> str:
    """``url`` with its userinfo replaced by ``user`` and ``password`` (percent-encoded).

    Without a user and password: ``url`` as FFmpeg needs it (credentials typed raw in it
    percent-encoded). Raises :class:`UrlProblem` if ``url`` does not parse.
    """
    parsed = _parse(url)
    if parsed.kind != "network":
        return url
    if user is not None or password is not None:
        parsed = parsed.without_credentials().with_credentials(user, password)
    return parsed.ffmpeg_url()


def host_of(url: str) -> str | None:
    """The host name of a network URL (None for files, webcams and invalid URLs)."""
    try:
        parsed = parse_url(url)
    except UrlError:
        return None
    return parsed.host if parsed.kind == "network" else None
