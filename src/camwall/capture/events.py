"""Messages out of capture workers: small, picklable, JSON-friendly dataclasses.

Workers send them over a pipe; the supervisor forwards them to one callback in the owning
process (the UI bridges that callback to Qt signals, the headless mode prints JSON lines).
No pixels ever travel here: frames go through the camera's FrameRing.
"""

from __future__ import annotations

import enum
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Only a type here: importing camwall.record would pull PyAV into every event consumer.
    from camwall.record.events import RecordEvent


class CameraState(enum.StrEnum):
    """The explicit states of a camera's capture loop."""

    CONNECTING = "connecting"  # opening the source
    STREAMING = "streaming"  # frames are arriving and being published
    LOST = "lost"  # the source failed or went silent; about to back off
    BACKOFF = "backoff"  # waiting before the next connection attempt
    FAILED = "failed"  # an error retrying cannot fix (401, 404, bad URL); retries slowly
    STOPPED = "stopped"  # stopped on request; the worker has exited


@dataclass(frozen=True, slots=True)
class StateEvent:
    """The camera entered ``state``; ``reason`` says why, for people."""

    camera: str
    state: CameraState
    reason: str = ""
    #: Seconds until the next connection attempt (BACKOFF/FAILED), else None.
    retry_in_s: float | None = None
    #: Connection attempts since the last time the camera was streaming.
    attempt: int = 0
    #: Exception class name behind the state, for programs (e.g. "SourceAuthError").
    error: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class RingEvent:
    """The camera publishes into ring ``ring_name`` from now on (at start, or re-created).

    ``role`` "view" is the picture for people; "detect" the detect-sized output for the
    detector (a second ring fed by the same decode).
    """

    camera: str
    ring_name: str
    width: int
    height: int
    at: float = field(default_factory=time.time)
    role: str = "view"


@dataclass(frozen=True, slots=True)
class InfoEvent:
    """The source is open: codec, size, rate and bitrate as the stream declares them."""

    camera: str
    url: str  # masked
    codec: str
    width: int
    height: int
    fps: float | None
    bitrate: int | None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class StatsEvent:
    """Once a second while streaming: what the worker did over the last interval."""

    camera: str
    fps_in: float  # frames decoded per second
    fps_published: float  # frames written into the ring per second
    dropped: int  # frames the source skipped or the worker dropped, in total
    decode_ms: float  # mean decode CPU ms per frame over the interval
    convert_ms: float  # mean convert-into-slot ms per frame over the interval
    bitrate_kbps: float  # compressed input rate over the interval
    corrupt: int  # corrupt packets discarded, in total
    width: int
    height: int
    last_error: str | None = None
    #: What the worker decodes now ("full", "keyframes", "paused"; see camwall.runtime.decode).
    decode: str = "full"
    #: Compressed packets arriving per second: the camera's own rate, whatever is decoded.
    packet_rate: float = 0.0
    #: Mean CPU ms per detect-sized frame (the detect output's extra scale and convert; 0
    #: while the camera does not detect). Not part of ``convert_ms``.
    detect_ms: float = 0.0
    #: Detect-sized frames made per second.
    fps_detect: float = 0.0
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """A log record from a worker, already masked; re-emitted into the owner's ``logging``."""

    camera: str
    level: int
    logger: str
    message: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class RecordingEvent:
    """The camera's recorder opened or closed a segment, or recording failed (and retries).

    ``record`` is the recorder's own event (:mod:`camwall.record.events`); a failure never
    stops capture.
    """

    camera: str
    record: RecordEvent
    at: float = field(default_factory=time.time)


CaptureEvent = StateEvent | RingEvent | InfoEvent | StatsEvent | LogEvent | RecordingEvent

_TYPE_NAMES: dict[type, str] = {
    StateEvent: "state",
    RingEvent: "ring",
    InfoEvent: "info",
    StatsEvent: "stats",
    LogEvent: "log",
    RecordingEvent: "recording",
}


def event_to_dict(event: CaptureEvent) -> dict[str, Any]:
    """A JSON-serialisable dict of ``event`` with its ``type`` ("state", "stats", …)."""
    if isinstance(event, RecordingEvent):
        # Flat: {"type": "recording", "event": "segment_closed", "camera", "path", ...}.
        return {
            "type": "recording",
            **event.record.to_dict(),
            "camera": event.camera,
            "at": event.at,
        }
    data = asdict(event)
    data["type"] = _TYPE_NAMES[type(event)]
    if isinstance(event, StateEvent):
        data["state"] = str(event.state)
    return data
