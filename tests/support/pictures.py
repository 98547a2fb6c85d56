"""Checking what test pictures look like after decode + conversion (BGRA)."""

from __future__ import annotations

import numpy as np

#: GStreamer videotestsrc pattern=smpte: the seven bars across the top, as BGR.
SMPTE_TOP_BGR = (
    (255, 255, 255),  # white
    (0, 255, 255),  # yellow
    (255, 255, 0),  # cyan
    (0, 255, 0),  # green
    (255, 0, 255),  # magenta
    (0, 0, 255),  # red
    (255, 0, 0),  # blue
)


def bar_colors(bgra: np.ndarray) -> list[tuple[int, int, int]]:
    """The BGR colour at the centre of each of the seven top bars (median of a small patch)."""
    h, w = bgra.shape[:2]
    y = h // 4
    out = []
    for i in range(7):
        x = int((i + 0.5) * w / 7)
        patch = bgra[y - 2 : y + 3, x - 2 : x + 3, :3].reshape(-1, 3)
        b, g, r = np.median(patch, axis=0)
        out.append((int(b), int(g), int(r)))
    return out


def smpte_errors(bgra: np.ndarray, tolerance: int = 40) -> list[str]:
    """Bars whose colour is off by more than ``tolerance`` in any channel (empty: all good)."""
    errors = []
    for i, (got, want) in enumerate(zip(bar_colors(bgra), SMPTE_TOP_BGR, strict=True)):
        if max(abs(a - b) for a, b in zip(got, want, strict=True)) > tolerance:
            errors.append(f"bar {i}: got BGR {got}, want {want}")
    return errors


def mean_color(bgra: np.ndarray, y0: float, y1: float, x0: float, x1: float) -> tuple[int, ...]:
    """Mean BGR over a region given in fractions of the picture."""
    h, w = bgra.shape[:2]
    region = bgra[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w), :3]
    return tuple(int(v) for v in region.reshape(-1, 3).mean(axis=0))


def close_to(got: tuple[int, ...], want: tuple[int, ...], tolerance: int = 30) -> bool:
    """Every channel within ``tolerance``."""
    return all(abs(a - b) <= tolerance for a, b in zip(got, want, strict=True))
