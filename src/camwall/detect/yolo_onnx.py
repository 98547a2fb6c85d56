"""YOLO object detection with ONNX Runtime on the CPU (the ``[detect]`` extra).

Give it a YOLO model exported to ONNX: YOLOX as Megvii releases it (``yolox_nano.onnx``,
Apache-2.0; ``camwall model fetch``), YOLOv8 / YOLO11 / YOLOv5 exports, or an export with
NMS included (see :mod:`camwall.detect.model_layout`). The input size is read from the model
(fixed, or dynamic with ``input_size`` as the default), the output layout from the outputs'
shapes, the class names from a labels file, else the model's own metadata, else COCO-80.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from camwall.detect.base import check_image
from camwall.detect.detections import Detections, Image
from camwall.detect.labels import COCO80, labels_from_metadata, load_labels
from camwall.detect.model_layout import (
    Layout,
    OutputPlan,
    choose_layout,
    end2end_rows,
    plan_outputs,
    yolox_to_v5,
)
from camwall.detect.yolo import (
    Letterbox,
    Tensor,
    decode,
    letterbox,
    plan_letterbox,
    to_detections,
)
from camwall.errors import MissingExtraError, ModelLayoutError, ModelLoadError

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)


def default_threads() -> int:
    """Intra-op threads for inference: leave one core to capture and display (1 on 2 cores)."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise MissingExtraError("ONNX object detection", "detect", "onnxruntime") from None
    return onnxruntime


