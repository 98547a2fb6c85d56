"""CameraControl: the asynchronous interface every camera-control backend implements.

Methods are coroutines that run on the control service's event loop (never on the UI
thread); each one bounds its own network calls with a timeout and raises only
:class:`camwall.errors.ControlError` subclasses. A method whose feature the camera lacks
raises :class:`camwall.errors.ControlUnsupportedError` carrying the feature's reason.
"""

from __future__ import annotations

import abc

from camwall.control.model import (
    Axis,
    Capabilities,
    ControlStatus,
    DeviceInfo,
    Feature,
    Preset,
    StopMethod,
    StreamProfile,
    Velocity,
)
from camwall.errors import ControlUnsupportedError


class CameraControl(abc.ABC):
    """Focus, zoom, pan/tilt and presets of one camera."""

    @property
    @abc.abstractmethod
    def label(self) -> str:
        """A name for messages: host and port, never credentials."""

    @property
    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        """What the camera offers; all unavailable until :meth:`connect` succeeded."""

    @abc.abstractmethod
    async def connect(self) -> Capabilities:
        """Log in, find the camera's services and probe what it can do."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release network resources; the object may connect again afterwards."""

    @abc.abstractmethod
    async def device_info(self) -> DeviceInfo:
        """Manufacturer, model, firmware, serial number."""

    @abc.abstractmethod
    async def stream_profiles(self) -> list[StreamProfile]:
        """The camera's media profiles with their RTSP URLs, main stream first."""

    @abc.abstractmethod
    async def continuous_move(self, velocity: Velocity, timeout_s: float) -> None:
        """Send one continuous move that the camera ends by itself after ``timeout_s``.

        The protocol's move timeout is used wherever it exists (ONVIF PTZ); callers that hold
        a move re-send it well within ``timeout_s`` (see :mod:`camwall.control.hold`).
        """

    @abc.abstractmethod
    async def stop(self, axes: frozenset[Axis]) -> StopMethod:
        """Stop the given axes, falling back to a zero-velocity move if Stop is refused."""

    @abc.abstractmethod
    async def focus_absolute(self, position: float, speed: float | None = None) -> None:
        """Move focus to ``position`` (camera units, see capabilities.focus_position_range)."""

    @abc.abstractmethod
    async def focus_relative(self, distance: float, speed: float | None = None) -> None:
        """Move focus by ``distance`` (camera units; negative is nearer)."""

    @abc.abstractmethod
    async def get_auto_focus(self) -> bool:
        """True if the camera currently focuses automatically."""

    @abc.abstractmethod
    async def set_auto_focus(self, enabled: bool) -> None:
        """Switch auto-focus on or off."""

    @abc.abstractmethod
    async def one_push_focus(self) -> None:
        """Focus once automatically, then keep that focus (manual mode afterwards)."""

    @abc.abstractmethod
    async def zoom_absolute(self, position: float, speed: float | None = None) -> None:
        """Move zoom to ``position`` (camera units, see capabilities.zoom_position_range)."""

    @abc.abstractmethod
    async def centre_on(self, x: float, y: float, speed: float | None = None) -> None:
        """Turn so that picture point (x, y) comes to the centre.

        ``x`` and ``y`` run from -1 to 1 across the picture as it is now, from its centre:
        right and up are positive (ONVIF's field-of-view translation space).
        """

    @abc.abstractmethod
    async def presets(self) -> list[Preset]:
        """The stored PTZ presets."""

    @abc.abstractmethod
    async def goto_preset(self, token: str, speed: float | None = None) -> None:
        """Move to a stored preset."""

    @abc.abstractmethod
    async def set_preset(self, name: str, token: str | None = None) -> str:
        """Store the current position as a preset (new, or overwriting ``token``); its token."""

    @abc.abstractmethod
    async def status(self) -> ControlStatus:
        """Current focus/zoom/pan/tilt positions and whether they move."""

    def require(self, feature: str) -> None:
        """Raise ControlUnsupportedError unless capability ``feature`` is available."""
        value = getattr(self.capabilities, feature, None)
        if not isinstance(value, Feature):
            raise AttributeError(f"unknown camera feature {feature!r}")
        if not value.available:
            name = feature.replace("_", " ")
            raise ControlUnsupportedError(f"{self.label}: {name} is unavailable: {value.reason}")
