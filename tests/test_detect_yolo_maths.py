"""The fast letterbox, its reused tensor and the output decode match the plain versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import pytest

from camwall.detect.model_layout import Layout
from camwall.detect.yolo import PAD_VALUE, Letterbox, decode, letterbox, plan_letterbox
from camwall.detect.yolo_onnx import OnnxDetector
from support.onnx_models import constant_model


def reference_letterbox(
    image: np.ndarray[Any, Any], lb: Letterbox, dtype: Any, *, yolox: bool
) -> np.ndarray[Any, Any]:
    """The former implementation: a full uint8 canvas, then one conversion of all of it."""
    if (lb.new_w, lb.new_h) == (image.shape[1], image.shape[0]):
        resized = image
    else:
        resized = cv2.resize(image, (lb.new_w, lb.new_h), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((3, lb.dst_h, lb.dst_w), PAD_VALUE, np.uint8)
    inner = canvas[:, lb.top : lb.top + lb.new_h, lb.left : lb.left + lb.new_w]
    for c in range(3):
        inner[c] = resized[:, :, c if yolox else 2 - c]
    tensor = np.empty((1, 3, lb.dst_h, lb.dst_w), dtype)
    scale = np.float32(1.0 if yolox else 1.0 / 255.0)
    np.multiply(canvas, scale, out=tensor[0], casting="unsafe")
    return tensor


def reference_v8_candidates(
    output: np.ndarray[Any, Any], threshold: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The former V8 thresholding: argmax over the whole class block, then the threshold."""
    out = output[0]
    cls = out[4:]
    ids = cls.argmax(axis=0)
    scores = cls[ids, np.arange(cls.shape[1])]
    keep = np.flatnonzero(scores >= threshold)
    return out[:4, keep].T, scores[keep], ids[keep]


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("yolox", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize(
    ("size", "inp"),
    [
        ((640, 360), (640, 640)),  # the detect size: no resize, padding above and below
        ((1280, 720), (640, 640)),  # resized
        ((300, 500), (640, 640)),  # upscaled, padding left and right
        ((641, 359), (None, None)),  # dynamic input, stride-aligned padding
        ((640, 640), (640, 640)),  # no padding at all
    ],
)
def test_letterbox_equals_the_canvas_version(
    channels: int,
    yolox: bool,
    dtype: Any,
    size: tuple[int, int],
    inp: tuple[int | None, int | None],
) -> None:
    rng = np.random.default_rng(7)
    w, h = size
    image = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
    lb = plan_letterbox(w, h, inp[0], inp[1], centre=not yolox)
    got = letterbox(image, lb, dtype, yolox=yolox)
    want = reference_letterbox(image, lb, dtype, yolox=yolox)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_letterbox_of_views_of_shared_layouts() -> None:
    """Row-padded frames (a ring slot's stride) and channel views letterbox like copies."""
    rng = np.random.default_rng(8)
    padded = rng.integers(0, 256, (360, 700, 4), dtype=np.uint8)
    view = padded[:, :640]  # rows 700 pixels apart, as a ring slot with a wider stride
    lb = plan_letterbox(640, 360, 640, 640)
    np.testing.assert_array_equal(letterbox(view, lb), letterbox(view.copy(), lb))
    bgr = padded[:, :640, :3]  # pixels 4 bytes apart with 3 channels
    np.testing.assert_array_equal(letterbox(bgr, lb), letterbox(bgr.copy(), lb))
    grey = np.float32(PAD_VALUE) * np.float32(1.0 / 255.0)
    assert np.all(letterbox(view, lb)[0, :, :140] == grey)


def v8_output(rng: np.random.Generator, classes: int = 80, n: int = 6400) -> np.ndarray[Any, Any]:
    """A V8 output with scattered confident boxes, ties between classes and a NaN column."""
    out = np.empty((1, 4 + classes, n), np.float32)
    centres = rng.uniform(20, 620, (2, n))
    sizes = rng.uniform(4, 80, (2, n))
    out[0, :2], out[0, 2:4] = centres, sizes
    out[0, 4:] = rng.uniform(0, 0.2, (classes, n))
    hot = rng.choice(n, 300, replace=False)
    out[0, 4 + rng.integers(0, classes, 300), hot] = rng.uniform(0.2, 1.0, 300)
    out[0, 4 + 3, hot[:20]] = out[0, 4 + 5, hot[:20]] = 0.9  # ties: the lower class wins
    out[0, 4 + 7, hot[20]] = np.nan
    return cast(np.ndarray[Any, Any], out)


@pytest.mark.parametrize("threshold", [0.25, 0.5, 0.95])
def test_v8_decode_keeps_the_same_boxes(threshold: float) -> None:
    out = v8_output(np.random.default_rng(int(threshold * 100)))
    cxcywh, scores, ids = reference_v8_candidates(out, threshold)
    # The reference's NMS, run on the reference candidates.
    xywh = np.empty_like(cxcywh, dtype=np.float64)
    xywh[:, :2] = cxcywh[:, :2] - cxcywh[:, 2:] / 2
    xywh[:, 2:] = cxcywh[:, 2:]
    kept = cv2.dnn.NMSBoxesBatched(
        cast(Any, xywh),
        cast(Any, scores.astype(np.float32)),
        cast(Any, ids.astype(np.int32)),
        threshold,
        0.45,
        top_k=300,
    )
    idx = np.asarray(kept, np.intp).reshape(-1)
    boxes, got_scores, got_ids = decode(
        out, Layout.V8, score_threshold=threshold, iou_threshold=0.45, max_detections=300
    )
    assert len(boxes) == len(idx)
    if threshold < 0.9:
        assert len(boxes) > 0
    np.testing.assert_array_equal(got_ids, ids[idx])
    np.testing.assert_array_equal(got_scores, scores[idx])
    want = np.concatenate([xywh[idx, :2], xywh[idx, :2] + xywh[idx, 2:]], axis=1)
    np.testing.assert_array_equal(boxes, want.astype(np.float32))
    if threshold < 0.9:  # of the tied columns, the lower class is reported
        tied = got_scores == np.float32(0.9)
        assert tied.any() and 5 not in got_ids[tied].tolist()


def test_v8_decode_of_nothing_above_threshold() -> None:
    out = np.zeros((1, 84, 100), np.float32)
    boxes, scores, ids = decode(out, Layout.V8, score_threshold=0.25, iou_threshold=0.45)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and ids.shape == (0,)


def test_prepare_refills_its_tensor_only_when_nothing_holds_it(tmp_path: Path) -> None:
    det = OnnxDetector(constant_model(tmp_path / "m.onnx", np.zeros((1, 84, 8400), np.float32)))
    rng = np.random.default_rng(9)
    one, two = (rng.integers(0, 256, (360, 640, 4), dtype=np.uint8) for _ in range(2))
    want_one = letterbox(one, det.letterbox_for(640, 360))
    want_two = letterbox(two, det.letterbox_for(640, 360))
    first = det.prepare(one)
    second = det.prepare(two)  # the first is still held: it keeps its tensor and content
    assert second.tensor is not first.tensor
    np.testing.assert_array_equal(first.tensor, want_one)
    np.testing.assert_array_equal(second.tensor, want_two)
    last = second.tensor.ctypes.data
    del first, second
    refilled = det.prepare(one)  # nothing holds the last tensor now: refilled, not new
    assert refilled.tensor.ctypes.data == last
    np.testing.assert_array_equal(refilled.tensor, want_one)
    view = refilled.tensor[0]
    del refilled
    det.prepare(two)  # a view still reads the last tensor: a new one, the view unchanged
    np.testing.assert_array_equal(view, want_one[0])


def test_a_refilled_tensor_gets_the_padding_of_its_frame(tmp_path: Path) -> None:
    """Frames of other sizes, padded elsewhere, into the same reused tensor."""
    det = OnnxDetector(constant_model(tmp_path / "m.onnx", np.zeros((1, 84, 8400), np.float32)))
    rng = np.random.default_rng(10)
    sizes = [(640, 360), (640, 360), (300, 500), (640, 360), (1280, 720), (640, 640)]
    addresses = set()
    for w, h in sizes:
        image = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        prepared = det.prepare(image)
        addresses.add(prepared.tensor.ctypes.data)
        got = prepared.tensor.copy()
        del prepared  # nothing holds the tensor: the next prepare refills it
        np.testing.assert_array_equal(got, letterbox(image, det.letterbox_for(w, h)))
    assert len(addresses) == 1
