"""The ONNX Runtime YOLO backend, end to end on real (tiny, constant-output) ONNX models."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from camwall.detect import Detections
from camwall.detect.yolo_onnx import OnnxDetector
from camwall.errors import MissingExtraError, ModelLayoutError, ModelLoadError
from support.onnx_models import (
    constant_model,
    letterbox_params,
    to_model_space,
    yolov5_output,
    yolov8_output,
)


def frame(width: int, height: int, channels: int = 3) -> np.ndarray:
    """A noisy frame of the given size (content is irrelevant to constant models)."""
    rng = np.random.default_rng(width * height)
    return rng.integers(0, 255, (height, width, channels), dtype=np.uint8)


def by_label(dets: Detections) -> dict[tuple[str, float], np.ndarray]:
    return {
        (label, round(float(s), 3)): box
        for label, s, box in zip(dets.labels, dets.scores, dets.boxes, strict=True)
    }


# Frame-space truth for a 1000×563 frame: a person, a near-duplicate of it (NMS must drop
# it), a car on the very same box (another class: NMS must keep it), a dog, and one below
# the score threshold.
W1, H1 = 1000, 563
TRUTH_V8 = np.array(
    [
        [100, 50, 300, 400],
        [104, 54, 303, 404],
        [100, 50, 300, 400],
        [600, 200, 950, 550],
        [400, 100, 500, 200],
    ],
    np.float64,
)
CLASSES_V8 = [0, 0, 2, 16, 0]
SCORES_V8 = [0.9, 0.8, 0.7, 0.6, 0.1]


@pytest.mark.parametrize("channels", [3, 4], ids=["bgr", "bgra"])
def test_yolov8_fixed_input_boxes_back_in_frame_pixels(tmp_path: Path, channels: int) -> None:
    r, left, top = letterbox_params(W1, H1)
    out = yolov8_output(to_model_space(TRUTH_V8, r, left, top), CLASSES_V8, SCORES_V8)
    det = OnnxDetector(constant_model(tmp_path / "yolov8n.onnx", out), score_threshold=0.25)
    assert det.name == "yolov8n"
    dets = det.detect(frame(W1, H1, channels))
    found = by_label(dets)
    assert set(found) == {("person", 0.9), ("car", 0.7), ("dog", 0.6)}
    np.testing.assert_allclose(found[("person", 0.9)], TRUTH_V8[0], atol=1.0)
    np.testing.assert_allclose(found[("car", 0.7)], TRUTH_V8[2], atol=1.0)
    np.testing.assert_allclose(found[("dog", 0.6)], TRUTH_V8[3], atol=1.0)
    assert dets.class_ids.tolist() == [0, 2, 16]  # NMS output is ordered by score


def test_thresholds_apply(tmp_path: Path) -> None:
    r, left, top = letterbox_params(W1, H1)
    out = yolov8_output(to_model_space(TRUTH_V8, r, left, top), CLASSES_V8, SCORES_V8)
    path = constant_model(tmp_path / "m.onnx", out)
    strict = OnnxDetector(path, score_threshold=0.65)
    assert sorted(strict.detect(frame(W1, H1)).labels) == ["car", "person"]
    lenient = OnnxDetector(path, score_threshold=0.05, iou_threshold=0.99)
    # NMS at IoU 0.99 keeps the near-duplicate; threshold 0.05 keeps the 0.1 person.
    scores = sorted(lenient.detect(frame(W1, H1)).scores.tolist())
    np.testing.assert_allclose(scores, [0.1, 0.6, 0.7, 0.8, 0.9], atol=1e-6)


def test_yolov5_layout_scores_are_objectness_times_class(tmp_path: Path) -> None:
    w, h = 333, 777
    truth = np.array([[10, 20, 200, 300], [15, 25, 205, 305], [50, 500, 320, 770], [0, 0, 50, 50]])
    r, left, top = letterbox_params(w, h)
    out = yolov5_output(
        to_model_space(truth, r, left, top),
        [0, 0, 5, 7],
        objectness=[0.95, 0.9, 0.8, 0.9],
        class_scores=[0.9, 0.7, 0.75, 0.2],  # last: 0.9 × 0.2 = 0.18 < 0.25
    )
    det = OnnxDetector(constant_model(tmp_path / "yolov5n.onnx", out))
    dets = det.detect(frame(w, h))
    found = by_label(dets)
    assert set(found) == {("person", round(0.95 * 0.9, 3)), ("bus", 0.6)}
    np.testing.assert_allclose(found[("person", 0.855)], truth[0], atol=1.0)
    np.testing.assert_allclose(found[("bus", 0.6)], truth[2], atol=1.0)


def test_dynamic_input_is_stride_aligned(tmp_path: Path) -> None:
    # 1000×563 scaled to 640 wide is 640×360; with dynamic dims it is padded only to 384.
    r, left, top = letterbox_params(W1, H1, 640, 384)
    assert top == 12
    out = yolov8_output(to_model_space(TRUTH_V8[:1], r, left, top), [0], [0.9])
    path = constant_model(tmp_path / "dyn.onnx", out, input_hw=("height", "width"))
    det = OnnxDetector(path)
    prepared = det.prepare(frame(W1, H1))
    assert prepared.tensor.shape == (1, 3, 384, 640)
    assert prepared.tensor.dtype == np.float32
    # Padding rows are grey 114 (as 0..1), image rows are the frame.
    assert np.allclose(prepared.tensor[0, :, :12, :], 114 / 255)
    dets = det.infer(prepared)
    assert dets.labels == ("person",)
    np.testing.assert_allclose(dets.boxes[0], TRUTH_V8[0], atol=1.0)


def test_letterbox_tensor_is_rgb_of_the_frame(tmp_path: Path) -> None:
    out = yolov8_output(np.zeros((0, 4)), [], [])
    det = OnnxDetector(constant_model(tmp_path / "m.onnx", out))
    img = np.zeros((320, 640, 4), np.uint8)
    img[..., 0], img[..., 1], img[..., 2], img[..., 3] = 10, 20, 30, 255  # B, G, R, A
    t = det.prepare(img).tensor
    assert t.shape == (1, 3, 640, 640)
    # 640×320 needs no scaling; it sits centred with 160 rows of padding above and below.
    np.testing.assert_allclose(t[0, :, 320, 320] * 255, [30, 20, 10], atol=1e-3)
    np.testing.assert_allclose(t[0, :, 100, 320] * 255, [114, 114, 114], atol=1e-3)
    assert len(det.detect(img)) == 0


def test_boxes_are_clipped_to_the_frame(tmp_path: Path) -> None:
    r, left, top = letterbox_params(W1, H1)
    # A box that spills into the padding above and beyond the right edge.
    out = yolov8_output(to_model_space(np.array([[900, -60, 1100, 100]]), r, left, top), [0], [0.9])
    dets = OnnxDetector(constant_model(tmp_path / "m.onnx", out)).detect(frame(W1, H1))
    np.testing.assert_allclose(dets.boxes[0], [900, 0, 1000, 100], atol=1.0)


def test_labels_file_and_metadata(tmp_path: Path) -> None:
    r, left, top = letterbox_params(W1, H1)
    cxcywh = to_model_space(TRUTH_V8[[0, 3]], r, left, top)
    out = yolov8_output(cxcywh, [0, 2], [0.9, 0.8], classes=3)
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\nfox\n\n")
    det = OnnxDetector(constant_model(tmp_path / "three.onnx", out), labels=labels)
    assert det.labels == ("cat", "dog", "fox")
    assert det.detect(frame(W1, H1)).labels == ("cat", "fox")
    # Ultralytics exports carry their class names in the model metadata.
    meta = constant_model(
        tmp_path / "meta.onnx", out, metadata={"names": "{0: 'ant', 1: 'bee', 2: 'cow'}"}
    )
    assert OnnxDetector(meta).detect(frame(W1, H1)).labels == ("ant", "cow")
    # Without either, a 3-class model still works; names fall back to COCO's.
    plain = OnnxDetector(constant_model(tmp_path / "plain.onnx", out))
    assert plain.detect(frame(W1, H1)).labels == ("person", "car")


def test_labels_that_do_not_fit_the_model(tmp_path: Path) -> None:
    out = yolov8_output(np.zeros((0, 4)), [], [], classes=3)
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\n")
    with pytest.raises(ModelLayoutError, match=r"3 classes.*2 labels"):
        OnnxDetector(constant_model(tmp_path / "three.onnx", out), labels=labels)
    with pytest.raises(ModelLoadError, match=r"nolabels\.txt"):
        OnnxDetector(tmp_path / "three.onnx", labels=tmp_path / "nolabels.txt")


@pytest.mark.parametrize(
    "shape",
    [(1, 84), (1, 3, 3), (2, 84, 100), (1, 84, 100, 1)],
    ids=["rank2", "too-few-channels", "batch2", "rank4"],
)
def test_unknown_output_layout(tmp_path: Path, shape: tuple[int, ...]) -> None:
    path = constant_model(tmp_path / "odd.onnx", np.zeros(shape, np.float32))
    with pytest.raises(ModelLayoutError, match=r"odd\.onnx"):
        OnnxDetector(path)


def test_unknown_layout_of_a_symbolic_output_fails_by_warm_up(tmp_path: Path) -> None:
    path = constant_model(
        tmp_path / "odd.onnx", np.zeros((1, 3, 3), np.float32), output_shape=["a", "b", "c"]
    )
    # Whether ONNX Runtime infers the shape at load time or only when the model runs, the
    # detector refuses before it is put to work (warm_up runs the model once).
    with pytest.raises(ModelLayoutError, match="matches neither"):
        OnnxDetector(path).warm_up()


def test_missing_and_corrupt_model_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "yolov8n.onnx"
    with pytest.raises(ModelLoadError, match=re.escape(str(missing))):
        OnnxDetector(missing)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07this is not a protobuf" * 50)
    with pytest.raises(ModelLoadError, match=re.escape(str(corrupt))):
        OnnxDetector(corrupt)
    truncated = tmp_path / "truncated.onnx"
    good = constant_model(tmp_path / "good.onnx", yolov8_output(np.zeros((0, 4)), [], []))
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ModelLoadError, match=re.escape(str(truncated))):
        OnnxDetector(truncated)


def test_missing_onnxruntime_says_what_to_install(tmp_path: Path) -> None:
    path = constant_model(tmp_path / "m.onnx", yolov8_output(np.zeros((0, 4)), [], []))
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys
        class NoOrt(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "onnxruntime":
                    raise ImportError("no onnxruntime here")
        sys.meta_path.insert(0, NoOrt())
        import camwall.detect  # must import without onnxruntime
        from camwall.errors import MissingExtraError
        try:
            camwall.detect.OnnxDetector({str(path)!r})
        except MissingExtraError as exc:
            print("MISSING", exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert 'pip install "camwall[detect]"' in out.stdout
    assert issubclass(MissingExtraError, ImportError)


def test_warm_up_and_staged_equals_detect(tmp_path: Path) -> None:
    r, left, top = letterbox_params(W1, H1)
    out = yolov8_output(to_model_space(TRUTH_V8, r, left, top), CLASSES_V8, SCORES_V8)
    det = OnnxDetector(constant_model(tmp_path / "m.onnx", out), threads=1)
    det.warm_up()
    img = frame(W1, H1, 4)
    a, b = det.detect(img), det.infer(det.prepare(img))
    np.testing.assert_array_equal(a.boxes, b.boxes)
    assert a.labels == b.labels
