"""Runtime events → MQTT messages: which topic, which payload, QoS, retained or not.

Pure bookkeeping (no network, no threads), so it is cheap to run on the runtime's callback
thread: stats are rate limited per camera; tracks are followed between ``appeared`` and
``left`` so that per-frame detections become at most one ``update`` per track and
``UPDATE_INTERVAL_S``; a label's binary sensor is ``ON`` while a track of it is open.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from camwall.capture.events import InfoEvent, LogEvent, StateEvent, StatsEvent
from camwall.control.onvif.events import CameraEvent, EventsStatus
from camwall.detect.messages import (
    CameraStatus,
    DetectionResult,
    DetectionStats,
    TrackEvent,
    WorkerStatus,
    ZoneEvent,
)
from camwall.mqtt import discovery
from camwall.mqtt.outgoing import Outgoing, dumps
from camwall.mqtt.settings import MqttSettings
from camwall.mqtt.topics import SCHEMA, Topics, camera_slug
from camwall.runtime.events import (
    CameraChanged,
    ControlChanged,
    DecodeChanged,
    RetentionEvent,
    RuntimeEvent,
    RuntimeNotice,
)

#: At most one ``update`` per track this often.
UPDATE_INTERVAL_S = 1.0
#: A detection continues a track when its box overlaps the track's last box this much.
MIN_IOU = 0.3
#: Open tracks kept per camera; beyond this the oldest is forgotten (its "left" was lost).
MAX_TRACKS = 256

Box = tuple[float, float, float, float]


@dataclass(slots=True)
class _Track:
    label: str
    box: Box
    score: float
    updated: float
    #: The zone the track entered last and has not left, if any.
    zone: str | None = None


@dataclass(slots=True)
class _Camera:
    name: str
    info: dict[str, Any]
    tracks: dict[int, _Track] = field(default_factory=dict)
    #: Open tracks per label (as its binary sensor names it).
    open_labels: collections.Counter[str] = field(default_factory=collections.Counter)
    stats_at: float | None = None
    detect_stats_at: float | None = None


def stream_url(url: str, relay_url: str | None, camera: str) -> str:
    """The URL a wall should pull: the relay's (``{camera}`` filled in) or ``url`` without credentials."""
    if relay_url is not None:
        return relay_url.replace("{camera}", camera_slug(camera))
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x0, y0, x1, y1)`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class EventTranslator:
    """Turns each :class:`RuntimeEvent` into the messages to publish; see the module docstring.

    ``urls`` maps camera names to their configured URL (for the announced stream URL).
    """

    def __init__(
        self,
        settings: MqttSettings,
        topics: Topics,
        *,
        urls: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Nothing known yet; cameras appear with their first event."""
        self.settings = settings
        self.topics = topics
        self._urls = dict(urls or {})
        self._clock = clock
        self._cameras: dict[str, _Camera] = {}
        #: Cameras the runtime removed; their late events are ignored until added again.
        self._removed: set[str] = set()
        #: The runtime is shutting down: no camera appears any more.
        self.stopping = False

    def cameras(self) -> list[str]:
        """Cameras seen and not removed."""
        return list(self._cameras)

    def envelope(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with ``schema`` and ``node`` first."""
        return {"schema": SCHEMA, "node": self.topics.node, **data}

    def translate(self, event: RuntimeEvent) -> list[Outgoing]:
        """The messages ``event`` turns into (often none)."""
        payload = event.payload
        name = event.camera
        out: list[Outgoing] = []
        if isinstance(payload, CameraChanged) and payload.action == "added":
            self._removed.discard(payload.camera)
        if name is not None and name in self._removed:
            return out  # late events of a removed camera (its final "stopped" state)
        if name is not None and name not in self._cameras and not self.stopping:
            out += self._appear(name)
        camera = None if name is None else self._cameras.get(name)
        topics = self.topics
        if isinstance(payload, CameraChanged) and camera is not None:
            if payload.action == "removed":
                out += self.remove(camera.name)
            else:
                out += self._merge_info(
                    camera,
                    running=payload.running,
                    recording=payload.recording,
                    detecting=payload.detecting,
                    stream=payload.stream,
                )
        elif isinstance(payload, DecodeChanged) and camera is not None:
            out += self._merge_info(camera, decode=payload.policy, decode_reason=payload.reason)
        elif isinstance(payload, ControlChanged) and camera is not None:
            out += self._merge_info(
                camera, control_connected=payload.connected, control=payload.summary
            )
        elif isinstance(payload, EventsStatus) and camera is not None:
            out += self._merge_info(camera, camera_events=str(payload.state.value))
        elif isinstance(payload, CameraEvent) and camera is not None:
            out.append(self._camera_msg(camera, "camera_event", event.to_dict()))
        elif isinstance(payload, StateEvent) and camera is not None:
            out.append(self._camera_msg(camera, "state", event.to_dict(), retain=True))
        elif isinstance(payload, InfoEvent) and camera is not None:
            data = event.to_dict()
            data.pop("type")
            camera.info.update({k: v for k, v in data.items() if k not in ("time", "camera")})
            out.append(self._info(camera))
        elif isinstance(payload, StatsEvent) and camera is not None:
            if self._due(camera, "stats_at"):
                out.append(self._camera_msg(camera, "stats", event.to_dict(), qos=0, retain=True))
        elif isinstance(payload, DetectionStats) and camera is not None:
            if self._due(camera, "detect_stats_at"):
                out.append(
                    self._camera_msg(camera, "detect_stats", event.to_dict(), qos=0, retain=True)
                )
        elif isinstance(payload, CameraStatus) and camera is not None:
            out.append(self._camera_msg(camera, "detect", event.to_dict(), retain=True))
        elif isinstance(payload, DetectionResult) and camera is not None:
            if payload.detections:
                out.append(self._camera_msg(camera, "detections", event.to_dict(), qos=0))
                out += self._updates(camera, payload)
        elif isinstance(payload, TrackEvent) and camera is not None:
            out += self._track(camera, payload)
        elif camera is not None and _is_zone_event(payload):
            out += self._zone(camera, payload)  # type: ignore[arg-type]
        elif event.type == "recording" and camera is not None:
            out.append(self._camera_msg(camera, "recording", event.to_dict()))
        elif isinstance(payload, LogEvent):
            if payload.level >= logging.WARNING:
                out.append(Outgoing(topics.node_leaf("log"), dumps(self.envelope(event.to_dict()))))
        elif isinstance(payload, RuntimeNotice):
            if payload.kind == "stopping":
                self.stopping = True
            out.append(Outgoing(topics.node_leaf("log"), dumps(self.envelope(event.to_dict()))))
        elif isinstance(payload, WorkerStatus):
            out.append(
                Outgoing(
                    topics.node_leaf("detect_worker"),
                    dumps(self.envelope(event.to_dict())),
                    1,
                    True,
                )
            )
        elif isinstance(payload, RetentionEvent):
            out.append(
                Outgoing(topics.node_leaf("retention"), dumps(self.envelope(event.to_dict())))
            )
        return out

    def remove(self, name: str) -> list[Outgoing]:
        """Camera ``name`` is gone: clear its retained topics and its discovery entities."""
        self._removed.add(name)
        camera = self._cameras.pop(name, None)
        if camera is None:
            return []
        out = [Outgoing(self.topics.camera(name, leaf), b"", 1, True) for leaf in _RETAINED_LEAVES]
        out += [
            Outgoing(self.topics.label(name, label), b"", 1, True) for label in self.settings.labels
        ]
        if self.settings.discovery:
            out += discovery.removal(self.settings, self.topics, name)
        return out

    def snapshot(self, name: str, path: Path) -> list[Outgoing]:
        """Publish the JPEG at ``path`` as ``name``'s snapshot (retained; the HA camera image)."""
        if name not in self._cameras:
            return []
        return [Outgoing(self.topics.camera(name, "snapshot"), path, 1, True)]

    # -- parts ------------------------------------------------------------------------------

    def _appear(self, name: str) -> list[Outgoing]:
        url = self._urls.get(name, "")
        camera = _Camera(
            name,
            {
                "name": name,
                "slug": camera_slug(name),
                "stream_url": stream_url(url, self.settings.relay_url, name)
                if url or self.settings.relay_url
                else None,
            },
        )
        self._cameras[name] = camera
        out = [self._info(camera)]
        out += [
            Outgoing(self.topics.label(name, label), b"OFF", 1, True)
            for label in self.settings.labels
        ]
        if self.settings.discovery:
            out += discovery.announce(self.settings, self.topics, name)
        return out

    def _merge_info(self, camera: _Camera, **fields: object) -> list[Outgoing]:
        """Update the camera's retained ``info`` with ``fields``; publish only a change."""
        if all(camera.info.get(k) == v for k, v in fields.items()):
            return []
        camera.info.update(fields)
        return [self._info(camera)]

    def _info(self, camera: _Camera) -> Outgoing:
        return Outgoing(
            self.topics.camera(camera.name, "info"),
            dumps(self.envelope({"camera": camera.name, **camera.info})),
            1,
            True,
        )

    def _camera_msg(
        self,
        camera: _Camera,
        leaf: str,
        data: dict[str, Any],
        *,
        qos: int = 1,
        retain: bool = False,
    ) -> Outgoing:
        return Outgoing(
            self.topics.camera(camera.name, leaf), dumps(self.envelope(data)), qos, retain
        )

    def _due(self, camera: _Camera, attr: str) -> bool:
        now = self._clock()
        last = getattr(camera, attr)
        # A little slack: stats that arrive every interval ± jitter should all pass.
        if last is not None and now - last < self.settings.stats_interval_s * 0.9:
            return False
        setattr(camera, attr, now)
        return True

    def _track(self, camera: _Camera, event: TrackEvent) -> list[Outgoing]:
        out: list[Outgoing] = []
        label = self._label_name(event.label)
        was_on = camera.open_labels[label] > 0
        zone = None
        if event.kind == "appeared":
            if event.track_id not in camera.tracks:
                camera.open_labels[label] += 1
            camera.tracks[event.track_id] = _Track(
                event.label, event.box, event.best_score, self._clock()
            )
            if len(camera.tracks) > MAX_TRACKS:
                oldest = next(iter(camera.tracks))
                camera.open_labels[self._label_name(camera.tracks.pop(oldest).label)] -= 1
            kind = "start"
        else:
            gone = camera.tracks.pop(event.track_id, None)
            if gone is not None:
                camera.open_labels[label] -= 1
                zone = gone.zone
            kind = "end"
        out.append(
            self._camera_msg(
                camera,
                "event",
                {
                    "type": "event",
                    "time": round(event.time, 3),
                    "camera": camera.name,
                    "event": kind,
                    "id": f"{self.topics.node}/{camera_slug(camera.name)}/{event.track_id}",
                    "track_id": event.track_id,
                    "label": event.label,
                    "score": event.best_score,
                    "best_score": event.best_score,
                    "box": list(event.box),
                    "zone": zone,
                    "has_snapshot": event.snapshot is not None,
                    "seq": event.seq,
                    "capture_ns": event.capture_ns,
                },
            )
        )
        if event.snapshot is not None:
            out += self.snapshot(camera.name, Path(event.snapshot))
        is_on = camera.open_labels[label] > 0
        if is_on != was_on:
            value = b"ON" if is_on else b"OFF"
            out.append(Outgoing(self.topics.label(camera.name, label), value, 1, True))
        return out

    def _zone(self, camera: _Camera, event: ZoneEvent) -> list[Outgoing]:
        track = camera.tracks.get(event.track_id)
        if track is not None:
            if event.kind == "entered":
                track.zone = event.zone
            elif track.zone == event.zone:
                track.zone = None
        return [
            self._camera_msg(
                camera,
                "zone",
                {
                    "type": "zone",
                    "time": round(time.time(), 3),
                    "camera": camera.name,
                    "event": event.kind,
                    "zone": event.zone,
                    "id": f"{self.topics.node}/{camera_slug(camera.name)}/{event.track_id}",
                    "track_id": event.track_id,
                    "label": event.label,
                    "box": list(event.box),
                    "seconds_inside": round(event.time - event.inside_since, 3),
                    "seq": event.seq,
                    "capture_ns": event.capture_ns,
                },
            )
        ]

    def _updates(self, camera: _Camera, result: DetectionResult) -> list[Outgoing]:
        """At most one ``update`` per open track and interval, from the best-matching box."""
        now = self._clock()
        out: list[Outgoing] = []
        for track_id, track in camera.tracks.items():
            if now - track.updated < UPDATE_INTERVAL_S:
                continue
            best: tuple[float, dict[str, Any]] | None = None
            for det in result.detections:
                if det.get("label") != track.label:
                    continue
                overlap = iou(track.box, _box(det["box"]))
                if overlap >= MIN_IOU and (best is None or overlap > best[0]):
                    best = (overlap, det)
            if best is None:
                continue
            det = best[1]
            track.box = _box(det["box"])
            track.score = float(det["score"])
            track.updated = now
            out.append(
                self._camera_msg(
                    camera,
                    "event",
                    {
                        "type": "event",
                        "time": round(time.time(), 3),
                        "camera": camera.name,
                        "event": "update",
                        "id": f"{self.topics.node}/{camera_slug(camera.name)}/{track_id}",
                        "track_id": track_id,
                        "label": track.label,
                        "score": track.score,
                        "box": list(track.box),
                        "zone": track.zone,
                        "seq": result.seq,
                        "capture_ns": result.capture_ns,
                    },
                )
            )
        return out

    def _label_name(self, label: str) -> str:
        """``label`` as configured (``Person`` in the model, ``person`` in [mqtt] labels)."""
        folded = label.casefold()
        return next((c for c in self.settings.labels if c.casefold() == folded), label)


def _is_zone_event(payload: object) -> bool:
    # ZoneEvent is not (yet) part of the runtime's Payload union; accept it when it comes.
    return isinstance(payload, ZoneEvent)


def _box(values: Any) -> Box:
    x0, y0, x1, y1 = (float(v) for v in values)
    return (x0, y0, x1, y1)


_RETAINED_LEAVES = ("state", "info", "stats", "snapshot", "detect", "detect_stats")
