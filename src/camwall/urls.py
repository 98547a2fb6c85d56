"""Camera URLs: the one parser for every URL that enters camwall (URL box, config, CLI, ONVIF).

>>> url = parse_url("rtsp://admin:p@ss#1@10.0.0.5/Streaming/101")
>>> url.host, url.user, url.display()
('10.0.0.5', 'admin', 'rtsp://***@10.0.0.5/Streaming/101')
>>> url.ffmpeg_url()  # secret: for av.open only, never log it
'rtsp://admin:p%40ss%231@10.0.0.5/Streaming/101'

People type passwords raw, with characters a URL reserves (``#``, ``/``, ``?``, ``@``, ``:``,
``%``, spaces, non-ASCII). A standard URL parser splits such a URL at the first ``#`` or
``/`` and connects to the wrong host. Here the credentials end at the *last* ``@`` that is
followed by a valid ``host[:port]`` and then ``/``, ``?``, ``#`` or the end; everything before
it is ``user[:password]`` (split at the first ``:``). So a raw password may hold any
character; a raw user name any but ``:/?#`` (that rule keeps ``/a@b`` in a path or
``?mail=a@b.com`` in a query from being read as credentials). Valid ``%XX`` sequences
in the user name and password are decoded (``p%40ss`` is ``p@ss``); anything else is taken
as typed. :meth:`CameraUrl.ffmpeg_url` percent-encodes in both what must be (``%/?#@[]:`` and
spaces), which FFmpeg decodes before it authenticates; the rest stays raw
because FFmpeg's RTSP client keeps only 127 bytes of ``user:password``.

Every failure is a :class:`~camwall.errors.UrlError` with a one-line reason and the masked
URL; a masked URL (``rtsp://***@host/…``, as camwall shows URLs) is refused, so it can never
become data.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Literal
from urllib.parse import quote, unquote

from camwall.errors import UrlError
from camwall.redact import MASK, redact, register_secret

UrlKind = Literal["network", "file", "webcam", "synthetic"]
NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
SUPPORTED_TEXT = "use rtsp, rtsps, http, https or a file path (or a webcam number, synthetic://)"
MASKED_TEXT = "this URL is masked (***); type the password again"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
# "rtsp:10.0.0.5/x", "http:/cam": a network scheme missing its "//".
_SCHEME_NO_SLASHES = re.compile(r"^(rtsps?|https?):(?!//)", re.IGNORECASE)
# "192.168.1.20:554/stream", "admin:pw@cam.local/x": a camera address written without scheme.
_LOOKS_LIKE_HOST = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}(?:[/?#]|$)")
_HOST_CHARS = re.compile(r"^[A-Za-z0-9._\-]+$")
_IPV4ISH = re.compile(r"^[0-9.]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters that may stay as they are in a path and query FFmpeg sends to a camera.
_PATH_SAFE = "/?#[]@!$&'()*+,;=:~%-._"
# Characters a user name or password must have percent-encoded for FFmpeg, for this parser and
# for urllib's urlsplit (brackets would read as an IPv6 host), besides spaces and control
# characters. Everything else stays raw, as short as possible: FFmpeg keeps only
# FFMPEG_RTSP_AUTH_MAX bytes of RTSP credentials.
_USER_UNSAFE = "%/?#@[]:"
_PASSWORD_UNSAFE = _USER_UNSAFE  # a raw ":" would do in a password; encoded, as is usual
FFMPEG_RTSP_AUTH_MAX = 127


@dataclass(frozen=True, slots=True)
class CameraUrl:
    """A parsed camera address. ``str()`` and ``repr()`` never show the password.

    For network URLs, ``host`` has no brackets (``::1``), ``path`` is everything after
    ``host[:port]`` as written (path, query, fragment), ``user``/``password`` are decoded
    (None when absent). For files ``path`` is the file's path; for webcams and synthetic
    cameras ``path`` is what follows the scheme (or the device number).
    """

    kind: UrlKind
    scheme: str
    host: str = ""
    port: int | None = None
    path: str = ""
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Once camwall knows a password, redact() hides it in any text, in any encoding.
        if self.password:
            encoded = encode_userinfo(self.password, _PASSWORD_UNSAFE)
            register_secret(self.password, self.user, also=(encoded,))

    @property
    def has_credentials(self) -> bool:
        """True when the URL names a user or a password."""
        return self.user is not None or self.password is not None

    @property
    def effective_port(self) -> int:
        """The port, or the scheme's default port (network URLs)."""
        return self.port if self.port is not None else DEFAULT_PORTS.get(self.scheme, 554)

    @property
    def netloc_host(self) -> str:
        """``host`` as written in a URL: IPv6 addresses in brackets."""
        return f"[{self.host}]" if ":" in self.host else self.host

    def _hostport(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.netloc_host}{port}"

    def ffmpeg_url(self) -> str:
        """The URL to open, credentials percent-encoded. Secret: never log or show it."""
        if self.kind == "file":
            return self.path
        if self.kind == "webcam":
            return self.path if self.scheme == "" else f"{self.scheme}://{self.path}"
        if self.kind == "synthetic":
            return f"synthetic://{self.path}"
        info = ""
        if self.has_credentials:
            info = encode_userinfo(self.user or "", _USER_UNSAFE)
            if self.password is not None:
                info += ":" + encode_userinfo(self.password, _PASSWORD_UNSAFE)
            if self.scheme in ("rtsp", "rtsps") and len(info.encode()) > FFMPEG_RTSP_AUTH_MAX:
                # FFmpeg's RTSP client keeps 127 bytes of "user:password" and silently cuts
                # the rest: the camera would answer 401 with no hint why.
                raise UrlError(
                    f"the user name and password are too long for FFmpeg's RTSP client "
                    f"({len(info.encode())} bytes as written in the URL; at most "
                    f"{FFMPEG_RTSP_AUTH_MAX})",
                    shown=self.display(),
                )
            info += "@"
        host = self.netloc_host
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{info}{host}{port}{quote(self.path, safe=_PATH_SAFE)}"

    def display(self) -> str:
        """The URL for people and logs: credentials as ``***``, ``password=`` values masked."""
        if self.kind != "network":
            return redact(self.ffmpeg_url())
        info = f"{MASK}@" if self.has_credentials else ""
        shown = f"{self.scheme}://{info}{self._hostport()}"
        if "@" in self.path:
            # "rtsp://ad/min:pw@cam/x" (a raw "/" in a user name) parses as host "ad" with
            # that path: mask by shape too, even if that hides an e-mail address in a query.
            return redact(shown + self.path)
        return shown + redact(self.path)

    def without_credentials(self) -> CameraUrl:
        """The same address with no user name and password."""
        return replace(self, user=None, password=None)

    def with_credentials(self, user: str | None, password: str | None) -> CameraUrl:
        """The same address with this user and password (None, None: unchanged)."""
        if (user is None and password is None) or self.kind != "network":
            return self
        return replace(self, user=user or "", password=password)

    def default_name(self) -> str:
        """A camera name for this address: the host, the file's stem, ``webcamN``, the
        synthetic camera's name; never the user name or the password."""
        if self.kind == "network":
            return self.host
        if self.kind == "webcam":
            return f"webcam{self.path.split('?', 1)[0]}"
        if self.kind == "synthetic":
            # Whatever stands before an "@" would be credentials: never part of a name.
            name = re.split(r"[/?#]", self.path, maxsplit=1)[0].rpartition("@")[2]
            return name or "synthetic"
        return PurePath(self.path).stem or "camera"

    def __str__(self) -> str:
        return self.display()


