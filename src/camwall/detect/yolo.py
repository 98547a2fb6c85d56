"""YOLO pre- and post-processing without any runtime: letterbox, output layouts, NMS.

Pre-processing follows Ultralytics: scale the frame to fit the network input keeping its
aspect ratio, pad with grey 114 (centred), BGR→RGB, divide by 255, NCHW float32. With a fixed
input size the padding fills the input exactly; with dynamic input dimensions the longer side
becomes ``size`` and each side is padded only up to the next multiple of the model stride.

YOLOX differs (``preprocess="yolox"``): BGR kept, values 0..255, the frame placed at the
top-left and padded bottom/right.

Raw output layouts (see :mod:`camwall.detect.model_layout` for all, NMS-included ones too):

* YOLOv8 / YOLO11: ``1 × (4 + C) × N`` — rows cx, cy, w, h, then one score per class.
* YOLOv5: ``1 × N × (5 + C)`` — per box cx, cy, w, h, objectness, then class scores; the
  score of class c is objectness × class score. YOLOX has the same rows after its grid decode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from camwall.detect.detections import Detections, Image
from camwall.detect.labels import label_for
from camwall.detect.model_layout import Layout

log = logging.getLogger(__name__)

PAD_VALUE = 114
Tensor = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a source frame was placed into the network input, and the way back."""

    src_w: int
    src_h: int
    dst_w: int
    dst_h: int
    new_w: int
    new_h: int
    left: int
    top: int

    @property
    def sx(self) -> float:
        """Horizontal scale source → input."""
        return self.new_w / self.src_w

    @property
    def sy(self) -> float:
        """Vertical scale source → input."""
        return self.new_h / self.src_h

    def to_source(self, boxes: Tensor) -> Tensor:
        """Map N×4 xyxy boxes in input pixels back to source pixels, clipped to the frame."""
        out = boxes - np.array([self.left, self.top, self.left, self.top], np.float32)
        out /= np.array([self.sx, self.sy, self.sx, self.sy], np.float32)
        np.clip(
            out, 0, np.array([self.src_w, self.src_h, self.src_w, self.src_h], np.float32), out=out
        )
        return out


