"""Camera URLs in the config: what kinds are accepted, and putting credentials in at use time."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

UrlKind = Literal["network", "file", "webcam", "synthetic"]
NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
SUPPORTED_TEXT = "use rtsp, rtsps, http, https or a file path (or a webcam number, synthetic://)"

_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
# "192.168.1.20:554/stream" or "cam.local:8554": a host written without its scheme.
_LOOKS_LIKE_HOST = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}(?:[/?#]|$)")


class UrlProblem(ValueError):
    """Why a URL cannot name a camera (the text never contains the URL's password)."""


def url_kind(url: str) -> UrlKind:
    """Classify ``url``; raise :class:`UrlProblem` with a reason if it names no source."""
    if not url.strip():
        raise UrlProblem("is empty; enter rtsp://host/path, a file path or a webcam number")
    if url != url.strip():
        raise UrlProblem("has leading or trailing spaces")
    if url.isdigit() or url.startswith("webcam://"):
        return "webcam"
    if not _HAS_SCHEME.match(url):
        if _LOOKS_LIKE_HOST.match(url):
            raise UrlProblem("has no scheme; write it as rtsp://" + url.split("@")[-1])
        return "file"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "synthetic":
        return "synthetic"
    if scheme == "file":
        return "file"
    if scheme not in NETWORK_SCHEMES:
        raise UrlProblem(f"scheme {scheme!r} is not supported; {SUPPORTED_TEXT}")
    if any(c.isspace() for c in url):
        raise UrlProblem("contains spaces; percent-encode them (%20)")
    if not parts.hostname:
        raise UrlProblem("has no host name")
    try:
        port = parts.port
    except ValueError:
        raise UrlProblem("has an invalid port (a number from 1 to 65535)") from None
    if port == 0:
        raise UrlProblem("has an invalid port (a number from 1 to 65535)")
    return "network"


def file_path(url: str) -> str:
    """The path part of a file URL or plain path."""
    if url.lower().startswith("file://"):
        return unquote(urlsplit(url).path)
    return url


def userinfo(url: str) -> tuple[str | None, str | None]:
    """The (user, password) written in a network URL, percent-decoded; None where absent."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return None, None
    info = parts.netloc.rsplit("@", 1)[0]
    user, sep, password = info.partition(":")
    return unquote(user), (unquote(password) if sep else None)


def with_credentials(url: str, user: str | None, password: str | None) -> str:
    """``url`` with its userinfo replaced by ``user`` and ``password`` (percent-encoded)."""
    if user is None and password is None:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    info = quote(user or "", safe="")
    if password is not None:
        info += ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{info}@{host}"))


def host_of(url: str) -> str | None:
    """The host name of a network URL (None for files and webcams)."""
    if not _HAS_SCHEME.match(url):
        return None
    return urlsplit(url).hostname
