"""Per-camera masks: polygons that exclude areas of the picture from motion and from objects.

Rule for objects: a detection is dropped when the *centre* of its box lies inside a mask
polygon. The centre works the same for every label (a face, a person, a car, a motion blob),
costs one point test per box, and is predictable for the person drawing the mask: "mask the
street" drops cars whose middle is on the street but keeps a person on the pavement whose box
merely overlaps the kerb. (Overlap ratios would make a large box near a small mask flicker
between kept and dropped as it moves.) Motion is masked pixel by pixel before boxes are made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from camwall.detect.detections import Detections

Point = tuple[float, float]


@dataclass(frozen=True, eq=False)
class Mask:
    """Polygons in frame pixel coordinates (x, y), or normalised (0..1 of width and height).

    ``reference_size`` (width, height) is the frame size the polygons were drawn on; frames of
    another size (a substream, a camera switched to another resolution) get the polygons
    scaled to fit. Without it the polygons are used as they are. ``normalised`` polygons
    (see :meth:`of_normalised`) fit every frame size; that is the form to store.
    """

    polygons: tuple[tuple[Point, ...], ...] = ()
    reference_size: tuple[int, int] | None = None
    normalised: bool = False
    _arrays: tuple[npt.NDArray[np.float32], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate the polygons (each at least 3 finite points) and convert them once."""
        arrays = []
        polys = tuple(tuple((float(x), float(y)) for x, y in poly) for poly in self.polygons)
        object.__setattr__(self, "polygons", polys)
        for i, poly in enumerate(polys):
            if len(poly) < 3:
                raise ValueError(f"mask polygon {i} has {len(poly)} points; it needs at least 3")
            arr = np.asarray(poly, np.float32)
            if not np.isfinite(arr).all():
                raise ValueError(f"mask polygon {i} has a non-finite coordinate")
            if self.normalised and not ((arr >= 0).all() and (arr <= 1).all()):
                raise ValueError(f"normalised mask polygon {i} has a coordinate outside 0..1")
            arrays.append(arr)
        if self.normalised and self.reference_size is not None:
            raise ValueError("a normalised mask has no reference_size")
        if self.reference_size is not None:
            w, h = self.reference_size
            if w <= 0 or h <= 0:
                raise ValueError(f"mask reference_size must be positive, not {self.reference_size}")
        object.__setattr__(self, "_arrays", tuple(arrays))

    @classmethod
    def of(
        cls,
        polygons: Iterable[Sequence[Sequence[float]]],
        reference_size: tuple[int, int] | None = None,
    ) -> Mask:
        """A mask from any nested sequence of (x, y) points, e.g. parsed from TOML or JSON."""
        return cls(tuple(tuple((p[0], p[1]) for p in poly) for poly in polygons), reference_size)

    @classmethod
    def of_normalised(cls, polygons: Iterable[Sequence[Sequence[float]]]) -> Mask:
        """A mask of polygons in fractions of the frame (0..1), valid for any frame size."""
        return cls(tuple(tuple((p[0], p[1]) for p in poly) for poly in polygons), normalised=True)

    def to_normalised(self, frame_size: tuple[int, int] | None = None) -> Mask:
        """This mask in normalised form; pixel polygons need a ``reference_size`` or ``frame_size``."""
        if self.normalised:
            return self
        size = self.reference_size or frame_size
        if size is None:
            raise ValueError(
                "a pixel mask without reference_size needs the frame size it was drawn on"
            )
        w, h = size
        return Mask(
            tuple(tuple((min(1.0, max(0.0, x / w)), min(1.0, max(0.0, y / h))) for x, y in poly)
                  for poly in self.polygons),
            normalised=True,
        )  # fmt: skip

    def for_size(self, width: int, height: int) -> Mask:
        """Plain pixel polygons for a width×height frame (what this mask means at that size)."""
        return Mask(
            tuple(tuple((float(x), float(y)) for x, y in a.tolist()) for a in self._scaled(width, height))
        )  # fmt: skip

    def __bool__(self) -> bool:
        return bool(self.polygons)

    def _scaled(self, width: int, height: int, scale: float = 1.0) -> list[npt.NDArray[np.float32]]:
        sx = sy = scale
        if self.normalised:
            sx, sy = scale * width, scale * height
        elif self.reference_size is not None:
            rw, rh = self.reference_size
            sx, sy = scale * width / rw, scale * height / rh
        factor = np.array([sx, sy], np.float32)
        return [a * factor for a in self._arrays]

    def raster(self, width: int, height: int, out_size: tuple[int, int]) -> npt.NDArray[np.uint8]:
        """An image of ``out_size`` (w, h) that is 255 where a frame of width×height is masked."""
        out_w, out_h = out_size
        img = np.zeros((out_h, out_w), np.uint8)
        if not self:
            return img
        polys = self._scaled(width, height, out_w / width)
        # fillPoly takes integer points; shift=4 keeps 1/16-pixel precision.
        pts = [np.round(p * 16).astype(np.int32) for p in polys]
        cv2.fillPoly(img, pts, 255, lineType=cv2.LINE_8, shift=4)
        return img

    def contains(
        self, points: npt.NDArray[np.float32], width: int, height: int
    ) -> npt.NDArray[np.bool_]:
        """For N×2 points of a width×height frame: True where a point is inside (or on) a polygon."""
        inside = np.zeros(len(points), np.bool_)
        if not self or not len(points):
            return inside
        for poly in self._scaled(width, height):
            contour = poly.reshape(-1, 1, 2)
            for i, (x, y) in enumerate(points.tolist()):
                if not inside[i] and cv2.pointPolygonTest(contour, (x, y), False) >= 0:
                    inside[i] = True
        return inside

    def apply(self, detections: Detections, width: int, height: int) -> Detections:
        """``detections`` without those whose box centre lies inside the mask."""
        if not self or not len(detections):
            return detections
        return detections.filter(~self.contains(detections.centers, width, height))
