"""Turn what onvif-zeep-async, zeep, lxml and aiohttp raise into camwall's control errors.

zeep parses replies leniently (onvif-zeep-async turns ``strict`` off, so lxml "recovers"):
a non-conforming reply then does not fail as a zeep error but as whatever the half-parsed
tree makes the library trip over — ``ValueError: Invalid tag name 'tt:Name'`` for a
namespace prefix the camera never declared, ``AttributeError`` on a truncated reply,
``TypeError`` on a number that is a word. :func:`reply_errors` lists everything a reply can
raise this way; every call into the library catches exactly that tuple and maps it with
:func:`map_error`, so only :class:`~camwall.errors.ControlError` leaves this package.

Also the one place that imports the ONVIF library (lazily: it is an optional extra, and
importing it runs ``logging.basicConfig`` which would re-configure the application's logging;
see :func:`load_onvif`).
"""

from __future__ import annotations

import importlib
import logging
import sys
from types import ModuleType

from camwall.errors import (
    ControlAuthError,
    ControlConnectionError,
    ControlError,
    ControlTimeoutError,
    ControlUnsupportedError,
    MissingExtraError,
)
from camwall.redact import redact

log = logging.getLogger(__name__)

# ONVIF fault subcodes (namespace http://www.onvif.org/ver10/error) by meaning.
_AUTH_SUBCODES = {"NotAuthorized", "FailedAuthentication", "InvalidSecurity"}
_UNSUPPORTED_SUBCODES = {
    "ActionNotSupported",
    "NoImagingForSource",
    "NoPTZProfile",
    "NoSuchSpace",
    "NoStatus",
    "NotSupported",
}


def load_onvif() -> ModuleType:
    """Import ``onvif.client`` (onvif-zeep-async) without it touching the root logger."""
    loaded = sys.modules.get("onvif.client")
    if loaded is not None:
        return loaded
    root = logging.getLogger()
    # onvif.client calls logging.basicConfig(level=INFO) at import, which installs a stderr
    # handler on an application that has not configured logging yet. A handler present at
    # that moment makes basicConfig a no-op; it is removed again right after.
    guard = logging.NullHandler() if not root.handlers else None
    if guard is not None:
        root.addHandler(guard)
    try:
        module = importlib.import_module("onvif.client")
    except ImportError as err:
        raise MissingExtraError("ONVIF camera control", "onvif", "onvif-zeep-async") from err
    finally:
        if guard is not None:
            root.removeHandler(guard)
    return module


def reply_errors(onvif: ModuleType) -> tuple[type[BaseException], ...]:
    """What a call into the ONVIF library can raise on a bad network or a bad reply."""
    import aiohttp
    import zeep.exceptions
    from lxml import etree

    return (
        onvif.ONVIFError,
        zeep.exceptions.Error,
        aiohttp.ClientError,
        OSError,  # includes TimeoutError and ConnectionError
        etree.LxmlError,
        # What lenient parsing of a malformed reply surfaces as (see the module docstring).
        ValueError,
        TypeError,
        AttributeError,
        LookupError,
    )


def _subcodes(fault: BaseException) -> list[str]:
    """Local names of a SOAP 1.2 fault's subcodes (``ter:NotAuthorized`` → NotAuthorized)."""
    out = []
    for code in getattr(fault, "subcodes", None) or []:
        name = getattr(code, "localname", None) or str(code)
        out.append(str(name).rsplit(":", 1)[-1].rsplit("}", 1)[-1])
    return out


def _scrub(message: str, secret: str) -> str:
    """Mask URL credentials, and the password itself wherever it appears."""
    message = redact(message)
    if secret:
        message = message.replace(secret, "***")
    return message


def map_error(
    err: BaseException, *, where: str, what: str, timeout_s: float, user: str, secret: str
) -> ControlError:
    """A camwall ControlError saying what ``err`` means for a person; never the password.

    ``where`` names the camera (host:port), ``what`` the request (an ONVIF operation name
    or a description), ``secret`` is the password to keep out of the message.
    """
    mapped = _classify(err, where=where, what=what, timeout_s=timeout_s, user=user)
    return type(mapped)(_scrub(str(mapped), secret))


