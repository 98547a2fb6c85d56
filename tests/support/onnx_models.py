"""Tiny ONNX models built at test time whose output is a known constant YOLO tensor.

The graph ignores the image numerically but depends on it structurally (ReduceMean of the
input, times zero, plus the constant), so ONNX Runtime accepts it as a real image model and
the letterboxed input tensor really flows through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

COCO_CLASSES = 80


def constant_model(
    path: Path,
    output: np.ndarray,
    *,
    input_hw: tuple[int | str, int | str] = (640, 640),
    metadata: dict[str, str] | None = None,
    output_shape: Sequence[int | str] | None = None,
) -> Path:
    """Write a model with one ``images`` input (1×3×H×W) whose output is always ``output``."""
    out = np.asarray(output, np.float32)
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, *input_hw])
    result = helper.make_tensor_value_info(
        "output0", TensorProto.FLOAT, list(output_shape or out.shape)
    )
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["constant", "nothing"], ["output0"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(out, "constant"),
    ]
    graph = helper.make_graph(nodes, "constant_yolo", [images], [result], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def letterbox_params(
    width: int, height: int, input_w: int = 640, input_h: int = 640
) -> tuple[float, float, float]:
    """Scale and padding (r, left, top) Ultralytics uses to fit width×height into the input."""
    r = min(input_w / width, input_h / height)
    new_w, new_h = round(width * r), round(height * r)
    return r, (input_w - new_w) / 2, (input_h - new_h) / 2


def to_model_space(boxes_xyxy: np.ndarray, r: float, left: float, top: float) -> np.ndarray:
    """Frame xyxy boxes → model-input cx, cy, w, h (N×4)."""
    b = np.asarray(boxes_xyxy, np.float64) * r + np.array([left, top, left, top])
    return np.stack(
        [(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]],
        axis=1,
    )


def yolov8_output(
    cxcywh: np.ndarray,
    class_ids: Sequence[int],
    scores: Sequence[float],
    *,
    classes: int = 80,
    anchors: int = 64,
) -> np.ndarray:
    """A 1×(4+C)×N tensor holding these boxes in its first columns, zeros elsewhere."""
    out = np.zeros((1, 4 + classes, anchors), np.float32)
    for i, (box, c, s) in enumerate(zip(cxcywh, class_ids, scores, strict=True)):
        out[0, :4, i] = box
        out[0, 4 + c, i] = s
    return out


def yolov5_output(
    cxcywh: np.ndarray,
    class_ids: Sequence[int],
    objectness: Sequence[float],
    class_scores: Sequence[float],
    *,
    classes: int = 80,
    anchors: int = 64,
) -> np.ndarray:
    """A 1×N×(5+C) tensor holding these boxes in its first rows, zeros elsewhere."""
    out = np.zeros((1, anchors, 5 + classes), np.float32)
    for i, (box, c, o, s) in enumerate(
        zip(cxcywh, class_ids, objectness, class_scores, strict=True)
    ):
        out[0, i, :4] = box
        out[0, i, 4] = o
        out[0, i, 5 + c] = s
    return out


def constant_outputs_model(
    path: Path,
    outputs: dict[str, np.ndarray],
    *,
    input_hw: tuple[int | str, int | str] = (640, 640),
) -> Path:
    """Like :func:`constant_model` with several named outputs (NMS-included exports)."""
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, *input_hw])
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
    ]
    inits = [numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    results = []
    for name, value in outputs.items():
        arr = np.asarray(value, np.float32)
        nodes.append(helper.make_node("Add", [f"{name}_const", "nothing"], [name]))
        inits.append(numpy_helper.from_array(arr, f"{name}_const"))
        results.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(arr.shape)))
    graph = helper.make_graph(nodes, "constant_nms", [images], results, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def yolox_output(
    boxes_xyxy_input: np.ndarray,
    class_ids: Sequence[int],
    objectness: Sequence[float],
    class_scores: Sequence[float],
    *,
    input_hw: tuple[int, int] = (416, 416),
    classes: int = 80,
) -> np.ndarray:
    """A raw YOLOX head output (1×cells×(5+C)): boxes (in input pixels) put on stride-8 cells."""
    h, w = input_hw
    cells = sum((h // s) * (w // s) for s in (8, 16, 32))
    out = np.zeros((1, cells, 5 + classes), np.float32)
    out[0, :, 2:4] = -10.0  # tiny boxes everywhere else
    for box, c, o, s in zip(boxes_xyxy_input, class_ids, objectness, class_scores, strict=True):
        x0, y0, x1, y1 = (float(v) for v in box)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        gx, gy = int(cx // 8), int(cy // 8)
        i = gy * (w // 8) + gx
        out[0, i, :4] = [cx / 8 - gx, cy / 8 - gy, np.log((x1 - x0) / 8), np.log((y1 - y0) / 8)]
        out[0, i, 4] = o
        out[0, i, 5 + c] = s
    return out
