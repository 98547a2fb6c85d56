"""Frame-ring cost per 1440p BGRA frame against the memcpy floor and a pickling queue.

Run: .venv/bin/python bench/ring.py [--frames 40] [--rounds 7]

Every variant runs in the same process run, interleaved round by round, so machine noise
hits them alike; the table reports the median over rounds of the per-frame wall time, CPU
time and minor page faults, and each variant's ratio to the memcpy floor (np.copyto of the
same bytes into a preallocated, already-touched buffer).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import resource
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import numpy as np

from camwall.frames import FrameRing

W, H = 2560, 1440


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(fn: Callable[[], object], frames: int) -> tuple[float, float, float]:
    """(wall ms, CPU ms, minor faults) per call of ``fn`` over ``frames`` calls."""
    f0, c0, t0 = _faults(), time.process_time(), time.perf_counter()
    for _ in range(frames):
        fn()
    t1, c1, f1 = time.perf_counter(), time.process_time(), _faults()
    return (t1 - t0) * 1e3 / frames, (c1 - c0) * 1e3 / frames, (f1 - f0) / frames


def _queue_consumer(q: mp.Queue, done: Connection, frames: int) -> None:  # type: ignore[type-arg]
    for _ in range(frames):
        q.get()
    done.send(time.process_time())


def measure_queue(src: np.ndarray, frames: int) -> tuple[float, float, float]:
    """multiprocessing.Queue carrying the array to another process: wall and both sides' CPU."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue(maxsize=4)
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_queue_consumer, args=(q, child, frames))
    proc.start()
    q.put(src[:1, :1].copy())  # make sure the consumer is up before timing
    q.get()
    f0, c0, t0 = _faults(), time.process_time(), time.perf_counter()
    for _ in range(frames):
        q.put(src)
    consumer_cpu = parent.recv()
    t1, c1, f1 = time.perf_counter(), time.process_time(), _faults()
    proc.join()
    q.close()
    q.join_thread()
    # The consumer's CPU includes its start-up; subtract a baseline by measuring it idle is
    # overkill here: report producer CPU + consumer CPU as an upper bound.
    return (t1 - t0) * 1e3 / frames, ((c1 - c0) + consumer_cpu) * 1e3 / frames, (f1 - f0) / frames


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    src = rng.integers(0, 256, (H, W, 4), dtype=np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # touch every page once
    ring = FrameRing.create(FrameRing.capacity_for(W, H), slots=3)
    reader = FrameRing.attach(ring.name)
    out = np.empty_like(src)
    for _ in range(ring.slots):
        ring.publish(src)  # touch every slot's pages once
    reader.read_latest(out=out)

    def view_and_check() -> None:
        with reader.view_latest() as view:
            assert view is not None
            view.array[0, 0, 0]  # touch it, as a painter would
            view.intact()

    # A ring rotates over its slots, so each publish writes memory that is not in the cache;
    # this floor pays the same: copies into three preallocated buffers in turn.
    rotating = [np.empty_like(src) for _ in range(ring.slots)]
    for buf in rotating:
        np.copyto(buf, src)
    turn = itertools.cycle(rotating)
    tiny = np.zeros((64, 64, 4), np.uint8)

    variants: dict[str, Callable[[], object]] = {
        "memcpy floor (np.copyto)": lambda: np.copyto(dst, src),
        "memcpy floor, 3 buffers in turn": lambda: np.copyto(next(turn), src),
        "ring.publish": lambda: ring.publish(src),
        "ring.read_latest(out=buf)": lambda: reader.read_latest(out=out),
        "ring.read_latest() (new array)": lambda: reader.read_latest(),
        "ring.view_latest + intact (zero-copy)": view_and_check,
        "ring.publish 64×64 (fixed overhead)": lambda: ring.publish(tiny),
    }
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
    results["multiprocessing.Queue (pickle)"] = []
    try:
        for _ in range(args.rounds):
            for name, fn in variants.items():
                results[name].append(measure(fn, args.frames))
            results["multiprocessing.Queue (pickle)"].append(
                measure_queue(src, max(10, args.frames // 2))
            )
    finally:
        reader.close()
        ring.unlink()
        ring.close()

    med = {
        k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in results.items()
    }
    floor = med["memcpy floor (np.copyto)"][0]
    floor3 = med["memcpy floor, 3 buffers in turn"][0]
    print(
        f"frame ring, {W}×{H} BGRA ({src.nbytes / 1e6:.1f} MB), median of {args.rounds} rounds × {args.frames}"
    )
    print(
        f"{'variant':40} {'wall ms':>8} {'cpu ms':>8} {'faults':>8} {'× floor':>8} {'× 3-buf':>8}"
    )
    for name, (wall, cpu, faults) in med.items():
        print(
            f"{name:40} {wall:8.3f} {cpu:8.3f} {faults:8.0f} {wall / floor:8.2f} {wall / floor3:8.2f}"
        )
    print(f"fence: {ring.fence_kind}")


if __name__ == "__main__":
    main()