def _classify(
    err: BaseException, *, where: str, what: str, timeout_s: float, user: str
) -> ControlError:
    import aiohttp
    import zeep.exceptions
    from lxml import etree

    onvif_exc = sys.modules.get("onvif.exceptions")
    if isinstance(err, ControlError):
        return err
    if isinstance(err, TimeoutError) or (
        onvif_exc is not None and isinstance(err, onvif_exc.ONVIFTimeoutError)
    ):
        return ControlTimeoutError(
            f"{where} did not answer {what} within {timeout_s:g} s; "
            "check that the camera is on and reachable"
        )
    auth_hint = (
        f"{where} rejected the login (user {user!r}) for {what}; check user name and "
        "password, and that this user may control the camera"
    )
    if onvif_exc is not None and isinstance(err, onvif_exc.ONVIFAuthError):
        return ControlAuthError(auth_hint)
    if isinstance(err, zeep.exceptions.Fault):
        subcodes = _subcodes(err)
        reason = (err.message or "no reason given").strip()
        if reason == "Unknown fault occured" and not subcodes:
            # zeep's words for a non-200 reply that holds no SOAP fault: an error page.
            return ControlError(
                f"{where} answered {what} with an HTTP error page instead of a SOAP reply "
                "(an internal error of the camera's web server; try again later or "
                "restart the camera)"
            )
        detail = f"{reason} ({'/'.join(subcodes)})" if subcodes else reason
        if _AUTH_SUBCODES & set(subcodes) or "not authorized" in reason.lower():
            return ControlAuthError(auth_hint)
        if _UNSUPPORTED_SUBCODES & set(subcodes):
            return ControlUnsupportedError(f"{where} does not support {what}: {detail}")
        return ControlError(f"{where} refused {what}: {detail}")
    if isinstance(err, zeep.exceptions.TransportError):
        status = int(getattr(err, "status_code", 0) or 0)
        if status in (401, 403):
            return ControlAuthError(auth_hint)
        if status == 404:
            return ControlUnsupportedError(f"{where} has no service for {what} (HTTP 404)")
        return ControlError(f"{where} answered {what} with HTTP {status}")
    if isinstance(err, zeep.exceptions.Error):
        return ControlError(f"{where} sent an answer to {what} that is not valid ONVIF: {err}")
    if isinstance(err, etree.LxmlError | ValueError | TypeError | AttributeError | LookupError):
        return ControlError(
            f"{where} sent a reply to {what} that camwall cannot read ({_reply_fault(err)}); "
            "its ONVIF implementation does not conform — a firmware update may fix it"
        )
    if isinstance(err, aiohttp.ClientConnectorError):
        os_error = err.os_error
        if isinstance(os_error, ConnectionRefusedError):
            why = "connection refused (is the ONVIF port right? nothing listens on it)"
        else:
            why = os_error.strerror or str(os_error)
        return ControlConnectionError(f"cannot connect to {where} for {what}: {why}")
    if isinstance(err, aiohttp.ClientError | ConnectionError):
        return ControlConnectionError(f"lost the connection to {where} during {what}: {err}")
    if onvif_exc is not None and isinstance(err, onvif_exc.ONVIFError):
        # safe_func wraps the real error; classify that when there is one.
        cause = err.__cause__ or err.__context__
        if cause is not None and cause is not err:
            return _classify(cause, where=where, what=what, timeout_s=timeout_s, user=user)
        return ControlError(f"{where}: {what} failed: {err}")
    if isinstance(err, OSError):
        return ControlConnectionError(f"cannot talk to {where} for {what}: {err}")
    return ControlError(f"{where}: {what} failed: {type(err).__name__}: {err}")


def _reply_fault(err: BaseException) -> str:
    """What is wrong with a reply, from the error lenient parsing ran into."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    if isinstance(err, ValueError) and text.startswith("Invalid tag name") and ":" in text:
        return f"an XML namespace prefix is used but never declared: {text}"
    if isinstance(err, AttributeError | TypeError | LookupError):
        return f"an element is missing, truncated or of the wrong type: {text}"
    return text
