"""camwall's exceptions: one tree, each error says what went wrong and what to do about it.

Every exception camwall raises on purpose derives from :class:`CamwallError`. Where the
meaning matches a built-in, the class also derives from it, so callers may catch either
(``except TimeoutError`` catches :class:`SourceTimeoutError`)::

    CamwallError
    ├── MissingExtraError (ImportError)      an optional extra is not installed; says what to pip install
    ├── ConfigError (ValueError)              a config file or value is wrong; names the file, line and key path
    │   └── ConfigConflictError                     the file changed on disk since it was loaded; reload first
    ├── RingError                             the shared-memory frame ring
    │   ├── RingNotFoundError (FileNotFoundError)   no segment of that name (owner gone, or a typo)
    │   ├── RingFormatError (ValueError)            the segment is not a camwall ring of this version
    │   ├── RingClosedError                         the ring was used after close()
    │   ├── RingOwnershipError (PermissionError)    an owner-only operation on an attached ring
    │   └── FrameTooLargeError (ValueError)         a frame exceeds the slot capacity; re-create the ring
    ├── SourceError                           opening or reading a camera, file or stream
    │   ├── InvalidSourceError (ValueError)         the URL/path/device cannot name a source
    │   │   └── UrlError                            a malformed URL: empty, bad scheme/host/port, masked
    │   ├── SourceTimeoutError (TimeoutError)       host unreachable, or no data within the timeout
    │   ├── SourceRefusedError (ConnectionRefusedError)  nothing listens on that host and port
    │   ├── SourceAuthError (PermissionError)       the camera rejected the credentials (401/403)
    │   ├── StreamNotFoundError (FileNotFoundError) the path does not exist on the server (404), or no such file
    │   ├── UnsupportedStreamError                  not a stream camwall can decode (no video, bad data)
    │   ├── SourceServerError (ConnectionError)     the camera answered with a server error (5xx); retry later
    │   └── StreamLostError (ConnectionError)       a stream that was playing stopped delivering frames
    ├── CaptureError                          a capture worker or its supervisor
    │   └── WorkerDiedError                         a worker process exited unexpectedly
    ├── RuntimeClosedError (RuntimeError)     a command reached the runtime after it was closed
    ├── DetectError                           object / motion detection
    │   ├── ModelLoadError                          a model file is missing, unreadable or corrupt
    │   ├── ModelLayoutError (ValueError)           a model's inputs/outputs match no supported layout
    │   └── ModelFetchError                         a model cannot be fetched or added (unknown name, unpinned)
    │       ├── ModelDownloadError (ConnectionError)  server unreachable, download cut short or too slow
    │       └── ModelChecksumError (ValueError)       the downloaded file is not the pinned one
    ├── ControlError                          camera control (ONVIF focus, zoom, PTZ)
    │   ├── ControlAuthError (PermissionError)      the device rejected the credentials
    │   ├── ControlTimeoutError (TimeoutError)      the device did not answer in time
    │   ├── ControlConnectionError (ConnectionError)  the device cannot be reached (refused, unreachable, dropped)
    │   └── ControlUnsupportedError                 the camera lacks this capability
    └── RecordError                           recording and snapshots
        └── StorageError (OSError)                  the target directory is unwritable or the disk is full

Messages never contain credentials: URLs in them are masked with :func:`camwall.redact.mask_url`.
"""

from __future__ import annotations


class CamwallError(Exception):
    """Base class of every error camwall raises on purpose."""


class MissingExtraError(CamwallError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the '{module}' package, which is not installed; "
            f'install it with: pip install "camwall[{extra}]"'
        )
        self.extra = extra


