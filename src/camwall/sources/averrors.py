"""Turning FFmpeg's failures into camwall errors a person can act on.

FFmpeg says little when a camera misbehaves: a silent server, a port that speaks another
protocol and a broken stream description can all end in "Invalid data found when processing
input". Where an open's error is ambiguous, :func:`probe` asks the server once more,
directly, and the reply (or silence) decides (:func:`classify_open_error`). A stream lost
while reading says why in the terms of :mod:`camwall.sources.liveness` (:func:`read_error`,
:func:`stall_error`). Every message carries the *masked* URL; PyAV's own exception text
(which contains the URL with its password) is never passed on.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import av.error

from camwall.errors import (
    SourceAuthError,
    SourceError,
    SourceRefusedError,
    SourceServerError,
    SourceTimeoutError,
    StreamLostError,
    StreamNotFoundError,
    UnsupportedStreamError,
)
from camwall.redact import redact
from camwall.sources.liveness import Liveness, LostReason

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
ProbeKind = Literal[
    "refused", "unresolved", "unreachable", "silent", "closed", "rtsp", "http", "other"
]


@dataclass(frozen=True, slots=True)
class OpenFailure:
    """What we know about a failed open besides FFmpeg's exception."""

    url: str  # masked
    scheme: str  # "rtsp", "http", ..., or "file"
    has_credentials: bool
    elapsed_s: float
    #: Seconds FFmpeg's own socket timeout was set to (network), for "no answer" messages.
    io_timeout_s: float
    #: True when our deadline (not FFmpeg) cut the open short.
    deadline_hit: bool
    interrupted: bool


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """How a server reacted to a plain protocol request."""

    kind: ProbeKind
    preview: str = ""  # the reply's first bytes, printable ASCII only
    content_type: str = ""


def ffmpeg_reason(exc: BaseException) -> str:
    """FFmpeg's reason without the file name (which is the unmasked URL)."""
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return redact(str(exc.strerror))
    return redact(type(exc).__name__)


