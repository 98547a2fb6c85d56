"""YOLOX, NMS-included (end2end and boxes/scores/classes) layouts, on tiny real ONNX models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camwall.detect.model_layout import Layout, choose_layout, plan_outputs
from camwall.detect.yolo_onnx import OnnxDetector
from camwall.errors import ModelLayoutError
from support.onnx_models import (
    constant_model,
    constant_outputs_model,
    letterbox_params,
    yolox_output,
)

W, H = 832, 468  # 2× the 416 input wide: r = 0.5, the frame fills the top 234 rows
TRUTH = np.array([[100, 50, 300, 400], [500, 100, 800, 300]], np.float64)


def frame(channels: int = 3) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 255, (H, W, channels), dtype=np.uint8)


def test_yolox_release_layout_is_recognised_and_decoded(tmp_path: Path) -> None:
    r = 416 / W
    # YOLOX pads at the bottom/right: no offset, the frame starts at (0, 0).
    out = yolox_output(TRUTH * r, [0, 2], [0.9, 0.8], [0.95, 0.9])
    assert out.shape == (1, 3549, 85)
    det = OnnxDetector(constant_model(tmp_path / "yolox_nano.onnx", out, input_hw=(416, 416)))
    assert det.layout is Layout.YOLOX
    # BGR planes, 0..255, frame at the top-left, grey 114 below.
    solid = det.prepare(np.full((H, W, 3), (10, 20, 30), np.uint8))
    assert solid.letterbox.top == 0 and solid.letterbox.left == 0
    np.testing.assert_allclose(solid.tensor[0, :, 0, 0], [10, 20, 30])
    np.testing.assert_allclose(solid.tensor[0, :, 233, 415], [10, 20, 30])
    assert np.allclose(solid.tensor[0, :, 234:, :], 114)
    dets = det.detect(frame())
    assert dets.labels == ("person", "car")
    np.testing.assert_allclose(dets.scores, [0.9 * 0.95, 0.8 * 0.9], atol=1e-5)
    np.testing.assert_allclose(dets.boxes, TRUTH, atol=1.0)


def test_end2end_output_is_used_as_it_is(tmp_path: Path) -> None:
    r, left, top = letterbox_params(W, H)
    rows = np.zeros((1, 300, 6), np.float32)
    for i, (box, score, cls) in enumerate(zip(TRUTH, [0.9, 0.2], [0, 16], strict=True)):
        rows[0, i, :4] = box * r + [left, top, left, top]
        rows[0, i, 4:] = [score, cls]
    det = OnnxDetector(constant_model(tmp_path / "yolov10n.onnx", rows), score_threshold=0.25)
    assert det.layout is Layout.END2END
    dets = det.detect(frame())
    assert dets.labels == ("person",)
    np.testing.assert_allclose(dets.boxes[0], TRUTH[0], atol=1.0)


def test_boxes_scores_classes_outputs(tmp_path: Path) -> None:
    r, left, top = letterbox_params(W, H)
    boxes = np.zeros((1, 100, 4), np.float32)
    boxes[0, :2] = TRUTH * r + [left, top, left, top]
    scores = np.zeros((1, 100), np.float32)
    scores[0, :2] = [0.7, 0.6]
    classes = np.zeros((1, 100), np.float32)
    classes[0, :2] = [2, 16]
    path = constant_outputs_model(
        tmp_path / "nms.onnx",
        {
            "num_dets": np.array([[2]]),
            "det_boxes": boxes,
            "det_scores": scores,
            "det_classes": classes,
        },
    )
    det = OnnxDetector(path)
    assert det.layout is Layout.NMS
    dets = det.detect(frame(4))
    assert dets.labels == ("car", "dog")
    np.testing.assert_allclose(dets.boxes, TRUTH, atol=1.0)


@pytest.mark.parametrize(
    ("shape", "hw", "layout", "classes"),
    [
        ((1, 84, 8400), (640, 640), Layout.V8, 80),
        ((1, 25200, 85), (640, 640), Layout.V5, 80),
        ((1, 8400, 85), (640, 640), Layout.YOLOX, 80),
        ((1, 3549, 85), (416, 416), Layout.YOLOX, 80),
        ((1, 300, 6), (640, 640), Layout.END2END, 0),
        ((1, 25200, 6), (640, 640), Layout.V5, 1),  # a one-class YOLOv5, not NMS output
    ],
)
def test_choose_layout(
    shape: tuple[int, ...], hw: tuple[int, int], layout: Layout, classes: int
) -> None:
    assert choose_layout(shape, None, hw) == (layout, classes)


def test_unknown_outputs_are_refused_with_the_reason() -> None:
    with pytest.raises(ModelLayoutError, match="expected one YOLO output"):
        plan_outputs([("a", (1, 10)), ("b", (1, 10))], None)
    with pytest.raises(ModelLayoutError, match=r"1×\(4\+C\)×N"):
        plan_outputs([("logits", (1, 1000))], None)


def test_a_segmentation_export_is_refused() -> None:
    outputs = [("output0", (1, 116, 8400)), ("output1", (1, 32, 160, 160))]
    with pytest.raises(ModelLayoutError, match="segmentation"):
        plan_outputs(outputs, None, (640, 640))
