"""Find a camera's RTSP streams over ONVIF: add a camera by host, port, user and password."""

from __future__ import annotations

import asyncio

from camwall.control.model import DeviceInfo, OnvifSettings, StreamProfile
from camwall.control.onvif.client import OnvifCameraControl


async def read_streams_async(
    settings: OnvifSettings, *, device_info: bool = False
) -> tuple[DeviceInfo | None, list[StreamProfile]]:
    """Log in, read the device information (if asked), the media profiles and their RTSP
    URIs (main stream first), log out."""
    control = OnvifCameraControl(settings)
    try:
        await control.connect(probe=False)
        info = await control.device_info() if device_info else None
        return info, await control.stream_profiles()
    finally:
        await control.close()


async def discover_streams_async(settings: OnvifSettings) -> list[StreamProfile]:
    """Log in, read the media profiles and their RTSP URIs (main stream first), log out."""
    _, streams = await read_streams_async(settings)
    return streams


def discover_streams(settings: OnvifSettings) -> list[StreamProfile]:
    """The camera's streams, main then sub (blocking; from a UI use ControlService).

    The URIs are as the camera gives them, normally without credentials; use
    :meth:`StreamProfile.uri_with_credentials` to open one. Raises ControlAuthError,
    ControlTimeoutError, ControlConnectionError or ControlError with a readable message,
    within about ``settings.connect_timeout_s`` plus one call timeout per profile.
    Must not be called from a thread that runs an asyncio loop.
    """
    return asyncio.run(discover_streams_async(settings))
