"""Plain data of camera control: what a camera can do, where it is, how it is reached.

Everything here is a small frozen dataclass without I/O, shared by the ONVIF backend, the
control service and the UI (which enables a button when its :class:`Feature` is available and
shows :attr:`Feature.reason` as the tooltip when it is not).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, fields

from camwall.redact import mask_url
from camwall.urls import parse_url


@dataclass(frozen=True)
class Feature:
    """One capability: available, or unavailable with a reason a person can act on."""

    available: bool
    reason: str = ""

    @classmethod
    def ok(cls) -> Feature:
        """An available feature."""
        return cls(True)

    @classmethod
    def missing(cls, reason: str) -> Feature:
        """An unavailable feature; ``reason`` completes "disabled because …"."""
        return cls(False, reason)

    @classmethod
    def when(cls, present: bool, reason: str) -> Feature:
        """Available if ``present``, else unavailable because ``reason``."""
        return cls(True) if present else cls(False, reason)

    def __bool__(self) -> bool:
        return self.available


@dataclass(frozen=True)
class Range:
    """A closed interval of device units, as the camera reports it."""

    min: float
    max: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min) and math.isfinite(self.max)) or self.min > self.max:
            raise ValueError(f"invalid range [{self.min}, {self.max}]")

    def contains(self, value: float) -> bool:
        """True if ``value`` lies inside the range."""
        return self.min <= value <= self.max

    def clamp(self, value: float) -> float:
        """``value`` limited to the range."""
        return min(self.max, max(self.min, value))

    def scale_signed(self, fraction: float) -> float:
        """Map a signed fraction in [-1, 1] onto this range's negative and positive extent.

        Velocity ranges are usually symmetric around 0 ([-1, 1] in ONVIF's generic spaces);
        a fraction of 0.5 becomes half the positive maximum. Raises ValueError when the range
        has no extent in the requested direction.
        """
        if fraction == 0.0:
            return 0.0
        extent = self.max if fraction > 0 else -self.min
        if extent <= 0:
            direction = "positive" if fraction > 0 else "negative"
            raise ValueError(f"the camera's range {self} has no {direction} speeds")
        return fraction * extent

    def __str__(self) -> str:
        return f"[{self.min:g}, {self.max:g}]"


@dataclass(frozen=True)
class Capabilities:
    """Which controls a camera offers; each missing one says why.

    Positions and distances are in the camera's own units, within the matching range.
    Speeds given to camwall are fractions in [-1, 1] (0..1 for absolute moves) that the
    backend scales onto the camera's speed ranges.
    """

    focus_continuous: Feature
    focus_absolute: Feature
    focus_relative: Feature
    auto_focus: Feature
    one_push_focus: Feature
    focus_status: Feature
    zoom_continuous: Feature
    zoom_absolute: Feature
    zoom_status: Feature
    pan_tilt_continuous: Feature
    #: Turn so that a point of the picture comes to its centre (ONVIF RelativeMove in the
    #: field-of-view translation space): click-to-centre.
    pan_tilt_centre: Feature
    presets: Feature
    focus_position_range: Range | None = None
    focus_distance_range: Range | None = None
    zoom_position_range: Range | None = None

    @classmethod
    def none(cls, reason: str) -> Capabilities:
        """Every feature unavailable for the same reason (not connected, login failed, …)."""
        missing = Feature.missing(reason)
        return cls(
            focus_continuous=missing,
            focus_absolute=missing,
            focus_relative=missing,
            auto_focus=missing,
            one_push_focus=missing,
            focus_status=missing,
            zoom_continuous=missing,
            zoom_absolute=missing,
            zoom_status=missing,
            pan_tilt_continuous=missing,
            pan_tilt_centre=missing,
            presets=missing,
        )

    def features(self) -> dict[str, Feature]:
        """Every feature by field name, in declaration order."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), Feature)
        }

    def unavailable(self) -> dict[str, str]:
        """Reasons of the unavailable features, by field name."""
        return {name: f.reason for name, f in self.features().items() if not f.available}


class ControlState(enum.Enum):
    """Where a camera's control connection stands; every state but the first two is final
    until the owner calls ``connect()`` again (or a later request tries again)."""

    CONNECTING = "connecting"
    #: An attempt failed in a way retrying may fix (timeout, refused, garbled reply); the
    #: next attempt follows after a backoff delay.
    RETRYING = "retrying"
    CONNECTED = "connected"
    #: Login refused, or every attempt failed: the reason is in the capabilities.
    FAILED = "failed"
    #: The camera has no ONVIF service camwall can use (e.g. no Media service).
    UNSUPPORTED = "unsupported"
    CLOSED = "closed"


class Axis(enum.Enum):
    """A motor a continuous move can drive."""

    PAN = "pan"
    TILT = "tilt"
    ZOOM = "zoom"
    FOCUS = "focus"


