"""Credential masking: the single place that hides passwords in URLs, text and log records."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

# scheme://user:password@host or scheme://user@host, anywhere in free text. The userinfo
# stops at the last '@' before the host so passwords containing '@' are masked whole.
_URL_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^\s/?#]*)@(?=[^\s@/?#]*(?:[/?#\s]|$))"
)
# Credentials FFmpeg and friends sometimes print outside URLs.
_KEYVALUE = re.compile(r"(?i)\b(password|passwd|pwd)=([^&\s]+)")


def mask_url(url: str) -> str:
    """Return ``url`` with any user name and password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if "@" not in parts.netloc:
        return redact(url)
    host = parts.netloc.rsplit("@", 1)[1]
    return redact(urlunsplit(parts._replace(netloc=f"{MASK}@{host}")))


def redact(text: str) -> str:
    """Mask every URL userinfo and ``password=`` value in free text."""
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    return _KEYVALUE.sub(lambda m: f"{m.group(1)}={MASK}", text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks credentials in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place so its rendered message carries no credentials."""
        if record.args:
            try:
                record.msg = record.getMessage()
            except (TypeError, ValueError):
                record.msg = str(record.msg)
            record.args = None
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        else:
            record.msg = redact(str(record.msg))
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_redacting_filter(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach a :class:`RedactingFilter` to every handler of ``logger`` (default: root)."""
    target = logger or logging.getLogger()
    flt = RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
