"""Config validation cost: the mask-polygon check and whole files, against the old pairwise loop.

Run: .venv/bin/python bench/config_validate.py [--rounds 5] [--quick]

The baseline is the edge-by-edge O(n²) loop camwall used before (kept here verbatim in
spirit): a 6000-point polygon took it ~19 s. camwall now refuses polygons over 1000 points
before any geometry and checks the rest with an x-sweep (sort + searchsorted, NumPy), so
the rows compare, per polygon size, the old loop with the sweep, and then load whole files:
a typical one (8 cameras, small masks) and the largest a camera may have (4 × 1000 points).
Medians of ``--rounds`` interleaved rounds; ratios are against the old loop in the same run.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import numpy as np

import camwall.config as config
from camwall.config.polygons import _first_crossing

Point = tuple[float, float]


def circle(n: int) -> list[Point]:
    """A convex polygon: the worst case for a checker that cannot stop early."""
    return [
        (1000 + 900 * math.cos(2 * math.pi * k / n), 1000 + 900 * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]


def old_loop(points: list[Point]) -> tuple[int, int] | None:
    """The pairwise loop camwall used before the sweep (first crossing pair, row order)."""

    def orient(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    def on(a: Point, b: Point, p: Point) -> bool:
        return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(
            a[1], b[1]
        )

    n = len(points)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            a, b, c, d = points[i], points[(i + 1) % n], points[j], points[(j + 1) % n]
            o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
            if ((o1 > 0 > o2) or (o1 < 0 < o2)) and ((o3 > 0 > o4) or (o3 < 0 < o4)):
                return i, j
            if (
                (o1 == 0 and on(a, b, c))
                or (o2 == 0 and on(a, b, d))
                or (o3 == 0 and on(c, d, a))
                or (o4 == 0 and on(c, d, b))
            ):
                return i, j
    return None


def sweep(points: list[Point]) -> tuple[int, int] | None:
    """camwall's check."""
    p = np.asarray(points, dtype=np.float64)
    return _first_crossing(p, np.roll(p, -1, axis=0))


def toml_polygon(points: list[Point]) -> str:
    return "[" + ", ".join(f"[{x:.3f}, {y:.3f}]" for x, y in points) + "]"


def file_text(cameras: int, masks: int, points: int) -> str:
    text = "version = 1\n"
    for i in range(cameras):
        text += f'[[camera]]\nname = "cam{i}"\nurl = "rtsp://10.0.0.{i + 2}/s"\n'
        if masks:
            polys = ",\n  ".join([toml_polygon(circle(points))] * masks)
            text += f"masks = [\n  {polys},\n]\n"
    return text


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    """Print the tables for docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--no-write", action="store_true", help="accepted for symmetry")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    sizes = [50, 200] if args.quick else [50, 200, 1000]

    print("| polygon points | old pairwise loop ms | camwall sweep ms | × old loop |")
    print("|---:|---:|---:|---:|")
    for n in sizes:
        points = circle(n)
        assert old_loop(points) is None and sweep(points) is None
        old, new = [], []
        for _ in range(rounds):
            old.append(timed(lambda points=points: old_loop(points)))
            new.append(timed(lambda points=points: sweep(points)))
        o, s = statistics.median(old) * 1e3, statistics.median(new) * 1e3
        print(f"| {n} | {o:.1f} | {s:.2f} | {s / o:.4f} |")

    six = file_text(1, 1, 6000)
    refused = []
    for _ in range(rounds):
        started = time.perf_counter()
        try:
            config.loads(six, check_env=False)
        except config.ConfigError:
            refused.append(time.perf_counter() - started)
    print()
    print("| file | load ms (median) |")
    print("|---|---:|")
    print(
        f"| one camera, a 6000-point polygon (refused) | {statistics.median(refused) * 1e3:.1f} |"
    )
    cases = [("8 cameras, 2 masks of 6 points each", file_text(8, 2, 6))]
    if not args.quick:
        cases.append(
            ("1 camera, 4 masks of 1000 points (the per-camera limit)", file_text(1, 4, 1000))
        )
        cases.append(("256 cameras, no masks (the per-file limit)", file_text(256, 0, 0)))
    for label, text in cases:
        times = [
            timed(lambda text=text: config.loads(text, check_env=False)) for _ in range(rounds)
        ]
        print(f"| {label} | {statistics.median(times) * 1e3:.1f} |")


if __name__ == "__main__":
    main()