class ConfigError(CamwallError, ValueError):
    """A configuration file or value is invalid.

    ``path``, ``line`` (1-based) and ``key`` (``camera[0].url``) say where; a file with several
    problems lists each in ``problems`` as ``(line, key, message)``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        line: int | None = None,
        problems: tuple[tuple[int | None, str, str], ...] = (),
    ) -> None:
        file = f"{path}:{line}" if path and line else (path or (f"line {line}" if line else None))
        where = ": ".join(p for p in (file, key) if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.key = key
        self.line = line
        self.problems = problems


class ConfigConflictError(ConfigError):
    """The config file changed on disk since it was loaded; saving would lose those edits."""


class RingError(CamwallError):
    """Something is wrong with a shared-memory frame ring."""


class RingNotFoundError(RingError, FileNotFoundError):
    """No frame ring segment of that name exists."""


class RingFormatError(RingError, ValueError):
    """The segment exists but is not a frame ring this version of camwall understands."""


class RingClosedError(RingError):
    """The ring was used after it was closed."""


class RingOwnershipError(RingError, PermissionError):
    """An operation reserved to the ring's owner was attempted through an attached ring."""


class FrameTooLargeError(RingError, ValueError):
    """A frame does not fit into the ring's slots; the owner must re-create the ring."""

    def __init__(self, needed: int, capacity: int, shape: tuple[int, ...]) -> None:
        super().__init__(
            f"frame of shape {shape} needs {needed} bytes but ring slots hold {capacity}; "
            "re-create the ring with a larger capacity"
        )
        self.needed = needed
        self.capacity = capacity


class SourceError(CamwallError):
    """A camera, stream or file could not be opened or read."""


class InvalidSourceError(SourceError, ValueError):
    """The given URL, path or device index cannot name a source."""


class UrlError(InvalidSourceError):
    """A URL that cannot be parsed; ``reason`` says why, ``shown`` is the masked URL."""

    def __init__(self, reason: str, *, shown: str = "") -> None:
        super().__init__(f"{shown}: {reason}" if shown else reason)
        self.reason = reason
        self.shown = shown


class SourceTimeoutError(SourceError, TimeoutError):
    """The source did not answer or deliver data in time (host down or unreachable)."""


class SourceRefusedError(SourceError, ConnectionRefusedError):
    """The host refused the connection: nothing listens on that port."""


class SourceAuthError(SourceError, PermissionError):
    """The camera rejected the credentials (HTTP/RTSP 401 or 403)."""


class StreamNotFoundError(SourceError, FileNotFoundError):
    """The stream path does not exist on the server (404), or the file does not exist."""


class UnsupportedStreamError(SourceError):
    """The source has no decodable video (wrong port, audio only, garbage data)."""


class SourceServerError(SourceError, ConnectionError):
    """The camera or server answered with an internal error (HTTP/RTSP 5xx); retrying may help."""


class StreamLostError(SourceError, ConnectionError):
    """A stream that was delivering frames stopped (closed, stalled, or only corrupt data)."""


class CaptureError(CamwallError):
    """A capture worker or the supervisor failed."""


class WorkerDiedError(CaptureError):
    """A capture worker process exited unexpectedly."""


class RuntimeClosedError(CamwallError, RuntimeError):
    """A command reached the runtime after :meth:`~camwall.runtime.Runtime.close`."""


class DetectError(CamwallError):
    """Object or motion detection failed."""


class ModelLoadError(DetectError):
    """A detection model file is missing, unreadable or corrupt."""


class ModelLayoutError(DetectError, ValueError):
    """A detection model's inputs or outputs match no supported layout."""


class ModelFetchError(DetectError):
    """A model cannot be fetched or added: unknown name, unpinned hash, unusable file."""


class ModelDownloadError(ModelFetchError, ConnectionError):
    """A model download failed: server unreachable, answer not OK, cut short, or too slow."""


class ModelChecksumError(ModelFetchError, ValueError):
    """A downloaded model's sha256 differs from the pinned one; the file was discarded."""


class ControlError(CamwallError):
    """A camera control request (focus, zoom, PTZ) failed."""


class ControlAuthError(ControlError, PermissionError):
    """The camera rejected the control credentials."""


class ControlTimeoutError(ControlError, TimeoutError):
    """The camera did not answer a control request in time."""


class ControlConnectionError(ControlError, ConnectionError):
    """The camera cannot be reached for control: connection refused, unreachable or dropped."""


class ControlUnsupportedError(ControlError):
    """The camera does not offer the requested control."""


class RecordError(CamwallError):
    """Recording or taking a snapshot failed."""


class StorageError(RecordError, OSError):
    """The recording directory is unwritable or the disk is full."""
