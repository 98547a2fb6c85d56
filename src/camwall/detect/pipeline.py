"""One camera's detection pipeline: (motion gate) → detector → mask → filter.

Split in two like :class:`~camwall.detect.base.StagedDetector`: :meth:`CameraPipeline.stage`
does everything that reads the frame's pixels, :meth:`CameraPipeline.finish` the rest. The
worker checks between the two that shared memory was not overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from camwall.detect.base import Detector, StagedDetector, check_image
from camwall.detect.detections import Detections, Image
from camwall.detect.gate import MotionGatedDetector, Region
from camwall.detect.masks import Mask
from camwall.detect.motion import MotionDetector
from camwall.detect.spec import PipelineConfig


@dataclass(frozen=True, slots=True)
class PipelineOutput:
    """Detections of one frame after masks and filters, motion boxes, and the examined region."""

    detections: Detections
    motion: Detections | None
    region: Region | None
    full_frame: bool


@dataclass(frozen=True, slots=True)
class _Staged:
    prepared: Any
    staged: bool
    width: int
    height: int


class CameraPipeline:
    """Detection for one camera; ``detector`` may be shared, motion state is per camera."""

    def __init__(
        self, detector: Detector, config: PipelineConfig | None = None, mask: Mask | None = None
    ) -> None:
        """Combine ``detector`` with this camera's mask and the configured gate and filter."""
        self.config = config or PipelineConfig()
        self.mask = mask or Mask()
        self._gated: MotionGatedDetector | None = None
        self.detector: Detector
        if isinstance(detector, MotionDetector):
            # Motion state is per camera: never share the instance the factory built.
            self.detector = MotionDetector(self.config.motion, self.mask)
        elif self.config.gate:
            self._gated = MotionGatedDetector(
                detector, MotionDetector(self.config.motion, self.mask), self.config.gating
            )
            self.detector = self._gated
        else:
            self.detector = detector
        # Once: isinstance against a runtime-checkable Protocol inspects every member each
        # time (tens of µs), and the worker would ask twice per frame.
        self._staged = isinstance(self.detector, StagedDetector)
        self._motion_only = isinstance(self.detector, MotionDetector)

    @property
    def name(self) -> str:
        """Name of the detector as run here (``yolov8n+motion`` when gated)."""
        return self.detector.name

    def stage(self, image: Image) -> _Staged:
        """The part that reads ``image`` (BGR or BGRA); the result owns its memory."""
        check_image(image)
        h, w = image.shape[:2]
        det = self.detector
        if self._staged:
            return _Staged(cast(StagedDetector, det).prepare(image), True, w, h)
        return _Staged(det.detect(image), False, w, h)

    def finish(self, staged: _Staged) -> PipelineOutput:
        """Inference (if not done already), then mask and filter."""
        w, h = staged.width, staged.height
        motion: Detections | None = None
        region: Region | None = (0, 0, w, h)
        if self._gated is not None:
            result = self._gated.infer_full(staged.prepared)
            found, motion, region = result.detections, result.motion, result.region
        elif staged.staged:
            found = cast(StagedDetector, self.detector).infer(staged.prepared)
        else:
            found = staged.prepared
        found = self.mask.apply(found, w, h)
        if not self._motion_only:
            found = self.config.filter.apply(found, (w, h))
        return PipelineOutput(found, motion, region, region == (0, 0, w, h))

    def run(self, image: Image) -> PipelineOutput:
        """Both steps at once (when ``image`` is private memory)."""
        return self.finish(self.stage(image))
