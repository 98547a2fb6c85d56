"""Checking grabbed widget pixels against the synthetic camera's known picture."""

from __future__ import annotations

from camwall.sources.synthetic import BAR_COLORS_BGRA, LOWER_GREY

#: The synthetic bars as (r, g, b), left to right.
BAR_RGB: tuple[tuple[int, int, int], ...] = tuple((r, g, b) for b, g, r, _ in BAR_COLORS_BGRA)
GREY_RGB = (LOWER_GREY, LOWER_GREY, LOWER_GREY)


def rgb_at(image: object, x: int, y: int) -> tuple[int, int, int]:
    """(r, g, b) of a QImage pixel."""
    color = image.pixelColor(x, y)  # type: ignore[attr-defined]
    return color.red(), color.green(), color.blue()


def close(a: tuple[int, int, int], b: tuple[int, int, int], tol: int = 12) -> bool:
    """True if every channel differs by at most ``tol``."""
    return all(abs(p - q) <= tol for p, q in zip(a, b, strict=True))


def bars_match(image: object, x0: int, y0: int, w: int, h: int) -> list[str]:
    """Problems found sampling the 8 bar centres of a picture drawn at (x0, y0, w, h)."""
    problems = []
    y = y0 + h // 3
    for i, want in enumerate(BAR_RGB):
        x = x0 + int((i + 0.5) * w / len(BAR_RGB))
        got = rgb_at(image, x, y)
        if not close(got, want):
            problems.append(f"bar {i} at ({x},{y}): got {got}, want {want}")
    return problems
