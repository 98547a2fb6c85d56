"""Zoom, pan/tilt and presets of one media profile over the ONVIF PTZ service."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from camwall.control.model import Axis, Preset, StopMethod, Velocity
from camwall.control.onvif.focus import fraction
from camwall.control.onvif.probe import Call, PtzSetup, as_float, attr
from camwall.control.stopping import stop_with_fallback

log = logging.getLogger(__name__)


class OnvifPtz:
    """The PTZ motors of one camera; capability checks are the caller's."""

    def __init__(
        self, label: str, call: Call, service: Any, setup: PtzSetup, move_timeout_s: float
    ) -> None:
        self.label = label
        self.setup = setup
        self._call = call
        self._service = service
        self._move_timeout_s = move_timeout_s
        self._stop_refused = False

    def _req(self, **extra: Any) -> dict[str, Any]:
        return {"ProfileToken": self.setup.profile_token, **extra}

    def timeout(self, seconds: float) -> dt.timedelta:
        """The ONVIF move Timeout, clamped to the range the camera accepts."""
        limits = self.setup.timeout_range
        if limits is not None and not limits.contains(seconds):
            log.debug("%s: move timeout %.2f s clamped to %s", self.label, seconds, limits)
            seconds = limits.clamp(seconds)
        return dt.timedelta(seconds=seconds)

    def velocity(self, velocity: Velocity) -> dict[str, Any]:
        """The PTZSpeed of a move, scaled to the camera's velocity spaces; {} if no PTZ axis."""
        out: dict[str, Any] = {}
        p = self.setup
        if velocity.pan or velocity.tilt:
            assert p.pan_velocity is not None and p.tilt_velocity is not None
            out["PanTilt"] = {
                "x": p.pan_velocity.scale_signed(velocity.pan),
                "y": p.tilt_velocity.scale_signed(velocity.tilt),
            }
        if velocity.zoom:
            assert p.zoom_velocity is not None
            out["Zoom"] = {"x": p.zoom_velocity.scale_signed(velocity.zoom)}
        return out

    async def continuous(self, speed: dict[str, Any], timeout_s: float) -> None:
        """ContinuousMove, always with an ONVIF Timeout: the camera ends it by itself."""
        await self._call(
            self._service,
            "ContinuousMove",
            self._req(Velocity=speed, Timeout=self.timeout(timeout_s)),
        )

    async def stop(self, axes: frozenset[Axis]) -> StopMethod:
        """Stop, naming only axes the camera has; a zero-velocity move where Stop is refused."""
        pan_tilt = bool(axes & {Axis.PAN, Axis.TILT}) and self.setup.pan_tilt
        zoom = Axis.ZOOM in axes and self.setup.zoom
        if not (pan_tilt or zoom):
            return StopMethod.NOT_NEEDED

        async def stop() -> None:
            await self._call(self._service, "Stop", self._req(PanTilt=pan_tilt, Zoom=zoom))

        async def zero() -> None:
            speed: dict[str, Any] = {}
            if pan_tilt:
                speed["PanTilt"] = {"x": 0.0, "y": 0.0}
            if zoom:
                speed["Zoom"] = {"x": 0.0}
            await self.continuous(speed, self._move_timeout_s)

        note = f"; the camera ends the move by itself within {self._move_timeout_s:g} s"
        self._stop_refused = await stop_with_fallback(
            self.label,
            "pan/tilt/zoom",
            stop,
            zero,
            refused_before=self._stop_refused,
            self_stop_note=note,
        )
        return StopMethod.ZERO_VELOCITY if self._stop_refused else StopMethod.STOP

    async def zoom_absolute(self, position: float, speed: float | None) -> None:
        """AbsoluteMove of the zoom axis to ``position`` (camera units)."""
        limits = self.setup.zoom_position
        assert limits is not None, "checked by the zoom_absolute capability"
        if not limits.contains(position):
            raise ValueError(f"zoom position {position:g} is outside the camera's range {limits}")
        params = self._req(Position={"Zoom": {"x": position}})
        if speed is not None:
            params["Speed"] = {"Zoom": {"x": fraction(speed)}}
        await self._call(self._service, "AbsoluteMove", params)

    async def centre_on(self, x: float, y: float, speed: float | None) -> None:
        """RelativeMove by picture point (x, y) in the field-of-view space: it becomes the centre.

        ``x``/``y`` are in [-1, 1] from the picture's centre, right and up positive; they
        are scaled onto the ranges the camera gives its field-of-view space.
        """
        p = self.setup
        assert p.fov_space is not None, "checked by the pan_tilt_centre capability"
        assert p.fov_pan is not None and p.fov_tilt is not None
        for name, value in (("x", x), ("y", y)):
            if not (isinstance(value, int | float) and -1.0 <= value <= 1.0):
                raise ValueError(f"picture point {name} must be a number in [-1, 1], got {value!r}")
        params = self._req(
            Translation={
                "PanTilt": {
                    "x": p.fov_pan.scale_signed(x),
                    "y": p.fov_tilt.scale_signed(y),
                    "space": p.fov_space,
                }
            }
        )
        if speed is not None:
            s = fraction(speed)
            params["Speed"] = {"PanTilt": {"x": s, "y": s}}
        await self._call(self._service, "RelativeMove", params)

    async def presets(self) -> list[Preset]:
        """GetPresets."""
        answer = await self._call(self._service, "GetPresets", self._req())
        return [
            Preset(
                token=str(attr(p, "token")),
                name=str(attr(p, "Name") or attr(p, "token")),
                pan=as_float(attr(p, "PTZPosition", "PanTilt", "x")),
                tilt=as_float(attr(p, "PTZPosition", "PanTilt", "y")),
                zoom=as_float(attr(p, "PTZPosition", "Zoom", "x")),
            )
            for p in answer or []
        ]

    async def goto_preset(self, token: str, speed: float | None) -> None:
        """GotoPreset."""
        params = self._req(PresetToken=token)
        if speed is not None:
            s = fraction(speed)
            params["Speed"] = {"Zoom": {"x": s}}
            if self.setup.pan_tilt:
                params["Speed"]["PanTilt"] = {"x": s, "y": s}
        await self._call(self._service, "GotoPreset", params)

    async def set_preset(self, name: str, token: str | None) -> str:
        """SetPreset: a new preset, or overwrite ``token``; the camera's token for it."""
        if not name.strip():
            raise ValueError("a preset needs a name")
        params = self._req(PresetName=name)
        if token is not None:
            params["PresetToken"] = token
        return str(await self._call(self._service, "SetPreset", params))

    async def status(self) -> Any:
        """PTZ GetStatus (the raw answer)."""
        return await self._call(self._service, "GetStatus", self._req())