def plan_letterbox(
    src_w: int,
    src_h: int,
    input_h: int | None,
    input_w: int | None,
    *,
    size: int = 640,
    stride: int = 32,
    centre: bool = True,
) -> Letterbox:
    """Where a src_w×src_h frame goes in an input of fixed (int) or dynamic (None) dimensions.

    ``centre=False`` puts it at the top-left corner (YOLOX's preprocessing).
    """
    if src_w <= 0 or src_h <= 0:
        raise ValueError(f"frame size must be positive, not {src_w}×{src_h}")
    limit_h = input_h if input_h is not None else size
    limit_w = input_w if input_w is not None else size
    r = min(limit_h / src_h, limit_w / src_w)
    new_w = max(1, min(limit_w, round(src_w * r)))
    new_h = max(1, min(limit_h, round(src_h * r)))
    dst_w = input_w if input_w is not None else -(-new_w // stride) * stride
    dst_h = input_h if input_h is not None else -(-new_h // stride) * stride
    # Ultralytics rounds the two half-paddings this way; matching it keeps boxes identical.
    dw, dh = (dst_w - new_w) / 2, (dst_h - new_h) / 2
    left, top = (round(dw - 0.1), round(dh - 0.1)) if centre else (0, 0)
    return Letterbox(src_w, src_h, dst_w, dst_h, new_w, new_h, max(0, left), max(0, top))


def letterbox(
    image: Image,
    lb: Letterbox,
    dtype: type[np.floating] = np.float32,
    *,
    yolox: bool = False,
    out: Tensor | None = None,
    padded: bool = False,
) -> Tensor:
    """The 1×3×H×W RGB input tensor (0..1) for an H×W×3 BGR or H×W×4 BGRA ``image``.

    ``yolox``: BGR planes with values 0..255 instead, as YOLOX models were trained. ``out``:
    a tensor to fill (used if its shape and dtype fit), instead of allocating one;
    ``padded``: its padding is already grey, as this function left it for the same ``lb``
    and ``yolox``.
    """
    if (lb.new_w, lb.new_h) == (image.shape[1], image.shape[0]):
        resized = image
    else:
        resized = cast(
            Image, cv2.resize(image, (lb.new_w, lb.new_h), interpolation=cv2.INTER_LINEAR)
        )
    # Straight into the tensor: each colour plane is converted once into its place, and only
    # the padding is filled (no full-size uint8 canvas, no second pass over the whole input).
    shape = (1, 3, lb.dst_h, lb.dst_w)
    fits = out is not None and out.shape == shape and out.dtype == dtype
    tensor = out if out is not None and fits else np.empty(shape, dtype)
    scale = np.float32(1.0 if yolox else 1.0 / 255.0)
    planes = tensor[0]
    top, bottom = lb.top, lb.top + lb.new_h
    left, right = lb.left, lb.left + lb.new_w
    if tensor is not out or not padded:
        pad = np.float32(PAD_VALUE) * scale
        planes[:, :top] = pad
        planes[:, bottom:] = pad
        planes[:, top:bottom, :left] = pad
        planes[:, top:bottom, right:] = pad
    channels = cv2.split(resized)  # contiguous B, G, R(, A) planes: cheap to read from
    for c in range(3):  # planes R, G, B from B, G, R(, A); YOLOX keeps B, G, R
        np.multiply(
            channels[c if yolox else 2 - c],
            scale,
            out=planes[c, top:bottom, left:right],
            casting="unsafe",
        )
    return tensor


def decode(
    output: Tensor,
    layout: Layout,
    *,
    score_threshold: float,
    iou_threshold: float,
    max_detections: int = 300,
    max_candidates: int = 30000,
) -> tuple[Tensor, npt.NDArray[np.float32], npt.NDArray[np.int32]]:
    """Boxes (xyxy, input pixels), scores and class ids after thresholding and class-aware NMS."""
    if layout.nms_included:
        raise ValueError(f"{layout.value} outputs are final detections; nothing to decode")
    out = output[0]
    if layout is Layout.V8:
        cls = out[4:]
        # Threshold on the best score first (a max over rows is cheap), then find the class
        # of the few columns left: an argmax along axis 0 of the whole C×N block would copy it.
        keep = np.flatnonzero(cls.max(axis=0) >= score_threshold)
        kept = cls[:, keep]
        class_ids = kept.argmax(axis=0)
        scores = kept[class_ids, np.arange(len(keep))]
        cxcywh = out[:4, keep].T
    else:
        obj = out[:, 4]
        # score = obj × cls ≤ obj for scores in 0..1, so low objectness can go first.
        cand = np.flatnonzero(obj >= score_threshold)
        cls = out[cand, 5:] * obj[cand, None]
        class_ids = cls.argmax(axis=1)
        scores = cls[np.arange(len(cand)), class_ids]
        keep = np.flatnonzero(scores >= score_threshold)
        cxcywh = out[cand[keep], :4]
        scores, class_ids = scores[keep], class_ids[keep]
    if len(scores) > max_candidates:
        top = np.argpartition(-scores, max_candidates)[:max_candidates]
        cxcywh, scores, class_ids = cxcywh[top], scores[top], class_ids[top]
    if not len(scores):
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32)
    xywh = np.empty_like(cxcywh, dtype=np.float64)
    xywh[:, :2] = cxcywh[:, :2] - cxcywh[:, 2:] / 2
    xywh[:, 2:] = cxcywh[:, 2:]
    kept = cv2.dnn.NMSBoxesBatched(
        cast(Any, xywh),
        cast(Any, scores.astype(np.float32)),
        cast(Any, class_ids.astype(np.int32)),
        float(score_threshold),
        float(iou_threshold),
        top_k=max_detections,
    )
    idx = np.asarray(kept, np.intp).reshape(-1)
    boxes = np.empty((len(idx), 4), np.float32)
    boxes[:, :2] = xywh[idx, :2]
    boxes[:, 2:] = xywh[idx, :2] + xywh[idx, 2:]
    return boxes, scores[idx].astype(np.float32), class_ids[idx].astype(np.int32)


def to_detections(
    boxes: Tensor,
    scores: npt.NDArray[np.float32],
    class_ids: npt.NDArray[np.int32],
    lb: Letterbox,
    labels: tuple[str, ...],
) -> Detections:
    """Detections in source pixels; boxes that shrink to nothing at the frame edge are dropped."""
    src = lb.to_source(boxes)
    ok = (src[:, 2] - src[:, 0] >= 1) & (src[:, 3] - src[:, 1] >= 1)
    src, scores, class_ids = src[ok], scores[ok], class_ids[ok]
    names = tuple(label_for(labels, int(c)) for c in class_ids.tolist())
    return Detections(src, scores, class_ids, names)
