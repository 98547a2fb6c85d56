"""The runtime core: one object that runs a config's cameras (capture, recording, detection).

Used by ``camwall run --headless`` and by the wall; imports no Qt. See
:mod:`camwall.runtime.core` and docs/cli.md for the event schema.
"""

from __future__ import annotations

from camwall.runtime.core import EventCallback, Runtime
from camwall.runtime.events import Payload, RetentionEvent, RuntimeEvent, RuntimeNotice
from camwall.runtime.specs import (
    CameraDetection,
    Stream,
    StreamChoice,
    camera_detection,
    camera_spec,
    choose_stream,
    detector_spec,
    pipeline_config,
)

__all__ = [
    "CameraDetection",
    "EventCallback",
    "Payload",
    "RetentionEvent",
    "Runtime",
    "RuntimeEvent",
    "RuntimeNotice",
    "Stream",
    "StreamChoice",
    "camera_detection",
    "camera_spec",
    "choose_stream",
    "detector_spec",
    "pipeline_config",
]
