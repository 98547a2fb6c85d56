"""Object and motion detection on camera frames, off the live path; no Qt here.

Building blocks, usable on their own:

* :class:`Detections` — validated NumPy results (boxes in frame pixels).
* Detectors (:class:`Detector` protocol): :class:`OnnxDetector` for YOLOv8/11/v5 ONNX models
  (``pip install "camwall[detect]"``), :class:`HaarFaceDetector`, :class:`HogPeopleDetector`
  (built into OpenCV 4), :class:`MotionDetector`, and :class:`MotionGatedDetector`, which
  runs an object detector only where something moves.
* :class:`Mask`, :class:`ObjectFilter`, :class:`IoUTracker` — masks, false-positive control,
  appeared/left events; :class:`Zone` / :class:`ZoneTracker` — entered/left zone events;
  :func:`detect_size` / :class:`DetectGeometry` — the fixed detect resolution.

And the service that runs them for a camera wall: :class:`DetectionService` owns one worker
process that reads every camera's newest frame from its FrameRing and sends back
:class:`DetectionResult`, :class:`TrackEvent`, :class:`DetectionStats`,
:class:`CameraStatus` and :class:`WorkerStatus` messages.

``OnnxDetector`` is imported lazily so that ``import camwall.detect`` works without
onnxruntime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from camwall.detect.base import Detector, StagedDetector
from camwall.detect.builtin import HaarFaceDetector, HogPeopleDetector
from camwall.detect.detections import Detections, box_iou
from camwall.detect.filters import ObjectFilter
from camwall.detect.gate import GateConfig, MotionGatedDetector
from camwall.detect.geometry import DetectGeometry, detect_size
from camwall.detect.labels import COCO80, load_labels
from camwall.detect.masks import Mask
from camwall.detect.messages import (
    CameraStatus,
    DetectionResult,
    DetectionStats,
    Message,
    TrackEvent,
    WorkerStatus,
    ZoneEvent,
)
from camwall.detect.motion import MotionConfig, MotionDetector
from camwall.detect.pipeline import CameraPipeline
from camwall.detect.service import DetectionService
from camwall.detect.snapshots import JpegSnapshots
from camwall.detect.spec import DetectorSpec, PipelineConfig, build_detector
from camwall.detect.tracker import IoUTracker, TrackerConfig
from camwall.detect.zones import Zone, ZoneTracker

if TYPE_CHECKING:
    from camwall.detect.yolo_onnx import OnnxDetector


def __getattr__(name: str) -> Any:
    if name == "OnnxDetector":
        from camwall.detect.yolo_onnx import OnnxDetector

        return OnnxDetector
    raise AttributeError(f"module 'camwall.detect' has no attribute {name!r}")


__all__ = [
    "COCO80",
    "CameraPipeline",
    "CameraStatus",
    "DetectGeometry",
    "DetectionResult",
    "DetectionService",
    "DetectionStats",
    "Detections",
    "Detector",
    "DetectorSpec",
    "GateConfig",
    "HaarFaceDetector",
    "HogPeopleDetector",
    "IoUTracker",
    "JpegSnapshots",
    "Mask",
    "Message",
    "MotionConfig",
    "MotionDetector",
    "MotionGatedDetector",
    "ObjectFilter",
    "OnnxDetector",
    "PipelineConfig",
    "StagedDetector",
    "TrackEvent",
    "TrackerConfig",
    "WorkerStatus",
    "Zone",
    "ZoneEvent",
    "ZoneTracker",
    "box_iou",
    "build_detector",
    "detect_size",
    "load_labels",
]
