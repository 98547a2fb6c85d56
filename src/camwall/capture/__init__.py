"""Capture: one worker per camera that connects, decodes, converts once into the camera's
FrameRing, and keeps doing so through every fault; a supervisor that owns workers and rings.
"""

from __future__ import annotations

from camwall.capture.events import (
    CameraState,
    CaptureEvent,
    InfoEvent,
    LogEvent,
    RecordingEvent,
    RingEvent,
    StateEvent,
    StatsEvent,
    event_to_dict,
)
from camwall.capture.spec import BackoffPolicy, CameraSpec, RecordingSpec, fit_size
from camwall.capture.supervisor import CaptureSupervisor

__all__ = [
    "BackoffPolicy",
    "CameraSpec",
    "CameraState",
    "CaptureEvent",
    "CaptureSupervisor",
    "InfoEvent",
    "LogEvent",
    "RecordingEvent",
    "RecordingSpec",
    "RingEvent",
    "StateEvent",
    "StatsEvent",
    "event_to_dict",
    "fit_size",
]
