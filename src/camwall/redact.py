"""Credential masking: the single place that hides passwords in URLs, text and log records.

Three layers, each enough on its own for the forms it knows:

- :func:`mask_url` parses a URL with :func:`camwall.urls.parse_url` and shows it masked.
- :func:`redact` masks free text by its shape: ``scheme://user:password@host`` anywhere
  (raw reserved characters, percent-encoded, a space in the password), ``password=`` /
  ``pwd=`` / ``passwd=`` values, ``Authorization:`` headers and ``Basic`` tokens. It may hide
  more than the credentials (text up to a later ``@host`` on the same line), never less.
- Every password camwall parses is registered (:func:`register_secret`), and :func:`redact`
  replaces it wherever it appears, raw, percent-encoded or inside a Basic token: this covers
  what FFmpeg, zeep or a traceback echoes back in a form no pattern foresees.

One logging filter, :class:`RedactingFilter`; :func:`install_redacting_filter` puts it on the
root handlers *and* makes every log record redacted when it is created, so handlers added
later (the wall's log panel, a library's own) never see a password either.
:func:`install_redaction` adds the same for tracebacks of uncaught exceptions.
"""

from __future__ import annotations

import base64
import logging
import re
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
#: Passwords shorter than this are masked only where their shape gives them away (a URL,
#: ``password=``): masking every "ab" in every log line would make the logs useless.
MIN_SECRET_LEN = 4
#: Most recent passwords kept for masking (cameras of one wall are far fewer).
MAX_SECRETS = 64

_SCHEME = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://")
# What ends a URL's host in free text.
_HOST_END = r"(?=$|[\s/?#:'\"<>()\[\],;!\\])"
# After an "@": a host (maybe empty, or an IPv6 address in brackets, maybe unclosed) and a
# port, in text.
_HOST_AFTER_AT = re.compile(
    r"@(?:\[[0-9A-Za-z:.%]*\]?|[^\s/?#@:'\"<>()\[\],;!\\]*)(?::\d*)?" + _HOST_END
)
_BARE_HOST = re.compile(r"^(?:\[[0-9A-Za-z:.%]*\]|[A-Za-z0-9._\-]+)(?::\d+)?$")
# Credentials printed outside URLs: key=value, key: value, "key": "value".
_KEYVALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9_])([\"']?)(password|passwd|pwd|passphrase)\1(\s*[=:]\s*)"
    r"(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^&\s,;'\"]+)"
)
_AUTH_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)([^\r\n]*)")
_BASIC_TOKEN = re.compile(r"\b(Basic|Bearer|BASIC|basic)(\s+)([A-Za-z0-9+/_\-]{6,}={0,2})")

_secrets_lock = threading.Lock()
_secrets: OrderedDict[str, None] = OrderedDict()
_secret_forms: tuple[str, ...] = ()


def register_secret(password: str, user: str | None = None, also: tuple[str, ...] = ()) -> None:
    """Remember ``password`` (and ``user:password`` as Basic token) so :func:`redact` hides it.

    ``also``: more spellings of the password (how camwall.urls encodes it).
    """
    forms = []
    if len(password) >= MIN_SECRET_LEN:
        forms += [password, quote(password, safe=""), quote(password), quote_plus(password)]
        forms += [form for form in also if len(form) >= MIN_SECRET_LEN]
    # The Basic token FFmpeg sends (and a server or a debug log may echo).
    token = base64.b64encode(f"{user or ''}:{password}".encode()).decode().rstrip("=")
    if len(token) >= 2 * MIN_SECRET_LEN:
        forms.append(token)
    global _secret_forms
    with _secrets_lock:
        changed = False
        for form in forms:
            if form in _secrets:
                _secrets.move_to_end(form)
            else:
                _secrets[form] = None
                changed = True
        while len(_secrets) > MAX_SECRETS * 4:
            _secrets.popitem(last=False)
        if changed:
            _secret_forms = tuple(sorted(_secrets, key=len, reverse=True))


def forget_secrets() -> None:
    """Drop every registered password (tests; a process switching configs)."""
    global _secret_forms
    with _secrets_lock:
        _secrets.clear()
        _secret_forms = ()


def mask_url(url: str) -> str:
    """Return ``url`` with any user name and password replaced by ``***``."""
    from camwall.errors import UrlError
    from camwall.urls import parse_url

    try:
        return parse_url(url).display()
    except UrlError:
        return redact(url)


def redact(text: str) -> str:
    """Mask every URL userinfo, ``password=`` value, auth header and known password in text."""
    if "://" in text:
        text = "\n".join(_mask_line(line) for line in text.split("\n"))
    text = mask_keyvalues(text)
    if "uthorization" in text or "UTHORIZATION" in text:
        text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _BASIC_TOKEN.sub(_mask_token, text)
    for form in _secret_forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def mask_keyvalues(text: str) -> str:
    """Mask ``password=``, ``pwd=``, ``passwd=`` (and ``"password": "…"``) values only."""
    return _KEYVALUE.sub(_mask_keyvalue, text)


