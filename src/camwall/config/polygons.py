"""Mask polygons: arrays of [x, y] frame-pixel points, checked for shape and sanity.

The crossing test compares every pair of edges, vectorised with NumPy so the largest polygon
allowed (:data:`MAX_POINTS`) checks in milliseconds; bigger ones are refused before any
geometry runs.
"""

from __future__ import annotations

import math

import numpy as np

from camwall.config.model import Point, Polygon
from camwall.config.tables import is_number, number_text, type_name

#: Points per polygon: a hand-drawn mask has tens; this bounds the pairwise edge check.
MAX_POINTS = 1000
#: Polygons per camera.
MAX_MASKS = 64
#: Points of all polygons of one camera together.
MAX_CAMERA_POINTS = 4000
EXAMPLE = "e.g. [[0, 0], [200, 0], [200, 100]]"

#: (where below ``masks``, message) — where is e.g. ``(1, 2)`` for ``masks[1][2]``.
Problem = tuple[tuple[int, ...], str]


def check_masks(raw: object) -> tuple[tuple[Polygon, ...], Problem | None]:
    """The polygons of a camera's ``masks`` value, or the first problem found."""
    if not isinstance(raw, list):
        return (), ((), f"expected an array of polygons, got {type_name(raw)}")
    if len(raw) > MAX_MASKS:
        return (), ((), f"has {len(raw)} polygons; at most {MAX_MASKS} are allowed")
    for i, poly in enumerate(raw):
        if isinstance(poly, list) and len(poly) > MAX_POINTS:
            return (), ((i,), f"has {len(poly)} points; a polygon may have at most {MAX_POINTS}")
    points = sum(len(poly) for poly in raw if isinstance(poly, list))
    if points > MAX_CAMERA_POINTS:
        return (), ((), f"have {points} points in all; at most {MAX_CAMERA_POINTS} are allowed")
    polygons: list[Polygon] = []
    for i, poly in enumerate(raw):
        polygon, problem = _polygon(poly)
        if problem is not None:
            return (), ((i, *problem[0]), problem[1])
        polygons.append(polygon)
    return tuple(polygons), None


def _polygon(raw: object) -> tuple[Polygon, Problem | None]:
    if not isinstance(raw, list):
        return (), ((), f"a polygon is an array of [x, y] points ({EXAMPLE})")
    if len(raw) > MAX_POINTS:
        return (), ((), f"has {len(raw)} points; a polygon may have at most {MAX_POINTS}")
    points: list[Point] = []
    for j, point in enumerate(raw):
        if not isinstance(point, list) or len(point) != 2 or not all(is_number(v) for v in point):
            return (), ((j,), "a point is [x, y] with two numbers")
        try:
            x, y = float(point[0]), float(point[1])
        except OverflowError:
            x = y = math.inf
        if not (math.isfinite(x) and math.isfinite(y)) or x < 0 or y < 0 or max(x, y) > 1e6:
            shown = f"[{_num(point[0])}, {_num(point[1])}]"
            return (), ((j,), f"coordinates are frame pixels from 0 to 1000000; got {shown}")
        points.append((x, y))
    if len(points) < 3:
        return (), ((), f"a polygon needs at least 3 points, got {len(points)} ({EXAMPLE})")
    problem = polygon_problem(points)
    if problem:
        return (), ((), problem)
    return tuple(points), None


def _num(value: object) -> str:
    if isinstance(value, int) and abs(value) >= 10**15:
        return "a huge number"
    return number_text(float(value))  # type: ignore[arg-type]


def polygon_problem(points: list[Point]) -> str | None:
    """Why ``points`` is no simple polygon (repeated point, crossing edges, no area), or None."""
    n = len(points)
    p = np.asarray(points, dtype=np.float64)
    q = np.roll(p, -1, axis=0)  # edge i runs from p[i] to q[i]
    same = np.flatnonzero(np.all(p == q, axis=1))
    if same.size:
        i = int(same[0])
        return f"points {i} and {(i + 1) % n} are the same"
    crossing = _first_crossing(p, q)
    if crossing is not None:
        i, j = crossing
        return (
            f"the edge from point {i} to point {(i + 1) % n} crosses the edge from "
            f"point {j} to point {(j + 1) % n}; list the points in order around the area"
        )
    area = float(np.sum(p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]))
    if abs(area) < 1e-9:
        return "the polygon has no area (all its points lie on one line)"
    return None


def _orient(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, cx: np.ndarray, cy: np.ndarray
) -> np.ndarray:
    result: np.ndarray = np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))
    return result


def _on(
    sx: np.ndarray, sy: np.ndarray, ex: np.ndarray, ey: np.ndarray, tx: np.ndarray, ty: np.ndarray
) -> np.ndarray:
    inside: np.ndarray = (
        (np.minimum(sx, ex) <= tx)
        & (tx <= np.maximum(sx, ex))
        & (np.minimum(sy, ey) <= ty)
        & (ty <= np.maximum(sy, ey))
    )
    return inside


def _first_crossing(p: np.ndarray, q: np.ndarray) -> tuple[int, int] | None:
    """The first pair (i, j), i < j, of non-neighbouring edges that touch or cross.

    A sweep over x: only edges whose x-ranges overlap are paired (sort + searchsorted), then
    pairs whose y-ranges do not overlap are dropped, and the few left are tested exactly. A
    hand-drawn polygon of 1000 points checks in about a millisecond.
    """
    n = len(p)
    lo, hi = np.minimum(p, q), np.maximum(p, q)
    order = np.argsort(lo[:, 0], kind="stable")
    lox = lo[order, 0]
    end = np.searchsorted(lox, hi[order, 0], side="right")
    counts = np.maximum(end - np.arange(1, n + 1), 0)
    total = int(counts.sum())
    if total == 0:
        return None
    first = np.repeat(np.arange(n), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    ea, eb = order[first], order[first + 1 + offsets]
    i, j = np.minimum(ea, eb), np.maximum(ea, eb)
    keep = (
        (lo[i, 1] <= hi[j, 1])
        & (lo[j, 1] <= hi[i, 1])
        & (j > i + 1)  # neighbouring edges share a point
        & ~((i == 0) & (j == n - 1))
    )
    i, j = i[keep], j[keep]
    if i.size == 0:
        return None
    ax, ay, bx, by = p[i, 0], p[i, 1], q[i, 0], q[i, 1]
    cx, cy, dx, dy = p[j, 0], p[j, 1], q[j, 0], q[j, 1]
    o1, o2 = _orient(ax, ay, bx, by, cx, cy), _orient(ax, ay, bx, by, dx, dy)
    o3, o4 = _orient(cx, cy, dx, dy, ax, ay), _orient(cx, cy, dx, dy, bx, by)
    hits = ((o1 * o2 < 0) & (o3 * o4 < 0)) | (
        ((o1 == 0) & _on(ax, ay, bx, by, cx, cy))
        | ((o2 == 0) & _on(ax, ay, bx, by, dx, dy))
        | ((o3 == 0) & _on(cx, cy, dx, dy, ax, ay))
        | ((o4 == 0) & _on(cx, cy, dx, dy, bx, by))
    )
    found = np.flatnonzero(hits)
    if found.size == 0:
        return None
    # The pair the old edge-by-edge loop would have named first: smallest i, then j.
    best = found[np.lexsort((j[found], i[found]))[0]]
    return int(i[best]), int(j[best])
