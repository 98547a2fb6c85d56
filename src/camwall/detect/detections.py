"""Detections: the validated result of one detector run, as NumPy arrays (after supervision)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

Boxes: TypeAlias = npt.NDArray[np.float32]
Image: TypeAlias = npt.NDArray[np.uint8]
BoolMask: TypeAlias = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class Detections:
    """N detections in source-frame pixels: ``boxes`` N×4 xyxy, ``scores``, ``class_ids``, ``labels``.

    Arrays are validated (shape and dtype) on construction and never copied implicitly; treat
    them as read-only. Use :meth:`to_dicts` / :meth:`from_dicts` to send them between
    processes as plain data.
    """

    boxes: Boxes
    scores: npt.NDArray[np.float32]
    class_ids: npt.NDArray[np.int32]
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        """Reject arrays of the wrong shape or dtype with a message naming the field."""
        n = len(self.labels)
        if not isinstance(self.labels, tuple) or not all(isinstance(s, str) for s in self.labels):
            raise TypeError("Detections.labels must be a tuple of str")
        for field, arr, dtype, shape in (
            ("boxes", self.boxes, np.float32, (n, 4)),
            ("scores", self.scores, np.float32, (n,)),
            ("class_ids", self.class_ids, np.int32, (n,)),
        ):
            if not isinstance(arr, np.ndarray):
                raise TypeError(f"Detections.{field} must be a NumPy array, not {type(arr)}")
            if arr.dtype != dtype:
                raise TypeError(f"Detections.{field} must be {np.dtype(dtype)}, not {arr.dtype}")
            if arr.shape != shape:
                raise ValueError(
                    f"Detections.{field} has shape {arr.shape}, expected {shape} for {n} labels"
                )

    # -- construction --------------------------------------------------------------------

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32), ())

    @classmethod
    def build(
        cls,
        boxes: npt.ArrayLike,
        scores: npt.ArrayLike,
        class_ids: npt.ArrayLike,
        labels: Iterable[str],
    ) -> Detections:
        """Convert array-likes to the right dtypes (copying only where needed) and validate."""
        return cls(
            np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray(scores, np.float32).reshape(-1),
            np.asarray(class_ids, np.int32).reshape(-1),
            tuple(labels),
        )

    @classmethod
    def concat(cls, parts: Sequence[Detections]) -> Detections:
        """All detections of ``parts`` in order."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.class_ids for p in parts]),
            tuple(label for p in parts for label in p.labels),
        )

    # -- access --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        items = ", ".join(
            f"{label} {score:.2f}" for label, score in zip(self.labels, self.scores, strict=True)
        )
        return f"Detections({len(self)}: {items})"

    @property
    def areas(self) -> npt.NDArray[np.float32]:
        """Box areas in square pixels."""
        wh = np.clip(self.boxes[:, 2:] - self.boxes[:, :2], 0, None)
        areas: npt.NDArray[np.float32] = (wh[:, 0] * wh[:, 1]).astype(np.float32)
        return areas

    @property
    def centers(self) -> Boxes:
        """N×2 box centres (x, y)."""
        centers: Boxes = ((self.boxes[:, :2] + self.boxes[:, 2:]) * 0.5).astype(np.float32)
        return centers

    def filter(self, mask: BoolMask | npt.NDArray[np.intp] | Sequence[int]) -> Detections:
        """The detections selected by a boolean mask of length N or by indices."""
        sel = np.asarray(mask)
        if sel.dtype == np.bool_:
            if sel.shape != (len(self),):
                raise ValueError(f"boolean mask of shape {sel.shape} for {len(self)} detections")
            idx = np.flatnonzero(sel)
        else:
            idx = sel.astype(np.intp).reshape(-1)
        return Detections(
            self.boxes[idx],
            self.scores[idx],
            self.class_ids[idx],
            tuple(self.labels[i] for i in idx.tolist()),
        )

    def translate(self, dx: float, dy: float) -> Detections:
        """The same detections with boxes shifted by (dx, dy) (crop → frame coordinates)."""
        if not len(self):
            return self
        shift = np.array([dx, dy, dx, dy], np.float32)
        return Detections(self.boxes + shift, self.scores, self.class_ids, self.labels)

    def scale(self, sx: float, sy: float) -> Detections:
        """The same detections with boxes scaled by (sx, sy) (downscaled copy → frame)."""
        if not len(self):
            return self
        factor = np.array([sx, sy, sx, sy], np.float32)
        return Detections(self.boxes * factor, self.scores, self.class_ids, self.labels)

    # -- transport -----------------------------------------------------------------------

    def to_dicts(self) -> list[dict[str, Any]]:
        """Plain-data form (lists of floats, ints, strings): JSON-able and small to pickle."""
        return [
            {
                "box": [round(float(v), 2) for v in box],
                "score": round(float(score), 4),
                "class_id": int(cid),
                "label": label,
            }
            for box, score, cid, label in zip(
                self.boxes.tolist(),
                self.scores.tolist(),
                self.class_ids.tolist(),
                self.labels,
                strict=True,
            )
        ]

    @classmethod
    def from_dicts(cls, items: Iterable[Mapping[str, Any]]) -> Detections:
        """Inverse of :meth:`to_dicts`; raises ValueError naming the bad item."""
        items = list(items)
        if not items:
            return cls.empty()
        try:
            return cls.build(
                [[float(v) for v in it["box"]] for it in items],
                [float(it["score"]) for it in items],
                [int(it["class_id"]) for it in items],
                [str(it["label"]) for it in items],
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"detection items need box, score, class_id and label: {exc}"
            ) from None


def box_iou(a: Boxes, b: Boxes) -> npt.NDArray[np.float32]:
    """Pairwise IoU of N×4 and M×4 xyxy boxes: an N×M matrix."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    out = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
    return out.astype(np.float32)
