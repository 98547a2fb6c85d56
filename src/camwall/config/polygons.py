"""Mask polygons: arrays of [x, y] frame-pixel points, checked for shape and sanity."""

from __future__ import annotations

import math
from collections.abc import Sequence

from camwall.config.model import Point, Polygon
from camwall.config.tables import (
    MISSING,
    Problems,
    Table,
    is_number,
    key_path,
    number_text,
    type_name,
)


def masks_of(table: Table) -> tuple[Polygon, ...]:
    """The ``masks`` of a camera table, each polygon checked; bad ones are reported."""
    raw = table.raw("masks")
    if raw is MISSING:
        return ()
    key = table.key("masks")
    if not isinstance(raw, list):
        table.problems.add(key, f"expected an array of polygons, got {type_name(raw)}")
        return ()
    polygons: list[Polygon] = []
    for i, poly in enumerate(raw):
        polygon = _polygon(table.problems, key_path(key, i), poly)
        if polygon is not None:
            polygons.append(polygon)
    return tuple(polygons)


def _polygon(problems: Problems, key: str, raw: object) -> Polygon | None:
    example = "e.g. [[0, 0], [200, 0], [200, 100]]"
    if not isinstance(raw, list):
        problems.add(key, f"a polygon is an array of [x, y] points ({example})")
        return None
    points: list[Point] = []
    for j, point in enumerate(raw):
        where = key_path(key, j)
        if not isinstance(point, list) or len(point) != 2 or not all(is_number(v) for v in point):
            problems.add(where, "a point is [x, y] with two numbers")
            return None
        x, y = float(point[0]), float(point[1])
        if not (math.isfinite(x) and math.isfinite(y)) or x < 0 or y < 0:
            problems.add(
                where,
                f"coordinates are frame pixels, 0 or more; got [{number_text(x)}, {number_text(y)}]",
            )
            return None
        points.append((x, y))
    if len(points) < 3:
        problems.add(key, f"a polygon needs at least 3 points, got {len(points)} ({example})")
        return None
    problem = _polygon_problem(points)
    if problem:
        problems.add(key, problem)
        return None
    return tuple(points)


def _polygon_problem(points: Sequence[Point]) -> str | None:
    n = len(points)
    for i in range(n):
        if points[i] == points[(i + 1) % n]:
            return f"points {i} and {(i + 1) % n} are the same"
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbouring edges share a point
            if _segments_cross(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n]):
                return (
                    f"the edge from point {i} to point {(i + 1) % n} crosses the edge from "
                    f"point {j} to point {(j + 1) % n}; list the points in order around the area"
                )
    area = sum(
        points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
        for i in range(n)
    )
    if abs(area) < 1e-9:
        return "the polygon has no area (all its points lie on one line)"
    return None


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """True if segments ab and cd touch or cross (non-neighbouring polygon edges must not)."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if ((o1 > 0 > o2) or (o1 < 0 < o2)) and ((o3 > 0 > o4) or (o3 < 0 < o4)):
        return True
    return (
        (o1 == 0 and _on_segment(a, b, c))
        or (o2 == 0 and _on_segment(a, b, d))
        or (o3 == 0 and _on_segment(c, d, a))
        or (o4 == 0 and _on_segment(c, d, b))
    )
