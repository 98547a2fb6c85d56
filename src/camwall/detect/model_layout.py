"""Which detector family an ONNX model's outputs belong to, and how to decode each.

Recognised (anything else is refused with the reason):

* ``yolov8`` — Ultralytics YOLOv8 / YOLO11: one output ``1 × (4+C) × N``.
* ``yolov5`` — YOLOv5: one output ``1 × N × (5+C)`` (three anchors per grid cell).
* ``yolox`` — Megvii YOLOX as released (``yolox_nano.onnx`` …): one output ``1 × N × (5+C)``
  where N is exactly one anchor per cell of the stride 8/16/32 grids of the input, with the
  grid decode left out of the graph (``--decode_in_inference`` off, the release default).
  Its input is BGR 0..255 padded at the bottom/right, not RGB 0..1 centred.
* ``end2end`` — exports with NMS inside and one output ``1 × K × 6`` (x1, y1, x2, y2,
  score, class), e.g. YOLOv10 or an Ultralytics ``nms=True`` export.
* ``nms`` — exports with NMS inside and separate outputs: boxes ``1 × K × 4`` (xyxy),
  scores ``1 × K``, classes ``1 × K``, and optionally a detection count ``1 × 1``
  (TensorRT EfficientNMS-style end-to-end exports).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from camwall.errors import ModelLayoutError

Shape = tuple[int | None, ...]
Tensor = npt.NDArray[np.float32]
YOLOX_STRIDES = (8, 16, 32)
# NMS-included exports keep a few hundred detections; raw heads have thousands of anchors.
MAX_END2END = 1000


class Layout(enum.Enum):
    """Which output layout a model has."""

    V8 = "yolov8"  # 1 × (4+C) × N, also YOLO11
    V5 = "yolov5"  # 1 × N × (5+C)
    YOLOX = "yolox"  # 1 × N × (5+C), one anchor per grid cell, raw grid offsets
    END2END = "end2end"  # 1 × K × 6: x1 y1 x2 y2 score class, NMS done
    NMS = "nms"  # boxes 1×K×4, scores 1×K, classes 1×K (NMS done)

    @property
    def preprocess(self) -> str:
        """``yolox`` (BGR 0..255, padded bottom/right) or ``ultralytics`` (RGB 0..1, centred)."""
        return "yolox" if self is Layout.YOLOX else "ultralytics"

    @property
    def nms_included(self) -> bool:
        """Whether the model's outputs are final detections (no NMS to do here)."""
        return self in (Layout.END2END, Layout.NMS)


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How to read a model: the layout, its class count (None: unknown) and which outputs."""

    layout: Layout
    classes: int | None
    outputs: tuple[str, ...]


def grid_cells(input_h: int, input_w: int, strides: Sequence[int] = YOLOX_STRIDES) -> int:
    """Anchors of a one-anchor-per-cell head (YOLOX, YOLOv8) over an input_h×input_w input."""
    return sum((input_h // s) * (input_w // s) for s in strides)


def _static(shape: Shape) -> bool:
    return all(isinstance(d, int) and d > 0 for d in shape)


def choose_layout(
    shape: tuple[int, ...],
    num_classes: int | None,
    input_hw: tuple[int | None, int | None] = (None, None),
) -> tuple[Layout, int]:
    """The layout and class count of a single output of ``shape``; ModelLayoutError if none fits.

    With a known class count the layout is the one whose channel axis is 4+C (v8) or 5+C
    (v5/YOLOX). A shape can satisfy both (1 × (4+C) × (5+C)); real exports have thousands of
    boxes, so such a model is a toy either way and we read it as YOLOv8. With an unknown
    class count the channel axis is taken to be the shorter one. A ``1 × N × (5+C)`` output
    with exactly one anchor per grid cell of the input is YOLOX (YOLOv5 has three).
    """
    if len(shape) != 3 or shape[0] != 1:
        raise ModelLayoutError(
            f"model output has shape {shape}; expected 1×(4+C)×N (YOLOv8/11), 1×N×(5+C) "
            "(YOLOv5, YOLOX) or 1×K×6 (NMS included)"
        )
    a, b = int(shape[1]), int(shape[2])
    h, w = input_hw
    cells = grid_cells(h, w) if h and w else None

    def v5_or_x(classes: int) -> tuple[Layout, int]:
        return (Layout.YOLOX if a == cells else Layout.V5), classes

    if b == 6 and a <= MAX_END2END and a != cells:
        return Layout.END2END, num_classes or 0
    if num_classes is not None:
        if a == 4 + num_classes:
            return Layout.V8, num_classes
        if b == 5 + num_classes:
            return v5_or_x(num_classes)
    if a < b and a >= 5:
        return Layout.V8, a - 4
    if b < a and b >= 6:
        return v5_or_x(b - 5)
    raise ModelLayoutError(
        f"model output has shape {shape}, which matches neither 1×(4+C)×N (YOLOv8/11) nor "
        f"1×N×(5+C) (YOLOv5, YOLOX)"
        + (f" for {num_classes} classes" if num_classes is not None else "")
    )


def _nms_outputs(outputs: Sequence[tuple[str, Shape]]) -> tuple[str, str, str] | None:
    """Names of (boxes, scores, classes) if the outputs look like an NMS-included export."""
    boxes = [n for n, s in outputs if len(s) == 3 and s[2] == 4]
    flat = [(n, s) for n, s in outputs if len(s) == 2 and s[1] != 1]
    if len(boxes) != 1 or len(flat) != 2:
        return None
    scores = [n for n, _ in flat if "score" in n.lower() or "conf" in n.lower()]
    classes = [n for n, _ in flat if any(k in n.lower() for k in ("class", "label", "cls"))]
    if len(scores) != 1 or len(classes) != 1 or scores == classes:
        return None
    return boxes[0], scores[0], classes[0]


def plan_outputs(
    outputs: Sequence[tuple[str, Shape]],
    num_classes: int | None,
    input_hw: tuple[int | None, int | None] = (None, None),
) -> OutputPlan | None:
    """The plan for a model with these (name, shape) outputs; None if it needs a run to tell.

    Raises ModelLayoutError (with the shapes and what was expected) when no layout fits.
    """
    if not outputs:
        raise ModelLayoutError("the model has no outputs")
    nms = _nms_outputs(outputs)
    if nms is not None:
        return OutputPlan(Layout.NMS, num_classes, nms)
    name, shape = outputs[0]
    if any(len(s) == 4 for _, s in outputs[1:]):
        raise ModelLayoutError(
            f"the model has an image-shaped output ({', '.join(n for n, s in outputs if len(s) == 4)}"
            "): a segmentation model's mask prototypes; use the detection export of the model"
        )
    if len(outputs) > 1 and len(shape) != 3:
        shapes = ", ".join(f"{n} {list(s)}" for n, s in outputs)
        raise ModelLayoutError(
            f"the model has outputs {shapes}; expected one YOLO output (1×(4+C)×N, 1×N×(5+C), "
            "1×K×6) or NMS outputs named boxes (1×K×4), scores (1×K) and classes (1×K)"
        )
    if not _static(shape):
        if len(shape) != 3:
            raise ModelLayoutError(
                f"model output {name!r} has shape {list(shape)}; expected a 3-D YOLO output"
            )
        return None  # a dynamic output: the shape of the first real output decides
    layout, classes = choose_layout(
        tuple(int(d) for d in shape if d is not None), num_classes, input_hw
    )
    return OutputPlan(layout, classes, (name,))


def yolox_to_v5(output: Tensor, input_h: int, input_w: int) -> Tensor:
    """Undo YOLOX's raw head: grid offsets and log sizes → cx, cy, w, h in input pixels.

    The result has the YOLOv5 layout (objectness and class scores are already sigmoids).
    """
    grids = []
    strides = []
    for s in YOLOX_STRIDES:
        gh, gw = input_h // s, input_w // s
        ys, xs = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((gh * gw, 1), s))
    grid = np.concatenate(grids).astype(np.float32)
    stride = np.concatenate(strides).astype(np.float32)
    if output.shape[1] != len(grid):
        raise ModelLayoutError(
            f"YOLOX output has {output.shape[1]} anchors but a {input_w}×{input_h} input has "
            f"{len(grid)} grid cells"
        )
    out = output.copy()
    out[0, :, :2] = (out[0, :, :2] + grid) * stride
    out[0, :, 2:4] = np.exp(out[0, :, 2:4]) * stride
    return out


def end2end_rows(
    rows: Tensor, score_threshold: float
) -> tuple[Tensor, npt.NDArray[np.float32], npt.NDArray[np.int32]]:
    """Boxes (xyxy, input pixels), scores and classes of a ``K × 6`` NMS-included output."""
    rows = rows.reshape(-1, 6)
    keep = rows[:, 4] >= score_threshold
    rows = rows[keep]
    return (
        rows[:, :4].astype(np.float32),
        rows[:, 4].astype(np.float32),
        rows[:, 5].round().astype(np.int32),
    )
