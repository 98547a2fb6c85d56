"""Picklable descriptions of a detector and a camera's pipeline, built inside the worker.

Detectors hold things that cannot cross a process boundary (an ONNX Runtime session, OpenCV
classifiers), so the parent sends a :class:`DetectorSpec` and the worker builds from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from camwall.detect.base import Detector
from camwall.detect.filters import ObjectFilter
from camwall.detect.gate import GateConfig
from camwall.detect.motion import MotionConfig, MotionDetector
from camwall.detect.tracker import TrackerConfig

DetectorKind = Literal["onnx", "face", "people", "motion"]
KINDS: tuple[str, ...] = ("onnx", "face", "people", "motion")


@dataclass(frozen=True)
class DetectorSpec:
    """Which detector to run: an ONNX YOLO ``model`` path, ``face``, ``people`` or ``motion``.

    ``threads`` is ONNX Runtime's intra-op thread count (None: leave a core free, i.e. 1
    on a 2-core machine); ``labels`` a labels file (one per line) for the ONNX model.
    """

    kind: DetectorKind = "onnx"
    model: str | None = None
    labels: str | None = None
    score_threshold: float = 0.25
    iou_threshold: float = 0.45
    input_size: int = 640
    threads: int | None = None

    def __post_init__(self) -> None:
        """Reject an unknown kind or an ONNX spec without a model, with what to write instead."""
        if self.kind not in KINDS:
            raise ValueError(f"detector kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.kind == "onnx" and not self.model:
            raise ValueError("an onnx detector needs a model path (e.g. yolov8n.onnx)")

    @classmethod
    def parse(cls, text: str) -> DetectorSpec:
        """``face``, ``people``, ``motion``, a path to an ``.onnx`` model, or a models-folder name."""
        if text in ("face", "people", "motion"):
            return cls(kind=text)  # type: ignore[arg-type]
        return cls(kind="onnx", model=text)


@dataclass(frozen=True)
class PipelineConfig:
    """What happens around the detector for each camera.

    ``gate``: run the object detector only where motion is (ignored for the ``motion``
    detector itself). ``filter`` drops noise per label before tracking; ``tracker`` turns
    detections into appeared/left events.
    """

    gate: bool = False
    motion: MotionConfig = field(default_factory=MotionConfig)
    gating: GateConfig = field(default_factory=GateConfig)
    filter: ObjectFilter = field(default_factory=ObjectFilter)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)


def build_detector(spec: DetectorSpec) -> Detector:
    """A ready (not yet warmed-up) detector for ``spec``; ONNX errors raise DetectError subclasses."""
    if spec.kind == "face":
        from camwall.detect.builtin import HaarFaceDetector

        return HaarFaceDetector()
    if spec.kind == "people":
        from camwall.detect.builtin import HogPeopleDetector

        return HogPeopleDetector()
    if spec.kind == "motion":
        return MotionDetector()
    from camwall.detect.model_store import resolve_model
    from camwall.detect.yolo_onnx import OnnxDetector

    assert spec.model is not None
    return OnnxDetector(
        resolve_model(spec.model),
        labels=spec.labels,
        score_threshold=spec.score_threshold,
        iou_threshold=spec.iou_threshold,
        input_size=spec.input_size,
        threads=spec.threads,
    )
