"""False-positive control per label: allowed labels, minimum score, minimum box area."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from camwall.detect.detections import Detections

ANY = "*"


def per_label(table: Mapping[str, float], label: str, default: float) -> float:
    """``table[label]``, else ``table['*']``, else ``default``."""
    if label in table:
        return table[label]
    return table.get(ANY, default)


@dataclass(frozen=True)
class ObjectFilter:
    """Drop detections a user would call noise before they reach the tracker.

    ``labels``: keep only these (None: all). ``min_score`` / ``min_area``: per label, with
    ``"*"`` as the default for labels not named; area in square pixels of the source frame.
    ``min_area_fraction``: the same as a fraction of the frame's area (0..1), which means the
    same at every resolution (main stream, substream, detect size); it needs the frame size.
    """

    labels: frozenset[str] | None = None
    min_score: Mapping[str, float] = field(default_factory=dict)
    min_area: Mapping[str, float] = field(default_factory=dict)
    min_area_fraction: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject scores outside 0..1 and negative areas, naming the label."""
        for label, v in self.min_score.items():
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"min_score for {label!r} must be between 0 and 1, not {v}")
        for label, v in self.min_area.items():
            if v < 0:
                raise ValueError(f"min_area for {label!r} must not be negative, not {v}")
        for label, v in self.min_area_fraction.items():
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"min_area_fraction for {label!r} must be 0..1, not {v}")
        if self.labels is not None:
            object.__setattr__(self, "labels", frozenset(self.labels))

    def apply(
        self, detections: Detections, frame_size: tuple[int, int] | None = None
    ) -> Detections:
        """The detections that pass every rule (``frame_size`` (w, h) for ``min_area_fraction``)."""
        if not len(detections) or (
            self.labels is None
            and not self.min_score
            and not self.min_area
            and not self.min_area_fraction
        ):
            return detections
        scores = np.array([per_label(self.min_score, s, 0.0) for s in detections.labels])
        areas = np.array([per_label(self.min_area, s, 0.0) for s in detections.labels])
        if self.min_area_fraction:
            if frame_size is None:
                raise ValueError("min_area_fraction needs the frame size")
            frame_area = float(frame_size[0] * frame_size[1])
            fractions = np.array(
                [per_label(self.min_area_fraction, s, 0.0) for s in detections.labels]
            )
            areas = np.maximum(areas, fractions * frame_area)
        keep = (detections.scores >= scores) & (detections.areas >= areas)
        if self.labels is not None:
            keep &= np.array([s in self.labels for s in detections.labels], np.bool_)
        return detections.filter(keep)
