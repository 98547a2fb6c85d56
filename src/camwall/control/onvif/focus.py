"""Focus of one video source over the ONVIF Imaging service (Move, Stop, focus mode)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from camwall.control.model import MoveState, StopMethod
from camwall.control.onvif.probe import Call, FocusSetup, as_float, attr
from camwall.control.stopping import stop_with_fallback

log = logging.getLogger(__name__)

ONE_PUSH_MAX_S = 8.0  # longest a one-push auto-focus may take before focus is fixed again


def fraction(speed: float) -> float:
    """A speed fraction in (0, 1], or ValueError."""
    if not 0.0 < speed <= 1.0:
        raise ValueError(f"speed must be in (0, 1], got {speed!r}")
    return float(speed)


class OnvifFocus:
    """The focus motor and focus mode of one camera; capability checks are the caller's."""

    def __init__(
        self, label: str, call: Call, service: Any, video_source: str, setup: FocusSetup
    ) -> None:
        self.label = label
        self.setup = setup
        self._call = call
        self._service = service
        self._source = video_source
        self._stop_refused = False

    def _req(self, **extra: Any) -> dict[str, Any]:
        return {"VideoSourceToken": self._source, **extra}

    async def _move(self, focus: dict[str, Any]) -> None:
        await self._call(self._service, "Move", self._req(Focus=focus))

    async def ensure_manual(self) -> None:
        """Manual focus moves are refused in AUTO mode by many cameras: switch first."""
        if self.setup.auto and self.setup.auto_mode == "AUTO":
            log.info("%s: switching auto-focus off for a manual focus move", self.label)
            await self.set_mode("MANUAL")

    async def continuous(self, speed: float) -> None:
        """A continuous focus move at ``speed`` (a signed fraction of the camera's top speed).

        ONVIF gives this move no timeout: it lasts until :meth:`stop`.
        """
        limits = self.setup.continuous_speed
        device_speed = limits.scale_signed(speed) if limits is not None else speed
        await self.ensure_manual()
        await self._move({"Continuous": {"Speed": device_speed}})

    async def stop(self) -> StopMethod:
        """Imaging Stop, or a zero-speed continuous move if the camera refuses Stop."""

        async def stop() -> None:
            await self._call(self._service, "Stop", self._req())

        async def zero() -> None:
            await self._move({"Continuous": {"Speed": 0.0}})

        self._stop_refused = await stop_with_fallback(
            self.label, "focus", stop, zero, refused_before=self._stop_refused
        )
        return StopMethod.ZERO_VELOCITY if self._stop_refused else StopMethod.STOP

    async def absolute(self, position: float, speed: float | None) -> None:
        """Move to ``position`` (camera units)."""
        limits = self.setup.absolute_position
        assert limits is not None, "checked by the focus_absolute capability"
        if not limits.contains(position):
            raise ValueError(f"focus position {position:g} is outside the camera's range {limits}")
        move: dict[str, Any] = {"Position": position}
        if speed is not None and self.setup.absolute_speed is not None:
            move["Speed"] = self.setup.absolute_speed.max * fraction(speed)
        await self.ensure_manual()
        await self._move({"Absolute": move})

    async def relative(self, distance: float, speed: float | None) -> None:
        """Move by ``distance`` (camera units; negative is nearer)."""
        limits = self.setup.relative_distance
        assert limits is not None, "checked by the focus_relative capability"
        if not limits.contains(distance):
            raise ValueError(f"focus step {distance:g} is outside the camera's range {limits}")
        move: dict[str, Any] = {"Distance": distance}
        if speed is not None and self.setup.relative_speed is not None:
            move["Speed"] = self.setup.relative_speed.max * fraction(speed)
        await self.ensure_manual()
        await self._move({"Relative": move})

    async def get_auto(self) -> bool:
        """Read the focus mode: True for AUTO."""
        settings = await self._call(self._service, "GetImagingSettings", self._req())
        mode = attr(settings, "Focus", "AutoFocusMode")
        self.setup.auto_mode = str(mode).upper() if mode is not None else None
        return self.setup.auto_mode == "AUTO"

    async def set_mode(self, mode: str) -> None:
        """SetImagingSettings with Focus.AutoFocusMode = ``mode`` (AUTO or MANUAL)."""
        current = await self._call(self._service, "GetImagingSettings", self._req())
        focus: dict[str, Any] = {"AutoFocusMode": mode}
        # Send the camera's own focus limits back with the mode: some firmwares reset
        # fields that a SetImagingSettings leaves out.
        for name in ("DefaultSpeed", "NearLimit", "FarLimit"):
            value = as_float(attr(current, "Focus", name))
            if value is not None:
                focus[name] = value
        await self._call(
            self._service, "SetImagingSettings", self._req(ImagingSettings={"Focus": focus})
        )
        self.setup.auto_mode = mode

    async def one_push(self) -> None:
        """AUTO until the lens settles (at most ONE_PUSH_MAX_S), then MANUAL at that focus."""
        await self.set_mode("AUTO")
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + ONE_PUSH_MAX_S
            await asyncio.sleep(0.3)
            if not self.setup.status:
                await asyncio.sleep(2.0)  # the lens cannot be watched: typical AF time
            while self.setup.status and loop.time() < deadline:
                status = await self.status()
                if MoveState.parse(attr(status, "FocusStatus20", "MoveStatus")) is MoveState.IDLE:
                    break
                await asyncio.sleep(0.2)
        finally:
            await self.set_mode("MANUAL")

    async def status(self) -> Any:
        """Imaging GetStatus (the raw answer)."""
        return await self._call(self._service, "GetStatus", self._req())
