"""Runtime events as the runtime makes them, for feeding an MqttSink directly."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from camwall.capture.events import CameraState, RecordingEvent, StateEvent, StatsEvent
from camwall.detect.messages import DetectionResult, TrackEvent
from camwall.record.events import SegmentClosed
from camwall.runtime.events import CameraChanged, RuntimeEvent, RuntimeNotice


def state(camera: str, value: CameraState, reason: str = "") -> RuntimeEvent:
    """A capture state event."""
    return RuntimeEvent(StateEvent(camera, value, reason))


def stats(camera: str, fps: float = 25.0) -> RuntimeEvent:
    """A capture stats event."""
    return RuntimeEvent(StatsEvent(camera, fps, fps, 0, 5.0, 1.0, 4000.0, 0, 1920, 1080))


def track(
    camera: str,
    kind: str,
    track_id: int = 1,
    label: str = "person",
    box: tuple[float, float, float, float] = (100.0, 100.0, 300.0, 500.0),
    snapshot: Path | None = None,
) -> RuntimeEvent:
    """A track appeared/left event."""
    return RuntimeEvent(
        TrackEvent(
            kind,  # type: ignore[arg-type]
            camera,
            label,
            track_id,
            time.time(),
            time.monotonic_ns(),
            7,
            box,
            0.87,
            None if snapshot is None else str(snapshot),
        )
    )


def detections(
    camera: str, box: tuple[float, float, float, float], label: str = "person"
) -> RuntimeEvent:
    """A detection result with one box."""
    return RuntimeEvent(
        DetectionResult(
            camera,
            8,
            time.monotonic_ns(),
            1920,
            1080,
            [{"box": list(box), "score": 0.9, "class_id": 0, "label": label}],
            12.0,
            "builtin",
        )
    )


def segment_closed(camera: str, path: Path) -> RuntimeEvent:
    """A recording segment was closed."""
    record = SegmentClosed(camera, path, datetime.now(UTC), 60.0, 123456, 1500)
    return RuntimeEvent(RecordingEvent(camera, record))


def notice(kind: str) -> RuntimeEvent:
    """A runtime notice (started, stopping, …)."""
    return RuntimeEvent(RuntimeNotice(kind))  # type: ignore[arg-type]


def jpeg(path: Path) -> bytes:
    """Write a small real JPEG to ``path``; its bytes."""
    image = np.zeros((90, 160, 3), np.uint8)
    cv2.rectangle(image, (20, 20), (80, 70), (0, 128, 255), -1)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    path.write_bytes(data.tobytes())
    return data.tobytes()


def changed(camera: str, action: str, **kw: object) -> RuntimeEvent:
    """A camera was added, removed or updated in the runtime."""
    return RuntimeEvent(CameraChanged(camera, action, **kw))  # type: ignore[arg-type]
