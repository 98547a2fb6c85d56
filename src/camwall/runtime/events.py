"""What the runtime reports: one envelope around every capture, detection and runtime event.

Consumers get :class:`RuntimeEvent` objects; ``event.payload`` is the typed event of the part
that produced it (``isinstance(event.payload, TrackEvent)``), ``event.to_dict()`` a flat,
JSON-serialisable dict with a ``type`` that names the kind of event across all parts::

    {"type": "state", "time": 1764153480.1, "camera": "door", "state": "streaming", ...}

``type`` values: capture ``state``, ``info``, ``ring``, ``stats``, ``log``, ``recording``;
detection ``detections``, ``track``, ``detect_stats``, ``detect_status``, ``detect_worker``;
the runtime's own ``runtime``, ``camera`` (added/removed/updated), ``control``,
``decode`` (the decode budget's choice) and ``retention``. docs/cli.md lists every field.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from camwall.capture.events import CaptureEvent, LogEvent, event_to_dict
from camwall.control.onvif.events import CameraEvent, EventsStatus
from camwall.detect.messages import (
    CameraStatus,
    DetectionResult,
    DetectionStats,
    Message,
    TrackEvent,
    WorkerStatus,
    ZoneEvent,
)

NoticeKind = Literal["started", "stopping", "stopped", "warning", "error", "info"]
CameraAction = Literal["added", "removed", "updated"]


@dataclass(frozen=True, slots=True)
class RuntimeNotice:
    """The runtime itself speaking: started, stopping, stopped, or a warning/error for people."""

    kind: NoticeKind
    message: str = ""
    camera: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class RetentionEvent:
    """A retention pass deleted old segments under ``directory``."""

    directory: Path
    deleted: int
    freed_bytes: int
    kept_bytes: int
    kept_segments: int
    #: Segments that were due but are being written right now (left alone).
    in_use: int
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class CameraChanged:
    """A camera joined, left, or its settings changed: what every face shows about it.

    ``stream`` is the stream shown now ("main" or "sub"); ``recording`` and ``detecting`` are
    what was asked for (recording events say whether segments are being written).
    """

    camera: str
    action: CameraAction
    running: bool = False
    recording: bool = False
    detecting: bool = False
    stream: str = "main"
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class ControlChanged:
    """A camera's optical control (ONVIF) connected, failed or changed its capabilities.

    ``capabilities`` is the control layer's :class:`~camwall.control.Capabilities` (kept as an
    object; ``summary`` is its text for JSON lines and logs).
    """

    camera: str
    connected: bool
    summary: str
    capabilities: object = field(default=None, compare=False, repr=False)
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class DecodeChanged:
    """The decode budget moved a camera to another policy (``full``, ``keyframes``,
    ``paused``); ``reason`` says why ("focused", "visible", "event", "CPU", "hidden")."""

    camera: str
    policy: str
    reason: str
    #: What its tile shows ("" in full).
    badge: str = ""
    at: float = field(default_factory=time.time)


Payload = (
    CaptureEvent
    | Message
    | RuntimeNotice
    | RetentionEvent
    | CameraChanged
    | ControlChanged
    | DecodeChanged
    | CameraEvent
    | EventsStatus
)

_DETECT_TYPES: dict[type, str] = {
    DetectionResult: "detections",
    TrackEvent: "track",
    DetectionStats: "detect_stats",
    CameraStatus: "detect_status",
    WorkerStatus: "detect_worker",
    ZoneEvent: "zone",
}


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """One event from any part of the runtime; see the module docstring."""

    payload: Payload
    #: When the runtime received it (epoch seconds); events that carry their own time use it.
    received: float = field(default_factory=time.time)

    @property
    def type(self) -> str:
        """The kind of event, as in ``to_dict()["type"]``."""
        return str(self._fields()["type"])

    @property
    def camera(self) -> str | None:
        """The camera the event is about, or None (detection worker, runtime, retention)."""
        return getattr(self.payload, "camera", None)

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-serialisable dict: ``type``, ``time``, ``camera`` first, then the fields."""
        data = self._fields()
        kind = data.pop("type")
        moment = data.pop("at", None)
        moment = data.pop("time", moment)
        camera = data.pop("camera", None)
        return {
            "type": kind,
            "time": round(moment if moment is not None else self.received, 3),
            "camera": camera,
            **data,
        }

    def _fields(self) -> dict[str, Any]:
        payload = self.payload
        if isinstance(payload, RuntimeNotice):
            return {"type": "runtime", **asdict(payload)}
        if isinstance(payload, CameraChanged):
            return {"type": "camera", **asdict(payload)}
        if isinstance(payload, (CameraEvent, EventsStatus)):
            # The camera's own events (ONVIF): its topic kept, enums and times as text.
            data = _plain(asdict(payload))
            # The camera's own clock, which may be off: "time" stays when camwall heard it.
            data["camera_time"] = data.pop("time", None)
            return {**data, "type": payload.type}
        if isinstance(payload, DecodeChanged):
            return {"type": "decode", **asdict(payload)}
        if isinstance(payload, ControlChanged):
            return {
                "type": "control",
                "camera": payload.camera,
                "connected": payload.connected,
                "summary": payload.summary,
                "at": payload.at,
            }
        if isinstance(payload, RetentionEvent):
            data = asdict(payload)
            data["directory"] = str(payload.directory)
            return {"type": "retention", **data}
        detect_type = _DETECT_TYPES.get(type(payload))
        if detect_type is not None:
            return {**payload.to_dict(), "type": detect_type}  # type: ignore[union-attr]
        data = event_to_dict(payload)  # type: ignore[arg-type]
        if isinstance(payload, LogEvent):
            data["level"] = logging.getLevelName(payload.level)
        return data


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """Enums by value, datetimes as ISO 8601: JSON-ready."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, enum.Enum):
            out[key] = value.value
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