def encode_userinfo(text: str, unsafe: str = _USER_UNSAFE) -> str:
    """Percent-encode the characters of a user name or password FFmpeg and URLs need encoded."""
    return "".join(
        quote(c, safe="") if c in unsafe or c.isspace() or not c.isprintable() else c for c in text
    )


def is_masked(text: str) -> bool:
    """True if ``text`` is a URL whose credentials camwall masked (``scheme://***@…``)."""
    info = _userinfo_text(text.strip())
    if info is None:
        return False
    user, _, password = info.partition(":")
    return MASK in (user, password)


def unmask(edited: str, original: str) -> CameraUrl:
    """The URL a person edited from a masked one, with the original's credentials put back.

    ``edited`` is what the URL box holds (maybe ``rtsp://***@host/new-path``), ``original`` the
    camera's real URL. A masked ``edited`` keeps the original user and password only if it
    still names the same host and port; otherwise it raises :class:`UrlError` ("this URL is
    masked; type the password again"). An unmasked ``edited`` is parsed as it is.
    """
    text = edited.strip()
    if not is_masked(text):
        return parse_url(text)
    match = _SCHEME.match(text)
    found = _credentials_split(text[match.end() :]) if match is not None else None
    if match is None or found is None:
        raise UrlError(MASKED_TEXT, shown=_shown(text))
    _, hostport, tail = found
    bare = parse_url(f"{match.group(1)}://{hostport}{tail}")
    try:
        before = parse_url(original.strip())
    except UrlError:
        raise UrlError(MASKED_TEXT, shown=_shown(text)) from None
    if (before.kind, before.host.lower(), before.port) != ("network", bare.host.lower(), bare.port):
        raise UrlError(MASKED_TEXT, shown=_shown(text))
    return bare.with_credentials(before.user, before.password)


