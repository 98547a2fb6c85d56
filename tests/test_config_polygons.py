"""The vectorised polygon check finds exactly the crossing the plain pairwise loop finds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from camwall.config.polygons import _first_crossing

Point = tuple[float, float]


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _touch(a: Point, b: Point, c: Point, d: Point) -> bool:
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if ((o1 > 0 > o2) or (o1 < 0 < o2)) and ((o3 > 0 > o4) or (o3 < 0 < o4)):
        return True
    return (
        (o1 == 0 and _on(a, b, c))
        or (o2 == 0 and _on(a, b, d))
        or (o3 == 0 and _on(c, d, a))
        or (o4 == 0 and _on(c, d, b))
    )


def reference(points: list[Point]) -> tuple[int, int] | None:
    """The O(n²) loop camwall used before: the first (i, j) in row order."""
    n = len(points)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _touch(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n]):
                return i, j
    return None


_coord = st.integers(0, 6).map(float)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_coord, _coord), min_size=3, max_size=12))
def test_same_answer_as_the_pairwise_loop(points: list[Point]) -> None:
    """Small integer grids make collinear, touching and crossing edges common."""
    p = np.asarray(points, dtype=np.float64)
    q = np.roll(p, -1, axis=0)
    assert _first_crossing(p, q) == reference(points)
