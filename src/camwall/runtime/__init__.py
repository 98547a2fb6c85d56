"""The runtime: the one owner of cameras (capture, streams, recording, detection, control).

Every face (``camwall run --headless``, the wall, MQTT) is built on it; it imports no Qt. See
:mod:`camwall.runtime.core` and docs/cli.md for the event schema.
"""

from __future__ import annotations

from camwall.runtime.core import EventCallback, RecordingStats, Runtime
from camwall.runtime.events import (
    CameraChanged,
    ControlChanged,
    DecodeChanged,
    Payload,
    RetentionEvent,
    RuntimeEvent,
    RuntimeNotice,
)
from camwall.runtime.specs import (
    CameraDetection,
    Stream,
    StreamChoice,
    camera_detection,
    camera_spec,
    choose_stream,
    detect_stream,
    detector_spec,
    pipeline_config,
)

__all__ = [
    "CameraChanged",
    "CameraDetection",
    "ControlChanged",
    "DecodeChanged",
    "EventCallback",
    "Payload",
    "RecordingStats",
    "RetentionEvent",
    "Runtime",
    "RuntimeEvent",
    "RuntimeNotice",
    "Stream",
    "StreamChoice",
    "camera_detection",
    "camera_spec",
    "choose_stream",
    "detect_stream",
    "detector_spec",
    "pipeline_config",
]
