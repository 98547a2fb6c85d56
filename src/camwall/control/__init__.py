"""Camera control: focus, zoom, pan/tilt and presets over ONVIF, and digital zoom. No Qt.

* :class:`ControlService` runs every camera call on its own event loop thread and hands
  back futures; :meth:`ControlService.open_onvif` gives a :class:`RemoteCamera`.
* :class:`Capabilities` says which controls a camera has, and why the others are missing.
* :meth:`RemoteCamera.start_move` holds a continuous move with a dead-man switch
  (:mod:`camwall.control.hold`).
* :func:`discover_streams` finds a camera's main and sub RTSP streams.
* :class:`DigitalZoom` is the zoom/pan geometry of a video view.

The ONVIF backend needs the ``onvif`` extra (onvif-zeep-async); it is imported on first use.
"""

from camwall.control.base import CameraControl
from camwall.control.digital_zoom import DigitalZoom, FrameRect
from camwall.control.hold import HeldMove, HoldPolicy
from camwall.control.model import (
    Axis,
    Capabilities,
    ControlState,
    ControlStatus,
    DeviceInfo,
    Feature,
    MoveState,
    OnvifSettings,
    Preset,
    Range,
    StopMethod,
    StreamProfile,
    StreamRole,
    Velocity,
)
from camwall.control.onvif.client import OnvifCameraControl
from camwall.control.onvif.discover import discover_streams, discover_streams_async
from camwall.control.service import ControlService, RemoteCamera

__all__ = [
    "Axis",
    "CameraControl",
    "Capabilities",
    "ControlService",
    "ControlState",
    "ControlStatus",
    "DeviceInfo",
    "DigitalZoom",
    "Feature",
    "FrameRect",
    "HeldMove",
    "HoldPolicy",
    "MoveState",
    "OnvifCameraControl",
    "OnvifSettings",
    "Preset",
    "Range",
    "RemoteCamera",
    "StopMethod",
    "StreamProfile",
    "StreamRole",
    "Velocity",
    "discover_streams",
    "discover_streams_async",
]