def _ort_errors(ort: Any) -> tuple[type[BaseException], ...]:
    # ONNX Runtime's errors derive from Exception directly; these are the ones loading and
    # running a model raise (missing/corrupt file, bad graph, wrong input).
    state = ort.capi.onnxruntime_pybind11_state
    names = (
        "Fail",
        "InvalidArgument",
        "NoSuchFile",
        "NoModel",
        "EngineError",
        "RuntimeException",
        "InvalidProtobuf",
        "ModelLoaded",
        "NotImplemented",
        "InvalidGraph",
        "EPFail",
    )
    found = tuple(getattr(state, n) for n in names if isinstance(getattr(state, n, None), type))
    return (*found, RuntimeError)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A letterboxed input tensor and the letterbox that maps its boxes back."""

    tensor: Tensor
    letterbox: Letterbox


def _dim(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


class OnnxDetector:
    """A YOLO model run by ONNX Runtime; implements :class:`~camwall.detect.base.StagedDetector`."""

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        labels: str | os.PathLike[str] | tuple[str, ...] | None = None,
        score_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        input_size: int = 640,
        threads: int | None = None,
        max_detections: int = 300,
        stride: int = 32,
    ) -> None:
        """Load ``model``; raises ModelLoadError, ModelLayoutError or MissingExtraError."""
        if not 0.0 <= score_threshold <= 1.0:
            raise ValueError(f"score_threshold must be between 0 and 1, not {score_threshold}")
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1], not {iou_threshold}")
        if input_size < stride or input_size % stride:
            raise ValueError(f"input_size must be a multiple of {stride}, not {input_size}")
        ort = _import_ort()
        self.path = Path(model)
        if not self.path.is_file():
            hint = "" if self.path.suffix else " (fetch one with: camwall model fetch yolox_nano)"
            raise ModelLoadError(f"model file not found: {self.path}{hint}")
        self.score_threshold = score_threshold
        self.iou_threshold = iou_threshold
        self.input_size = input_size
        self.max_detections = max_detections
        self.stride = stride
        self.threads = threads or default_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: ORT's warnings go to stderr, not logging
        try:
            self._session: onnxruntime.InferenceSession = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except _ort_errors(ort) as exc:
            raise ModelLoadError(
                f"cannot load ONNX model {self.path}: {exc}".strip()
                + " (is it a complete .onnx file? re-export or re-download it)"
            ) from None
        self._check_input()
        self._output_name = self._session.get_outputs()[0].name
        self._labels_given = labels is not None
        self.labels = self._resolve_labels(labels)
        self._layouts: dict[tuple[int, ...], tuple[Layout, int]] = {}
        self.plan: OutputPlan | None = None
        #: The input tensor of the last prepare, refilled by the next one when it is free.
        self._tensor: Tensor | None = np.empty(0, np.float32)
        self._tensor_for: tuple[Letterbox, bool] | None = None
        # What _spare_refs counts for a tensor only the attribute holds, measured rather than
        # assumed: how many references the interpreter itself adds differs between versions.
        self._free_refs = self._spare_refs()
        self._tensor = None
        self._check_static_output()
        log.info(
            "loaded %s: input %s, %d labels, %d thread(s)",
            self.path.name,
            self._session.get_inputs()[0].shape,
            len(self.labels),
            self.threads,
        )

    # -- model inspection ----------------------------------------------------------------

    def _check_input(self) -> None:
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            names = [i.name for i in inputs]
            raise ModelLayoutError(
                f"{self.path}: expected one image input, the model has {len(inputs)}: {names}"
            )
        inp = inputs[0]
        shape = list(inp.shape)
        if len(shape) != 4 or _dim(shape[1]) not in (3, None):
            raise ModelLayoutError(
                f"{self.path}: input {inp.name!r} has shape {shape}; expected N×3×H×W"
            )
        if inp.type not in ("tensor(float)", "tensor(float16)"):
            raise ModelLayoutError(
                f"{self.path}: input {inp.name!r} is {inp.type}; expected float or float16"
            )
        self._input_name = inp.name
        self._input_dtype: type[np.floating] = (
            np.float16 if inp.type == "tensor(float16)" else np.float32
        )
        self.input_h, self.input_w = _dim(shape[2]), _dim(shape[3])

    def _resolve_labels(
        self, labels: str | os.PathLike[str] | tuple[str, ...] | None
    ) -> tuple[str, ...]:
        if isinstance(labels, tuple):
            return labels
        if labels is not None:
            return load_labels(Path(labels))
        meta = self._session.get_modelmeta().custom_metadata_map
        from_meta = labels_from_metadata(meta.get("names"))
        if from_meta:
            self._labels_given = True
            return from_meta
        return COCO80

    def _check_static_output(self) -> None:
        outputs = [(o.name, tuple(_dim(d) for d in o.shape)) for o in self._session.get_outputs()]
        try:
            plan = plan_outputs(outputs, None, (self.input_h, self.input_w))
        except ModelLayoutError as exc:
            raise ModelLayoutError(f"{self.path}: {exc}") from None
        if plan is not None and plan.layout.nms_included:
            self.plan = plan
        elif plan is not None:
            layout, classes = self._layout_for(tuple(int(d or 0) for d in outputs[0][1]))
            self.plan = OutputPlan(layout, classes, plan.outputs)

    @property
    def layout(self) -> Layout | None:
        """The output layout (None for a dynamic output not yet run)."""
        if self.plan is not None:
            return self.plan.layout
        return next(iter(self._layouts.values()))[0] if self._layouts else None

    @property
    def classes(self) -> int | None:
        """Classes the output has (None: unknown, e.g. NMS outputs or not yet run)."""
        if self.plan is not None:
            return self.plan.classes or None
        return next(iter(self._layouts.values()))[1] if self._layouts else None

    @property
    def session(self) -> onnxruntime.InferenceSession:
        """The ONNX Runtime session (to inspect inputs and outputs)."""
        return self._session

    def _layout_for(self, shape: tuple[int, ...]) -> tuple[Layout, int]:
        found = self._layouts.get(shape)
        if found is not None:
            return found
        known = len(self.labels)
        try:
            layout, classes = choose_layout(shape, known, (self.input_h, self.input_w))
        except ModelLayoutError as exc:
            raise ModelLayoutError(f"{self.path}: {exc}") from None
        if classes != known and layout is not Layout.END2END:
            if self._labels_given:
                raise ModelLayoutError(
                    f"{self.path}: output shape {shape} means {classes} classes ({layout.value} "
                    f"layout) but {known} labels were given; pass the labels file that "
                    "belongs to this model"
                )
            log.warning(
                "%s: output %s has %d classes, not COCO's 80; pass a labels file to name them",
                self.path.name,
                shape,
                classes,
            )
        log.debug(
            "%s: output %s read as %s with %d classes", self.path.name, shape, layout.value, classes
        )
        self._layouts[shape] = (layout, classes)
        return layout, classes

    # -- Detector ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The model file's stem, e.g. ``yolov8n``."""
        return self.path.stem

    @property
    def _yolox(self) -> bool:
        return self.layout is Layout.YOLOX

    def letterbox_for(self, width: int, height: int) -> Letterbox:
        """The letterbox a width×height frame gets."""
        return plan_letterbox(
            width,
            height,
            self.input_h,
            self.input_w,
            size=self.input_size,
            stride=self.stride,
            centre=not self._yolox,
        )

    def _spare_refs(self) -> int:
        """References to the last input tensor (0 if there is none)."""
        spare = self._tensor
        return 0 if spare is None else sys.getrefcount(spare)

    def prepare(self, image: Image) -> Prepared:
        """Letterbox ``image`` into an input tensor of this model."""
        check_image(image)
        lb = self.letterbox_for(image.shape[1], image.shape[0])
        # Refill the last tensor only if nothing else holds it (its Prepared, or a view of it,
        # is gone): the worker's steady state, where a frame then allocates nothing.
        spare = self._tensor if self._spare_refs() <= self._free_refs else None
        # Its padding is still grey if the frame sits where the last one did.
        padded = spare is not None and self._tensor_for == (lb, self._yolox)
        tensor = letterbox(
            image, lb, self._input_dtype, yolox=self._yolox, out=spare, padded=padded
        )
        self._tensor, self._tensor_for = tensor, (lb, self._yolox)
        return Prepared(tensor, lb)

    def infer(self, prepared: Prepared) -> Detections:
        """Run the model and decode its output into source-frame detections."""
        names = list(self.plan.outputs) if self.plan is not None else [self._output_name]
        try:
            outputs = self._session.run(names, {self._input_name: prepared.tensor})
        except _ort_errors(_import_ort()) as exc:
            raise ModelLayoutError(
                f"{self.path}: inference failed on a {prepared.tensor.shape} input: {exc}"
            ) from None
        lb = prepared.letterbox
        if self.plan is not None and self.plan.layout is Layout.NMS:
            boxes = np.asarray(outputs[0], np.float32).reshape(-1, 4)
            scores = np.asarray(outputs[1], np.float32).reshape(-1)
            class_ids = np.asarray(outputs[2]).reshape(-1).round().astype(np.int32)
            keep = scores >= self.score_threshold
            return to_detections(boxes[keep], scores[keep], class_ids[keep], lb, self.labels)
        output = np.asarray(outputs[0], np.float32)
        layout, _ = self._layout_for(tuple(output.shape))
        if layout is Layout.END2END:
            boxes, scores, class_ids = end2end_rows(output, self.score_threshold)
            return to_detections(boxes, scores, class_ids, lb, self.labels)
        if layout is Layout.YOLOX:
            output = yolox_to_v5(output, lb.dst_h, lb.dst_w)
        boxes, scores, class_ids = decode(
            output,
            layout,
            score_threshold=self.score_threshold,
            iou_threshold=self.iou_threshold,
            max_detections=self.max_detections,
        )
        return to_detections(boxes, scores, class_ids, lb, self.labels)

    def detect(self, image: Image) -> Detections:
        """Detections in ``image``'s pixels."""
        return self.infer(self.prepare(image))

    def warm_up(self) -> None:
        """One inference on a grey frame: allocates buffers and settles the output layout."""
        h = self.input_h or self.input_size
        w = self.input_w or self.input_size
        self.detect(np.full((h, w, 3), 114, np.uint8))
