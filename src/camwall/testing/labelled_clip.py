"""A labelled synthetic clip for detection accuracy: moving figures with known boxes.

Each figure is the astronaut photo of scikit-image's data module (a person, whose face OpenCV's
Haar cascade finds) pasted at its own scale, walking across a cluttered background. The truth
per frame is each visible figure's ``face`` box and ``person`` box (the pasted photo) in frame
pixels. Needs scikit-image (a dev dependency), imported when a clip is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]
# The face in skimage.data.astronaut() (512×512), as the Haar cascade finds it at full size.
ASTRONAUT_FACE: Box = (177.0, 66.0, 272.0, 161.0)


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure: on screen from ``first`` to ``last`` frame (inclusive), moving linearly."""

    figure_id: int
    first: int
    last: int
    start: tuple[float, float]
    end: tuple[float, float]
    scale: float

    def position(self, frame: int) -> tuple[float, float] | None:
        """Top-left of the pasted photo in ``frame``, or None when not on screen."""
        if not self.first <= frame <= self.last:
            return None
        f = (frame - self.first) / max(1, self.last - self.first)
        return (
            self.start[0] + f * (self.end[0] - self.start[0]),
            self.start[1] + f * (self.end[1] - self.start[1]),
        )


@dataclass(frozen=True, slots=True)
class Truth:
    """A visible figure in one frame: its id and its face and person boxes (frame pixels)."""

    figure_id: int
    face: Box
    person: Box


#: Three people, one after another and overlapping in time, at face sizes of ~80-110 px on a
#: 1920×1080 frame: found at a 640-wide detect size, too small on a 480-wide tile.
DEFAULT_FIGURES = (
    Figure(1, 0, 59, (60.0, 380.0), (900.0, 420.0), 0.95),
    Figure(2, 40, 119, (1380.0, 80.0), (620.0, 120.0), 0.85),
    Figure(3, 80, 119, (150.0, 420.0), (500.0, 380.0), 1.15),
)


class LabelledClip:
    """Frames (BGR, width×height) and their truth; deterministic."""

    def __init__(
        self,
        width: int = 1920,
        height: int = 1080,
        frames: int = 120,
        figures: tuple[Figure, ...] = DEFAULT_FIGURES,
        seed: int = 0,
    ) -> None:
        """Prepare the background and the scaled photos; frames are rendered on demand."""
        import skimage.data

        astronaut: Any = skimage.data.astronaut  # untyped

        self.width, self.height, self.frames, self.figures = width, height, frames, figures
        rng = np.random.default_rng(seed)
        yy, xx = np.mgrid[0:height, 0:width]
        base = (60 + 60 * xx / width + 40 * yy / height).astype(np.float32)
        bg = np.dstack([base, base * 0.9 + 10, base * 0.8 + 20])
        bg += rng.normal(0, 6, bg.shape)
        for _ in range(40):  # clutter: boxes of other colours
            x0, y0 = int(rng.integers(0, width - 80)), int(rng.integers(0, height - 80))
            w, h = (int(v) for v in rng.integers(20, 160, 2))
            colour = [float(c) for c in rng.integers(0, 255, 3)]
            cv2.rectangle(bg, (x0, y0), (x0 + w, y0 + h), colour, -1)
        self.background = np.clip(bg, 0, 255).astype(np.uint8)
        photo = cast(Image, np.ascontiguousarray(astronaut()[:, :, ::-1]))
        self._photos = {
            f.figure_id: cast(
                Image,
                cv2.resize(
                    photo,
                    (round(512 * f.scale), round(512 * f.scale)),
                    interpolation=cv2.INTER_AREA,
                ),
            )
            for f in figures
        }

    def __len__(self) -> int:
        return self.frames

    def truth(self, index: int) -> list[Truth]:
        """The figures visible in frame ``index``."""
        out = []
        for f in self.figures:
            pos = self.position(f, index)
            if pos is None:
                continue
            x, y = pos
            s = self._photos[f.figure_id].shape[1] / 512
            fx0, fy0, fx1, fy1 = ASTRONAUT_FACE
            face = (x + fx0 * s, y + fy0 * s, x + fx1 * s, y + fy1 * s)
            side = self._photos[f.figure_id].shape[0]
            out.append(Truth(f.figure_id, face, (x, y, x + side, y + side)))
        return out

    def position(self, figure: Figure, index: int) -> tuple[int, int] | None:
        """Integer top-left of ``figure`` in frame ``index`` (None: not visible)."""
        pos = figure.position(index)
        if pos is None:
            return None
        side = self._photos[figure.figure_id].shape[0]
        x = min(max(0, round(pos[0])), self.width - side)
        y = min(max(0, round(pos[1])), self.height - side)
        return x, y

    def frame(self, index: int) -> Image:
        """Frame ``index`` (BGR); later figures are drawn over earlier ones."""
        img: Image = self.background.copy()
        for f in self.figures:
            pos = self.position(f, index)
            if pos is not None:
                photo = self._photos[f.figure_id]
                x, y = pos
                img[y : y + photo.shape[0], x : x + photo.shape[1]] = photo
        return img

    def __iter__(self) -> Iterator[tuple[Image, list[Truth]]]:
        for i in range(self.frames):
            yield self.frame(i), self.truth(i)

    def every(self, step: int) -> Iterator[tuple[int, Image, list[Truth]]]:
        """(index, frame, truth) of every ``step``-th frame."""
        for i in range(0, self.frames, step):
            yield i, self.frame(i), self.truth(i)
