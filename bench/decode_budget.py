"""The decode budget: 16 cameras of 2560×1440 H.264 (25 fps, GOP 1 s) on 2 cores, one enlarged.

Run: .venv/bin/python bench/decode_budget.py [--cameras 16] [--seconds 20] [--rounds 2]
                                             [--no-write]

Every camera reads bench/clip1440.py's clip over loopback RTSP (bench/rtsp_clip_server.py:
pre-encoded access units paced at 25 fps, nothing encoded while measuring). Each run is a
fresh child process (``--child``) with the real parts of the wall: a
``camwall.runtime.Runtime`` (capture worker processes), its Qt face ``WallCameras`` and
``CameraTile`` VideoViews, laid out as one enlarged tile (960×540, the focused camera) beside
15 small ones (240×135), Qt offscreen. Two designs, interleaved round by round:

- **budget on**: ``[wall] decode_budget = true`` (the default);
- **budget off**: every camera decoded in full, as before the budget existed.

Measured over ``--seconds`` after ``--warmup``: the enlarged camera's frames shown / sent and
its capture→paint latency p95; the small tiles' update rate (distinct frames shown per
second: minimum and median); the longest UI-thread stall (a 5 ms timer's worst lateness);
CPU of the whole process tree; and how many cameras each policy held at the end. Medians over
rounds; unless ``--no-write``, the table goes under "## Decode budget" in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clip1440 import make_clip
from docs_block import replace_block
from wall import ClipServer

DESIGNS = ("budget-on", "budget-off")
BIG = (960, 540)
SMALL = (240, 135)


# -- the child ---------------------------------------------------------------------------------


def child_main(design: str, cameras: int, url: str, warmup: float, seconds: float) -> None:
    """One measured run; prints RESULT <json>."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qtpy.QtCore import QElapsedTimer, QTimer
    from qtpy.QtWidgets import QApplication, QGridLayout, QWidget

    from camwall.config import Camera, Config, WallConfig
    from camwall.runtime import Runtime
    from camwall.ui.view.view_stats import StatsCollector
    from camwall.ui.wall.tile import CameraTile
    from camwall.ui.wall.wall_cameras import WallCameras

    app = QApplication.instance() or QApplication([])
    latencies: list[float] = []
    measuring = [False]

    class BigCollector(StatsCollector):
        def shown(self, latency_ns: int, width: int, height: int) -> None:
            super().shown(latency_ns, width, height)
            if measuring[0]:
                latencies.append(latency_ns / 1e6)

    config = Config(wall=WallConfig(decode_budget=design == "budget-on"))
    runtime = Runtime(config, mode="process")
    names = [f"cam{i:02d}" for i in range(cameras)]
    wall = WallCameras(runtime, lambda name: "main", focused=lambda name: name == names[0])
    window = QWidget()
    grid = QGridLayout(window)
    grid.setSpacing(2)
    tiles: list[CameraTile] = []
    for i, name in enumerate(names):
        tile = CameraTile(name)
        if i == 0:
            tile._collector = BigCollector()  # the bench's window into the big tile's paints
            tile.setFixedSize(*BIG)
            grid.addWidget(tile, 0, 0, 4, 4)
        else:
            tile.setFixedSize(*SMALL)
            row, col = divmod(i - 1, 4)
            grid.addWidget(tile, row, 4 + col)  # 4 rows × 4 columns beside the big one
        wall.add(Camera(name=name, url=url), tile, start=False)
        tiles.append(tile)
    window.show()
    app.processEvents()
    for name in names:
        wall.start(name)

    worst = [0.0]
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def beat() -> None:
        now = clock.elapsed()
        if measuring[0]:
            worst[0] = max(worst[0], now - last[0] - 5)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(beat)
    timer.start(5)

    def wait(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.002)

    wait(warmup)
    shown0 = [t.shown_seq for t in tiles]
    distinct = [0] * cameras
    seen = [t.shown_seq for t in tiles]
    me = psutil.Process()

    def cpu() -> float:
        total = 0.0
        for proc in [me, *me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    cpu0 = cpu()
    measuring[0] = True
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        app.processEvents()
        for i, tile in enumerate(tiles):
            if tile.shown_seq != seen[i]:
                distinct[i] += 1
                seen[i] = tile.shown_seq
        time.sleep(0.002)
    elapsed = time.monotonic() - start
    measuring[0] = False
    used = cpu() - cpu0
    policies = {n: runtime.decode_policy(n) for n in names}
    result = {
        "design": design,
        "seconds": elapsed,
        "big_shown": distinct[0],
        "big_sent": 25 * elapsed,
        "latencies": latencies,
        "small_fps": [d / elapsed for d in distinct[1:]],
        "stall_ms": worst[0],
        "cpu_cores": used / elapsed,
        "policies": {
            p: sum(1 for v in policies.values() if v == p) for p in set(policies.values())
        },
        "never_shown": sum(1 for i in range(cameras) if tiles[i].shown_seq == shown0[i] == 0),
    }
    timer.stop()
    wall.begin_close()
    runtime.close(15.0)
    window.close()
    print("RESULT " + json.dumps(result), flush=True)


# -- the orchestrator --------------------------------------------------------------------------


def run_one(design: str, cameras: int, url: str, warmup: float, seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", design]
    cmd += ["--cameras", str(cameras), "--url", url]
    cmd += ["--warmup", str(warmup), "--seconds", str(seconds)]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=warmup + seconds + 120, check=False
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise SystemExit(f"{design}: no result (exit {out.returncode}): {out.stderr[-2000:]}")


def summarise(runs: list[dict[str, Any]]) -> dict[str, float]:
    def med(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    def p95(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")

    return {
        "big_pct": med([100 * r["big_shown"] / r["big_sent"] for r in runs]),
        "big_p95": med([p95(r["latencies"]) for r in runs]),
        "small_min": med([min(r["small_fps"]) for r in runs]),
        "small_med": med([statistics.median(r["small_fps"]) for r in runs]),
        "stall": med([r["stall_ms"] for r in runs]),
        "cpu": med([r["cpu_cores"] for r in runs]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", choices=DESIGNS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.cameras, args.url, args.warmup, args.seconds)
        return 0
    clip = make_clip()
    server = ClipServer(clip.au)
    runs: dict[str, list[dict[str, Any]]] = {d: [] for d in DESIGNS}
    try:
        for round_ in range(args.rounds):
            for design in DESIGNS:
                result = run_one(design, args.cameras, server.url, args.warmup, args.seconds)
                runs[design].append(result)
                s = summarise([result])
                print(
                    f"round {round_ + 1}/{args.rounds} {design}: big {s['big_pct']:.0f} % "
                    f"p95 {s['big_p95']:.0f} ms, small ≥ {s['small_min']:.2f} fps, "
                    f"stall {s['stall']:.0f} ms, {s['cpu']:.2f} cores, {result['policies']}",
                    flush=True,
                )
    finally:
        server.close()
    lines = [
        f"{args.cameras} cameras of 2560×1440 H.264 25 fps (GOP 1 s) on {psutil.cpu_count()} "
        f"cores, one enlarged (960×540) beside {args.cameras - 1} small tiles (240×135); "
        f"median of {args.rounds} interleaved rounds of {args.seconds:g} s:",
        "",
        "| decode budget | enlarged: frames shown | enlarged: latency p95 | small tiles: "
        "slowest / median fps | worst UI stall | CPU cores | policies at the end |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for design in DESIGNS:
        s = summarise(runs[design])
        policies = runs[design][-1]["policies"]
        lines.append(
            f"| {design.removeprefix('budget-')} | {s['big_pct']:.0f} % | {s['big_p95']:.0f} ms | "
            f"{s['small_min']:.2f} / {s['small_med']:.2f} | {s['stall']:.0f} ms | "
            f"{s['cpu']:.2f} | {', '.join(f'{k} {v}' for k, v in sorted(policies.items()))} |"
        )
    lines += [
        "",
        f"`.venv/bin/python bench/decode_budget.py --cameras {args.cameras} "
        f"--seconds {args.seconds:g} --warmup {args.warmup:g} --rounds {args.rounds}`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        replace_block("## Decode budget", "decode-budget", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