def host_port(url: str) -> tuple[str, int]:
    """Host and port a network URL points at (default port per scheme)."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 554)


def probe(url: str, timeout_s: float, cancelled: Callable[[], bool]) -> ProbeResult:
    """Connect to the URL's host and port, send one harmless request, classify the reply.

    Bounded by ``timeout_s`` (or earlier when ``cancelled()`` turns True).
    """
    scheme = urlsplit(url).scheme.lower()
    host, port = host_port(url)
    deadline = time.monotonic() + timeout_s
    if scheme in ("rtsp", "rtsps"):
        request = (
            f"OPTIONS rtsp://{host}:{port}/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: camwall\r\n\r\n"
        )
    else:
        request = f"HEAD / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: camwall\r\n\r\n"
    try:
        sock = socket.create_connection((host, port), timeout=max(0.05, timeout_s))
    except ConnectionRefusedError:
        return ProbeResult("refused")
    except socket.gaierror:
        return ProbeResult("unresolved")  # the name, not the host, is the problem
    except OSError:
        return ProbeResult("unreachable")
    data = b""
    with sock:
        try:
            if scheme in ("rtsps", "https"):
                import ssl

                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE  # a probe for the protocol, not for identity
                sock = ctx.wrap_socket(sock, server_hostname=host)
            sock.sendall(request.encode())
            while len(data) < 1024 and not cancelled():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                sock.settimeout(min(0.1, remaining))
                try:
                    chunk = sock.recv(1024)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    break
        except OSError:
            pass
    if not data:
        return ProbeResult("silent" if time.monotonic() >= deadline else "closed")
    preview = "".join(c if 32 <= ord(c) < 127 else "." for c in data[:40].decode("latin-1"))
    if data.startswith(b"RTSP/"):
        return ProbeResult("rtsp", preview)
    if data.startswith(b"HTTP/"):
        content_type = ""
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"content-type:"):
                content_type = line.split(b":", 1)[1].strip().decode("latin-1")[:60]
        return ProbeResult("http", preview, content_type)
    return ProbeResult("other", preview)


def classify_open_error(
    exc: BaseException,
    failure: OpenFailure,
    probe_fn: Callable[[], ProbeResult] | None,
) -> SourceError:
    """The camwall error for a failed ``av.open`` (``probe_fn`` is called only if ambiguous)."""
    url = failure.url
    reason = ffmpeg_reason(exc)
    if failure.interrupted:
        return StreamLostError(f"{url}: interrupted while connecting")
    if isinstance(exc, av.error.HTTPUnauthorizedError):
        if failure.has_credentials:
            return SourceAuthError(
                f"{url}: the camera rejected the user name or password (401 Unauthorized)"
            )
        return SourceAuthError(
            f"{url}: the camera needs a user name and password (401 Unauthorized); "
            "put them in the URL as scheme://user:password@host/..."
        )
    if isinstance(exc, av.error.HTTPForbiddenError):
        return SourceAuthError(
            f"{url}: access forbidden (403 Forbidden): this user may not open the stream"
        )
    if isinstance(exc, av.error.HTTPNotFoundError):
        return StreamNotFoundError(
            f"{url}: no stream at this path (404 Not Found); check the path after the host"
        )
    if isinstance(exc, av.error.HTTPServerError):
        return SourceServerError(
            f"{url}: the camera reported an internal error (5xx); it may be busy or "
            "limiting its clients"
        )
    if isinstance(exc, av.error.HTTPClientError):
        hint = " (try transport tcp)" if "rtsp" in failure.scheme else ""
        return UnsupportedStreamError(f"{url}: the server refused the request ({reason}){hint}")
    if failure.scheme == "file":
        return _file_error(exc, url, reason)
    if isinstance(exc, ConnectionRefusedError):
        host, port = host_port(url)
        return SourceRefusedError(
            f"{url}: {host}:{port} refused the connection: nothing listens on that port "
            "(check the port and that the camera's streaming service is on)"
        )
    if isinstance(exc, ConnectionError):
        return StreamLostError(f"{url}: the connection failed while opening ({reason})")
    if isinstance(exc, TimeoutError) and not failure.deadline_hit:
        return SourceTimeoutError(
            f"{url}: no answer within {failure.io_timeout_s:.1f} s "
            "(host down, unreachable, or not answering on this port)"
        )
    if isinstance(exc, av.error.ProtocolNotFoundError | av.error.DemuxerNotFoundError):
        return UnsupportedStreamError(f"{url}: this FFmpeg build cannot read it ({reason})")
    if isinstance(exc, socket.gaierror):
        host, _ = host_port(url)
        return SourceTimeoutError(
            f"{url}: DNS lookup failed: the host name {host!r} does not resolve"
        )
    if isinstance(exc, OSError) and not isinstance(exc, av.error.FFmpegError):
        return SourceTimeoutError(f"{url}: cannot reach the host ({redact(str(exc))})")
    # Ambiguous: "invalid data", "immediate exit" (our deadline), or a generic failure.
    silent_timeout = (
        not failure.deadline_hit and failure.elapsed_s >= 0.9 * failure.io_timeout_s > 0
    )
    if silent_timeout:
        return SourceTimeoutError(
            f"{url}: connected, but the server sent no answer within {failure.io_timeout_s:.1f} s"
        )
    result = probe_fn() if probe_fn is not None else None
    return _from_probe(result, failure, reason)


def _file_error(exc: BaseException, url: str, reason: str) -> SourceError:
    if isinstance(exc, FileNotFoundError):
        return StreamNotFoundError(f"{url}: no such file")
    if isinstance(exc, PermissionError):
        return SourceAuthError(f"{url}: permission denied reading the file")
    if isinstance(exc, IsADirectoryError):
        return UnsupportedStreamError(f"{url}: is a directory, not a video file")
    return UnsupportedStreamError(f"{url}: not a video file FFmpeg can read ({reason})")


def _from_probe(result: ProbeResult | None, failure: OpenFailure, reason: str) -> SourceError:
    url = failure.url
    proto = "RTSP" if failure.scheme.startswith("rtsp") else "HTTP"
    waited = f"{failure.elapsed_s:.1f} s"
    if result is None:
        if failure.deadline_hit:
            return SourceTimeoutError(f"{url}: no video arrived within {waited}")
        return UnsupportedStreamError(f"{url}: the stream could not be opened ({reason})")
    if result.kind == "refused":
        host, port = host_port(url)
        return SourceRefusedError(f"{url}: {host}:{port} refused the connection")
    if result.kind == "unresolved":
        host, _ = host_port(url)
        return SourceTimeoutError(
            f"{url}: DNS lookup failed: the host name {host!r} does not resolve "
            "(check its spelling and the DNS server)"
        )
    if result.kind == "unreachable":
        return SourceTimeoutError(
            f"{url}: no answer within {waited} (host down, unreachable, or not answering on "
            "this port)"
        )
    if result.kind == "silent":
        return SourceTimeoutError(
            f"{url}: connected, but the server sent no answer within {waited}"
        )
    if result.kind == "closed":
        return UnsupportedStreamError(
            f"{url}: the server closed the connection without answering; it does not speak "
            f"{proto} on this port"
        )
    if result.kind == "other" or (proto == "RTSP" and result.kind == "http"):
        spoke = "HTTP" if result.kind == "http" else "something else"
        return UnsupportedStreamError(
            f"{url}: the server did not speak {proto} video; it answered with {spoke} "
            f"({result.preview!r}). Is this the camera's {proto} port?"
        )
    if result.kind == "http" and proto == "HTTP" and result.content_type:
        what = f" (the server says the content is {result.content_type!r})"
    else:
        what = ""
    if failure.deadline_hit:
        return SourceTimeoutError(
            f"{url}: the server speaks {proto} but no decodable video arrived within {waited}{what}"
        )
    return UnsupportedStreamError(
        f"{url}: the server speaks {proto} but the stream is not video FFmpeg can read "
        f"({reason}){what}"
    )


def read_error(
    url: str,
    reason: LostReason | Literal["interrupted"] | None,
    exc: BaseException | None,
    *,
    interrupted: bool,
    liveness: Liveness,
    since_frame: Mapping[str, int],
) -> SourceError:
    """The error for a read that failed (``exc``) or was given up on (``exc`` None, for
    ``reason``); ``since_frame`` counts packets, corrupt ones and decode errors since the
    last frame."""
    if reason == "interrupted" or interrupted:
        return StreamLostError(f"{url}: interrupted")
    if reason == "stall" or reason == "no-keyframe":
        return stall_error(url, reason, liveness.limit(reason), since_frame, blocked=True)
    if reason == "read-timeout" or isinstance(exc, av.error.ExitError | TimeoutError):
        age = time.monotonic() - liveness.last_frame_at
        return StreamLostError(
            f"{url}: no data for {liveness.read_limit:.1f} s "
            f"(last frame {age:.1f} s ago); the camera or network stopped sending"
        )
    if isinstance(exc, ConnectionError):
        return StreamLostError(f"{url}: connection lost ({ffmpeg_reason(exc)})")
    detail = ffmpeg_reason(exc) if exc is not None else "unknown"
    return StreamLostError(f"{url}: reading the stream failed ({detail})")


def stall_error(
    url: str,
    reason: LostReason,
    limit: float,
    since_frame: Mapping[str, int],
    *,
    blocked: bool,
) -> StreamLostError:
    """The error for a stream with no frame for ``limit`` seconds, saying what did arrive
    (``blocked``: a read was waiting for data when the limit passed)."""
    s = since_frame
    if reason == "no-keyframe":
        detail = (
            f"{s['packets']} packets arrived but none decoded to a picture; if the "
            f"camera's keyframe interval is longer, raise first_frame_timeout_s"
        )
    elif s["corrupt"] or s["errors"]:
        detail = (
            f"only undecodable data: {s['corrupt']} corrupt packets, {s['errors']} decode errors"
        )
    elif s["packets"]:
        detail = f"{s['packets']} packets arrived but none decoded to a picture"
    elif blocked:
        detail = "connected, but no data arrives"
    else:
        detail = "no video packets"
    return StreamLostError(f"{url}: no frame for {limit:.1f} s ({detail})")
