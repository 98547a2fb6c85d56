"""Detection accuracy on a labelled clip, by wall layout: tile-sized frames vs a fixed detect size.

The clip (camwall.testing.labelled_clip, made at run time) is 1920×1080 with three people
walking through at different sizes, with known face and person boxes. For a wall of 1, 4 and
16 tiles (1920, 960 and 480 pixels wide), each detector runs

* ``tile``: on the frame scaled to the tile — what camwall did before the detect size
  (the detector "sees what the tile shows");
* ``fixed``: on the frame scaled to the camera's detect size (640×360 by default,
  camwall.detect.detect_size) — the same whatever the layout.

Boxes are mapped back to frame pixels and matched to the truth (IoU ≥ 0.5, one to one).
Reported per detector, mode and layout: precision, recall, "appeared" events of the IoU
tracker (the clip has 3 people) and, for ``fixed``, the largest box difference from the
1-tile run (must be 0: results do not depend on the layout).

Detectors: the built-in Haar face detector (truth: faces) and, when an ONNX model is given or
found in the models folder (``camwall model fetch yolox_nano``), that model (truth: persons).

    .venv/bin/python bench/detect_accuracy.py [--frames 120] [--model PATH]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camwall.detect import (
    Detections,
    Detector,
    HaarFaceDetector,
    IoUTracker,
    TrackerConfig,
    box_iou,
    detect_size,
)
from camwall.detect.model_store import list_models, models_dir
from camwall.testing.labelled_clip import LabelledClip, Truth

LAYOUTS = (1, 4, 16)
FPS = 10.0


@dataclass
class Score:
    """Counts for one detector × mode × layout."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    events: int = 0
    max_box_diff: float = 0.0
    ms: float = 0.0

    @property
    def precision(self) -> float:
        return self.tp / max(1, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)


def run_on(detector: Detector, frame: np.ndarray, size: tuple[int, int]) -> Detections:
    """Detections of ``frame`` scaled to ``size``, in frame pixels."""
    h, w = frame.shape[:2]
    small = frame if size == (w, h) else cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return detector.detect(small).scale(w / size[0], h / size[1])


def match(dets: Detections, truth: list[Truth], kind: str) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) at IoU ≥ 0.5, greedy one to one."""
    boxes = np.array([getattr(t, kind) for t in truth], np.float32).reshape(-1, 4)
    iou = box_iou(dets.boxes, boxes)
    tp = 0
    used_d: set[int] = set()
    used_t: set[int] = set()
    for flat in np.argsort(-iou, axis=None):
        d, t = np.unravel_index(flat, iou.shape)
        if iou[d, t] < 0.5:
            break
        if d in used_d or t in used_t:
            continue
        used_d.add(int(d))
        used_t.add(int(t))
        tp += 1
    return tp, len(dets) - tp, len(truth) - tp


def evaluate(
    clip: LabelledClip, detector: Detector, label: str, kind: str, step: int = 1
) -> dict[tuple[str, int], Score]:
    """Scores for every mode × layout; each frame is rendered once and run through all of them."""
    fixed = detect_size(clip.width, clip.height)
    runs = [(mode, tiles) for mode in ("tile", "fixed") for tiles in LAYOUTS]
    scores = {run: Score() for run in runs}
    trackers = {
        run: IoUTracker("clip", TrackerConfig(history=3, max_missed=5), ids=iter(range(1, 10**6)))
        for run in runs
    }
    n = len(range(0, len(clip), step))
    for i, frame, truth in clip.every(step):
        reference: Detections | None = None
        for mode, tiles in runs:
            side = round(tiles**0.5)
            size = (clip.width // side, clip.height // side) if mode == "tile" else fixed
            score = scores[(mode, tiles)]
            t0 = time.perf_counter()
            dets = run_on(detector, frame, size)
            score.ms += (time.perf_counter() - t0) * 1000 / n
            dets = dets.filter(np.array([lbl == label for lbl in dets.labels], np.bool_))
            tp, fp, fn = match(dets, truth, kind)
            score.tp, score.fp, score.fn = score.tp + tp, score.fp + fp, score.fn + fn
            events = trackers[(mode, tiles)].update(dets, seq=i, now=i / FPS)
            score.events += sum(e.kind == "appeared" for e in events)
            if mode == "fixed":
                if reference is None:
                    reference = dets
                elif len(dets) != len(reference):
                    score.max_box_diff = float("inf")
                elif len(dets):
                    diff = float(np.abs(dets.boxes - reference.boxes).max())
                    score.max_box_diff = max(score.max_box_diff, diff)
    return scores


def find_model(given: Path | None) -> Path | None:
    """The ONNX model to use: ``--model``, else yolox_nano (or any) in the models folder."""
    if given is not None:
        return given
    found = [m for m in list_models(models_dir()) if not isinstance(m, Path)]
    for info in found:
        if info.name == "yolox_nano":
            return models_dir() / info.file
    return models_dir() / found[0].file if found else None


def table(rows: list[tuple[str, str, int, Score]], clip: LabelledClip) -> str:
    """A Markdown table of the results."""
    fixed = detect_size(clip.width, clip.height)
    out = [
        "| detector | mode | tiles | detector input | precision | recall | appeared (truth 3) "
        "| max box Δ vs 1 tile (px) | ms/frame |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, mode, tiles, s in rows:
        side = round(tiles**0.5)
        size = (clip.width // side, clip.height // side) if mode == "tile" else fixed
        delta = "—" if mode == "tile" or tiles == 1 else f"{s.max_box_diff:.1f}"
        out.append(
            f"| {name} | {mode} | {tiles} | {size[0]}×{size[1]} | {s.precision:.2f} "
            f"| {s.recall:.2f} | {s.events} | {delta} | {s.ms:.1f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=120, help="clip length (10 fps)")
    parser.add_argument("--step", type=int, default=2, help="evaluate every STEP-th frame")
    parser.add_argument("--model", type=Path, default=None, help="an ONNX detector (COCO labels)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    clip = LabelledClip(frames=args.frames)
    detectors: list[tuple[str, Any, str, str]] = [("haar-face", HaarFaceDetector(), "face", "face")]
    model = find_model(args.model)
    note = "ONNX: no model given or in the models folder (camwall model fetch yolox_nano)"
    if model is not None and model.is_file():
        from camwall.detect.yolo_onnx import OnnxDetector

        detectors.append((model.stem, OnnxDetector(model, threads=1), "person", "person"))
        note = f"ONNX: {model}"
    rows: list[tuple[str, str, int, Score]] = []
    for name, det, label, kind in detectors:
        det.warm_up()
        for (mode, tiles), score in evaluate(clip, det, label, kind, args.step).items():
            rows.append((name, mode, tiles, score))
    print(
        f"Labelled clip {clip.width}×{clip.height}, {len(clip)} frames at {FPS:g} fps, every "
        f"{args.step}. evaluated, 3 people; "
        f"{platform.processor() or platform.machine()}, Python {sys.version.split()[0]}"
    )
    print(note)
    print()
    print(table(rows, clip))
    print()
    print("ms/frame: scale + detect, on a shared machine; compare within one run only.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