def _mask_keyvalue(m: re.Match[str]) -> str:
    quote_ = m.group(1)
    value = m.group(4)
    masked = f"{value[0]}{MASK}{value[0]}" if value[0] in "'\"" else MASK
    return f"{quote_}{m.group(2)}{quote_}{m.group(3)}{masked}"


def _mask_token(m: re.Match[str]) -> str:
    token = m.group(3)
    # A token, not a word ("basic authentication"): mixed case, a digit or padding.
    looks_encoded = (
        any(c.isdigit() or c in "+/=" for c in token) or token.lower() != token != token.upper()
    )
    return f"{m.group(1)}{m.group(2)}{MASK}" if looks_encoded else m.group(0)


def _mask_line(line: str) -> str:
    regions = _url_regions(line)
    out = []
    pos = 0
    i = 0
    while i < len(regions):
        start, end = regions[i]
        masked = _mask_region(line[start:end])
        while masked == line[start:end] and i + 1 < len(regions):
            if any(c.isspace() for c in line[start:end]):
                break
            # No credentials before the next "x://", and nothing separates them: that
            # "x://" may be inside the password ("pa'ss://w"). Read both as one URL.
            i += 1
            end = regions[i][1]
            masked = _mask_region(line[start:end])
        out.append(line[pos:start])
        out.append(masked)
        pos = end
        i += 1
    out.append(line[pos:])
    return "".join(out)


def _url_regions(line: str) -> list[tuple[int, int]]:
    """(start, end) of each ``scheme://…``: up to the next URL that starts after a separator."""
    matches = [
        m for i, m in enumerate(_SCHEME.finditer(line)) if i == 0 or _is_boundary(line, m.start())
    ]
    if not matches:
        return []
    ends = [m.start() for m in matches[1:]] + [len(line)]
    return [(m.end(), end) for m, end in zip(matches, ends, strict=True)]


def _is_boundary(line: str, start: int) -> bool:
    # A "x://" inside a password ("pa:ss://w") does not start a URL of its own.
    return start == 0 or line[start - 1].isspace() or line[start - 1] in "'\"(<[,;=`{"


def _mask_region(region: str) -> str:
    """Mask the userinfo at the start of ``region`` (the text after ``scheme://``)."""
    head_end = next((i for i, c in enumerate(region) if c.isspace()), len(region))
    at = _last_credentials_at(region, head_end)
    if at < 0:
        head = region[:head_end]
        authority = re.split(r"[/?#]", head, maxsplit=1)[0]
        bare = len(authority) == len(head)
        if bare or not _BARE_HOST.match(authority):
            # The URL may go on past a space (a password "my pass"): look further.
            at = _last_credentials_at(region, len(region))
    if at < 0:
        return region
    return f"{MASK}{region[at:]}"


def _last_credentials_at(region: str, end: int) -> int:
    """Index of the last "@" before ``end`` that a host follows, or -1."""
    at = end
    while (at := region.rfind("@", 0, at)) >= 0:
        if _HOST_AFTER_AT.match(region, at):
            return at
    return -1


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place so nothing it renders carries credentials."""
    if record.args:
        try:
            record.msg = record.getMessage()
        except (TypeError, ValueError):
            record.msg = str(record.msg)
        record.args = None
    record.msg = redact(record.msg if isinstance(record.msg, str) else str(record.msg))
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """A logging filter that masks credentials in the message, its arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place so its rendered message carries no credentials."""
        redact_record(record)
        return True


_factory_lock = threading.Lock()
_installed_factory: Callable[..., logging.LogRecord] | None = None


def install_redacting_filter(logger: logging.Logger | None = None) -> RedactingFilter:
    """Redact every record from now on, and filter every handler of ``logger`` (default: root).

    Records are redacted when they are made (a log record factory), so handlers added later
    are covered too; the handler filter also catches records rebuilt with
    ``logging.makeLogRecord`` (from worker processes), which bypass the factory.
    """
    global _installed_factory
    target = logger or logging.getLogger()
    flt = RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    with _factory_lock:
        current = logging.getLogRecordFactory()
        if current is not _installed_factory:
            _installed_factory = _redacting_factory(current)
            logging.setLogRecordFactory(_installed_factory)
    return flt


def _redacting_factory(
    make: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redact_record(record)
        return record

    return factory


def install_redaction() -> None:
    """Everything a process needs: :func:`install_redacting_filter`, and uncaught exceptions
    (main thread and other threads) printed with their tracebacks redacted."""
    install_redacting_filter()
    # Only in place of Python's own hooks: a debugger's or a test runner's stay.
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _redacting_excepthook
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = _redacting_thread_excepthook


def _redacting_excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(redact(text))
    sys.stderr.flush()


def _redacting_thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(redact(f"Exception in thread {name}:\n{text}"))
    sys.stderr.flush()