@dataclass(frozen=True)
class Velocity:
    """A continuous move: each axis a signed fraction of the camera's top speed, in [-1, 1].

    Positive pan turns right, positive tilt up, positive zoom in (tele), positive focus far.
    """

    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    focus: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not -1.0 <= value <= 1.0:
                raise ValueError(f"{f.name} speed must be a number in [-1, 1], got {value!r}")

    @property
    def axes(self) -> frozenset[Axis]:
        """The axes this move drives (non-zero speed)."""
        return frozenset(Axis(f.name) for f in fields(self) if getattr(self, f.name) != 0.0)

    @property
    def uses_ptz(self) -> bool:
        """True if pan, tilt or zoom moves (the PTZ service)."""
        return bool(self.axes & {Axis.PAN, Axis.TILT, Axis.ZOOM})


class MoveState(enum.Enum):
    """Whether a motor is moving, as the camera reports it."""

    IDLE = "IDLE"
    MOVING = "MOVING"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: object) -> MoveState:
        """The state named by a camera's MoveStatus text; UNKNOWN for anything else."""
        text = str(value).strip().upper() if value is not None else ""
        return cls.__members__.get(text, cls.UNKNOWN)


class StopMethod(enum.Enum):
    """How a move was stopped (some cameras reject the ONVIF Stop operation)."""

    STOP = "Stop"
    ZERO_VELOCITY = "zero-velocity move"
    NOT_NEEDED = "nothing was moving"


@dataclass(frozen=True)
class ControlStatus:
    """Where the motors are and whether they move; ``None`` where the camera does not say."""

    focus_position: float | None = None
    focus_move: MoveState = MoveState.UNKNOWN
    zoom_position: float | None = None
    zoom_move: MoveState = MoveState.UNKNOWN
    pan: float | None = None
    tilt: float | None = None
    pan_tilt_move: MoveState = MoveState.UNKNOWN
    error: str | None = None

    @property
    def moving(self) -> bool:
        """True if any motor reports MOVING."""
        return MoveState.MOVING in (self.focus_move, self.zoom_move, self.pan_tilt_move)


@dataclass(frozen=True)
class Preset:
    """A stored PTZ position."""

    token: str
    name: str
    pan: float | None = None
    tilt: float | None = None
    zoom: float | None = None


@dataclass(frozen=True)
class DeviceInfo:
    """What the camera says it is."""

    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str


class StreamRole(enum.Enum):
    """A profile's place among the camera's streams, by resolution."""

    MAIN = "main"
    SUB = "sub"
    OTHER = "other"


@dataclass(frozen=True)
class StreamProfile:
    """One media profile of a camera and its RTSP URL (as the camera gives it, no credentials)."""

    token: str
    name: str
    role: StreamRole
    uri: str
    encoding: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    bitrate_kbps: int | None = None

    def uri_with_credentials(self, user: str, password: str) -> str:
        """The RTSP URL with ``user:password@`` inserted (percent-encoded); never log it.

        Raises :class:`~camwall.errors.UrlError` if the camera answered a malformed URI.
        """
        bare = parse_url(self.uri).without_credentials()
        return bare.with_credentials(user, password or None).ffmpeg_url()

    def __str__(self) -> str:
        size = f"{self.width}x{self.height}" if self.width and self.height else "?"
        return f"{self.role.value} {self.name!r} {self.encoding or '?'} {size} {mask_url(self.uri)}"


@dataclass(frozen=True)
class OnvifSettings:
    """How to reach one camera's ONVIF services, and how patient to be with it.

    ``move_timeout_s`` is the ONVIF ``Timeout`` sent with every continuous move: the camera
    stops by itself that long after the last move it received. ``resend_interval_s`` is how
    often a held move is re-sent; it must be well under the move timeout.
    """

    host: str
    port: int = 80
    user: str = ""
    password: str = field(default="", repr=False)
    call_timeout_s: float = 5.0
    connect_timeout_s: float = 20.0
    move_timeout_s: float = 1.0
    resend_interval_s: float = 0.4

    def __post_init__(self) -> None:
        if not self.host or any(c in self.host for c in "/@ "):
            raise ValueError(f"invalid camera host {self.host!r}: give a host name or address")
        if not 0 < self.port < 65536:
            raise ValueError(f"invalid port {self.port}: must be 1..65535")
        for name in ("call_timeout_s", "connect_timeout_s", "move_timeout_s", "resend_interval_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.resend_interval_s >= self.move_timeout_s:
            raise ValueError(
                f"resend_interval_s ({self.resend_interval_s:g}) must be shorter than "
                f"move_timeout_s ({self.move_timeout_s:g}), or a held move would stutter"
            )

    @property
    def label(self) -> str:
        """``host:port``, for messages (never the credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"