def parse_url(text: str) -> CameraUrl:
    """Parse a camera URL, file path, webcam number or ``synthetic://``; raise UrlError why not."""
    try:
        return _parse(text)
    except UrlError as exc:
        raise UrlError(exc.reason, shown=_shown(text)) from None


def build_url(
    scheme: str,
    host: str,
    path: str = "",
    *,
    port: int | None = None,
    user: str | None = None,
    password: str | None = None,
) -> CameraUrl:
    """A network :class:`CameraUrl` from its parts, validated like :func:`parse_url`."""
    netloc = f"[{host}]" if ":" in host and not host.startswith("[") else host
    hostport = netloc if port is None else f"{netloc}:{port}"
    bare = parse_url(f"{scheme}://{hostport}{path}")
    return bare.with_credentials(user, password)


def _shown(text: str) -> str:
    """``text`` masked for an error message, also when it did not parse."""
    text = text.strip()
    if not text:
        return ""
    if "://" not in text and "@" in text:
        # "admin:pw@10.0.0.5/x": credentials without a scheme redact() would not recognise.
        text = f"{MASK}@{text.rpartition('@')[2]}"
    # One line: control characters (a pasted line break) shown as escapes.
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", redact(text))


def _parse(text: str) -> CameraUrl:
    if not text.strip():
        raise UrlError("is empty; enter rtsp://host/path, a file path or a webcam number")
    if text != text.strip():
        raise UrlError("has leading or trailing spaces")
    if text.isdigit():
        return CameraUrl("webcam", "", path=text)
    match = _SCHEME.match(text)
    if match is None:
        return _schemeless(text)
    scheme = match.group(1).lower()
    rest = text[match.end() :]
    if scheme == "webcam":
        return CameraUrl("webcam", "webcam", path=rest)
    if scheme == "synthetic":
        return CameraUrl("synthetic", "synthetic", path=rest)
    if scheme == "file":
        return CameraUrl("file", "file", path=_file_url_path(rest))
    if len(scheme) == 1:  # "C://video.mp4": a Windows drive letter
        return CameraUrl("file", "file", path=text)
    if scheme not in NETWORK_SCHEMES:
        raise UrlError(f"scheme {scheme!r} is not supported; {SUPPORTED_TEXT}")
    return _network(scheme, rest)


def _schemeless(text: str) -> CameraUrl:
    if _SCHEME_NO_SLASHES.match(text):
        scheme, _, rest = text.partition(":")
        raise UrlError(
            f"has no // after {scheme}:; write it as {scheme.lower()}://{rest.lstrip('/')}"
        )
    if _LOOKS_LIKE_HOST.match(text):
        raise UrlError(f"has no scheme; write it as rtsp://{text}")
    found = _credentials_split(text)
    if found is not None and _looks_like_camera(*found[:2]):
        # "admin:pw@10.0.0.5/stream": a camera address, not a file name.
        _, hostport, tail = found
        raise UrlError(f"has no scheme; write it as rtsp://{MASK}@{hostport}{tail}")
    return CameraUrl("file", "file", path=text)


def _looks_like_camera(info: str, hostport: str) -> bool:
    """``user:password@`` or ``@address[:port]``, not a file name such as ``cam@home.mp4``."""
    if ":" in info or ":" in hostport or hostport.startswith("["):
        return True
    try:
        ipaddress.IPv4Address(hostport)
    except ValueError:
        return False
    return True


def _file_url_path(rest: str) -> str:
    # file:///abs/path or file://localhost/abs/path; the path is percent-decoded.
    if rest.startswith("localhost/"):
        rest = rest[len("localhost") :]
    return unquote(rest)


def _network(scheme: str, rest: str) -> CameraUrl:
    if _CONTROL.search(rest):
        raise UrlError("contains control characters (a line break or tab?)")
    found = _credentials_split(rest)
    if found is None:
        # No credentials: the authority ends at the first "/", "?" or "#".
        end = _authority_end(rest)
        info, hostport, tail = None, rest[:end], rest[end:]
        if "@" in hostport:
            info, _, hostport = hostport.rpartition("@")
        try:
            host, port = _host_port(hostport)
        except UrlError:
            at = rest.rfind("@")
            if at >= 0:
                # No "@" is followed by a host: the last one most likely ends the
                # credentials (a raw "/" or "#" in the password), so its host says why.
                _host_port(_hostport_after(rest, at)[0])
            raise
    else:
        info, hostport, tail = found
        host, port = _host_port(hostport)
    if any(c.isspace() for c in tail):
        raise UrlError("contains spaces after the host; percent-encode them (%20)")
    user, password = _split_userinfo(info)
    if MASK in (user, password):
        raise UrlError(MASKED_TEXT)
    url = CameraUrl("network", scheme, host, port, tail, user, password)
    url.ffmpeg_url()  # raises if FFmpeg could not use it
    return url


def _authority_end(rest: str) -> int:
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    return min(ends) if ends else len(rest)


def _credentials_split(rest: str) -> tuple[str, str, str] | None:
    """(userinfo, host[:port], tail) at the last "@" followed by a valid host, else None."""
    at = len(rest)
    while (at := rest.rfind("@", 0, at)) >= 0:
        hostport, tail = _hostport_after(rest, at)
        try:
            _host_port(hostport)
        except UrlError:
            continue
        info = rest[:at]
        if any(c in info.partition(":")[0] for c in "/?#"):
            # A user name never holds these raw; this "@" is in a path or query.
            continue
        return info, hostport, tail
    return None


def _hostport_after(rest: str, at: int) -> tuple[str, str]:
    """(host[:port], tail) following the "@" at index ``at``."""
    after = rest[at + 1 :]
    end = _authority_end(after)
    if after.startswith("["):
        close = after.find("]")
        if close >= 0:
            end = close + 1 + _authority_end(after[close + 1 :])
    return after[:end], after[end:]


def _host_port(hostport: str) -> tuple[str, int | None]:
    """Validate ``host[:port]``; raise UrlError with the reason."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise UrlError("has an IPv6 address without its closing ] (write it as [::1])")
        host, after = hostport[1:close], hostport[close + 1 :]
        try:
            ipaddress.IPv6Address(host.replace("%25", "%"))
        except ValueError:
            raise UrlError(f"[{host}] is not a valid IPv6 address") from None
        if after and not after.startswith(":"):
            raise UrlError("has characters after the IPv6 address's closing ]")
        port_text = after[1:] if after else None
    else:
        host, sep, port_text_ = hostport.partition(":")
        port_text = port_text_ if sep else None
        if "]" in hostport:
            raise UrlError("has a ] in its host without a [ (write an IPv6 address as [::1])")
        _check_host(host)
    return host, _port(port_text)


def _check_host(host: str) -> None:
    if not host:
        raise UrlError("has no host name")
    if any(c.isspace() or not c.isprintable() for c in host):
        raise UrlError("has a space or control character in its host name")
    if _IPV4ISH.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise UrlError(
                f"{host} is not a valid IPv4 address (four numbers from 0 to 255)"
            ) from None
        return
    if not host.isascii():
        try:
            host.encode("idna")
        except UnicodeError:
            raise UrlError(f"{host!r} is not a valid host name") from None
        return
    if not _HOST_CHARS.match(host) or ".." in host or host.startswith((".", "-")):
        raise UrlError(f"{host!r} is not a valid host name")


def _port(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not text.isascii() or not 1 <= int(text) <= 65535:
        raise UrlError("has an invalid port (a number from 1 to 65535)")
    return int(text)


def _split_userinfo(info: str | None) -> tuple[str | None, str | None]:
    if not info:
        return None, None
    user, sep, password = info.partition(":")
    return _decode(user), (_decode(password) if sep else None)


def _decode(text: str) -> str:
    """Percent-decode valid UTF-8 ``%XX`` sequences; otherwise the text as typed."""
    if "%" not in text:
        return text
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        return text


def _userinfo_text(text: str) -> str | None:
    match = _SCHEME.match(text)
    if match is None:
        return None
    found = _credentials_split(text[match.end() :])
    return None if found is None else found[0]
