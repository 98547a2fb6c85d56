"""The camera wall end to end: camwall against the original design and the floor, 1–8 cameras.

Run: .venv/bin/python bench/wall.py [--cameras 1,2,4,8] [--seconds 15] [--rounds 2]
                                   [--quick] [--no-write]

Every camera reads the same generated clip (bench/clip1440.py: 2560×1440 H.264, 25 fps,
GOP 25, ~5 Mbit/s) served over loopback RTSP by bench/rtsp_clip_server.py, which sends the
pre-encoded access units at 25 fps and loops (nothing is encoded while measuring). Each
(design, camera count) is a fresh process run of this script (``--child``), Qt on the
offscreen platform, tiles 960×540, every design on the same Qt binding (``--binding``,
default PyQt5, the original's own; ``--binding pyside6`` measures camwall's default binding.
PySide6 6.12.0 on Python 3.11 drops references to None/True and aborts a wall within a
minute: the child refuses it, see bench/wall_child.py's ``binding_refcount_bug``):

- **original**: bench/original_design.py — cv2 capture QThreads, one fixed shared-memory
  block per camera, a ``Signal(str, int, int)`` per frame, open-by-name, BGR→RGB,
  ``QImage.scaled(Smooth)``, ``QPixmap``, ``setPixmap`` on a QLabel;
- **camwall**: the real wall's parts — a ``camwall.runtime.Runtime`` (capture workers in
  processes; frames published at tile size) with its Qt face ``WallCameras`` and
  ``CameraTile`` VideoViews in a ``CameraGrid``;
- **camwall-rec**: the same with recording on for every camera (remux into MP4 segments in
  the capture worker: no second decode);
- **floor full / floor tile**: bench/floor_design.py — bare decode + one conversion + one
  copy + one paint, with the conversion at full size (scaled at paint) or at tile size
  (painted 1:1). "The floor" of a camera count is the cheaper of the two.

Measured in the child over a window that starts ``--warmup`` s after every camera showed a
frame: CPU of all its processes (UI + workers, psutil) per displayed frame, frames shown
(distinct frames painted) vs sent (the server's count), capture→paint latency (the frame's
``time.monotonic_ns()`` after decoding vs the end of the paint that first showed it),
UI-thread CPU per displayed frame; this script samples the peak memory of the child's whole
process tree meanwhile (RSS sum; PSS sum, which counts shared memory once). Runs are
interleaved: round by round, camera count by camera count, design by design. Medians over
rounds are printed; unless ``--no-write``/``--quick``, the table replaces the generated block
under "## Wall" in docs/benchmarks.md and the plot goes to docs/wall-bench.png.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import selectors
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clip1440 import make_clip
from docs_block import replace_block
from wall_child import DESIGNS, READY_TIMEOUT_S, TILE, child_main

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER = HERE / "rtsp_clip_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
LABELS = {
    "original": "original design",
    "camwall": "camwall",
    "camwall-rec": "camwall, recording every camera",
    "floor-full": "floor, full-size conversion",
    "floor-tile": "floor, tile-size conversion",
}
FULL_RATE = 0.95  # shown/sent at or above this counts as "full rate"


# -- the orchestrator ------------------------------------------------------------------------------


class ClipServer:
    """bench/rtsp_clip_server.py under the system Python, with its stdin/stdout commands."""

    def __init__(self, au: Path, size: tuple[int, int] = (2560, 1440)) -> None:
        command = [SYSTEM_PYTHON, str(SERVER), "--au", str(au)]
        command += ["--width", str(size[0]), "--height", str(size[1])]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        line = self._line(20.0)
        if not line.startswith("READY "):
            self.close()
            raise SystemExit(f"the RTSP clip server did not start: {line!r}")
        self.url = f"rtsp://127.0.0.1:{int(line.split()[1])}/clip"

    def _line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return ""
        return self.proc.stdout.readline().strip()

    def ask(self, command: str) -> int:
        """Send a command answered by ``OK <n>``; return n."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        reply = self._line(5.0)
        if not reply.startswith("OK "):
            raise RuntimeError(f"RTSP clip server: {command!r} → {reply!r}")
        return int(reply.split()[1])

    def close(self) -> None:
        """Stop the server."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


class _MemorySampler(threading.Thread):
    """Samples the child's whole process tree: peak RSS sum and peak PSS sum."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="memory-sampler", daemon=True)
        self.pid = pid
        self.peak_rss = 0
        self.peak_pss = 0
        self.done = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.done.wait(0.5):
            rss = pss = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            for proc in procs:
                try:
                    info = proc.memory_full_info()
                except psutil.Error:
                    continue
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)


def run_one(
    design: str, cameras: int, server: ClipServer, warmup: float, seconds: float, binding: str
) -> dict[str, Any]:
    """One child run of ``design`` with ``cameras`` cameras; its measurements."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API=binding)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", design]
    cmd += ["--n", str(cameras), "--url", server.url]
    cmd += ["--warmup", str(warmup), "--seconds", str(seconds)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    sampler = _MemorySampler(proc.pid)
    sampler.start()
    # The child ends itself on time; this only guards against a bug leaving it running.
    watchdog = threading.Timer(READY_TIMEOUT_S + warmup + seconds + 60.0, proc.kill)
    watchdog.start()
    sent0 = sent1 = dropped0 = dropped1 = 0
    result: dict[str, Any] | None = None
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("WINDOW START"):
                sent0, dropped0 = server.ask("sent"), server.ask("dropped")
            elif line.startswith("WINDOW END"):
                sent1, dropped1 = server.ask("sent"), server.ask("dropped")
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
        proc.wait(60)
    finally:
        watchdog.cancel()
        sampler.done.set()
        sampler.join()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        for block in Path("/dev/shm").glob("original_frame_*"):
            # Left by a run whose UI thread never caught up (see stop_from_thread).
            block.unlink(missing_ok=True)
    if result is None or proc.returncode:
        raise SystemExit(f"{design} × {cameras}: the run failed (exit code {proc.returncode})")
    # "Sent" is what the cameras produced in the window; the server dropped some of it for
    # clients that fell a second behind (as a camera does).
    result.update(
        sent=(sent1 - sent0) + (dropped1 - dropped0),
        server_dropped=dropped1 - dropped0,
        peak_rss=sampler.peak_rss,
        peak_pss=sampler.peak_pss,
    )
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over rounds of one (design, cameras)."""

    def med(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    def pct(r: dict[str, Any], q: float) -> float:
        lat = sorted(r["latencies_ms"])
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    return {
        "cpu_ms": med([r["cpu_s"] * 1e3 / r["shown"] if r["shown"] else math.inf for r in runs]),
        "ui_ms": med([r["ui_s"] * 1e3 / r["shown"] if r["shown"] else math.inf for r in runs]),
        "shown_fps": med([r["shown"] / r["seconds"] for r in runs]),
        "sent_fps": med([r["sent"] / r["seconds"] for r in runs]),
        "shown_ratio": med([r["shown"] / max(1, r["sent"]) for r in runs]),
        "p50": med([pct(r, 0.50) for r in runs]),
        "p95": med([pct(r, 0.95) for r in runs]),
        "max": med([max(r["latencies_ms"], default=float("nan")) for r in runs]),
        "rss_mb": med([r["peak_rss"] / 2**20 for r in runs]),
        "pss_mb": med([r["peak_pss"] / 2**20 for r in runs]),
        "cpu_cores": med([r["cpu_s"] / r["seconds"] for r in runs]),
    }


def table(
    stats: dict[tuple[str, int], dict[str, float]], counts: list[int], designs: list[str]
) -> list[str]:
    """The results as a Markdown table, with each design's ratio to the floor."""
    lines = [
        "| design | cameras | CPU ms/shown frame | × floor | CPU cores used | shown/sent fps | shown % | "
        "latency p50 / p95 / max ms | UI-thread ms/frame | peak RSS MB | peak PSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in counts:
        floor = _floor(stats, n)
        for d in designs:
            s = stats.get((d, n))
            if s is None:
                continue
            ratio = s["cpu_ms"] / floor if floor else float("nan")
            lines.append(
                f"| {LABELS[d]} | {n} | {s['cpu_ms']:.1f} | {ratio:.2f} | {s['cpu_cores']:.2f} | "
                f"{s['shown_fps']:.1f} / {s['sent_fps']:.1f} | {100 * s['shown_ratio']:.0f} | "
                f"{s['p50']:.0f} / {s['p95']:.0f} / {s['max']:.0f} | {s['ui_ms']:.2f} | "
                f"{s['rss_mb']:.0f} | {s['pss_mb']:.0f} |"
            )
    return lines


def _floor(stats: dict[tuple[str, int], dict[str, float]], n: int) -> float:
    values = [stats[(d, n)]["cpu_ms"] for d in ("floor-full", "floor-tile") if (d, n) in stats]
    return min(values) if values else float("nan")


def full_rate_cameras(
    stats: dict[tuple[str, int], dict[str, float]], design: str, counts: list[int]
) -> int:
    """The most cameras ``design`` showed at full rate (≥ FULL_RATE of the frames sent)."""
    ok = [
        n for n in counts if (design, n) in stats and stats[(design, n)]["shown_ratio"] >= FULL_RATE
    ]
    return max(ok, default=0)


def plot(
    stats: dict[tuple[str, int], dict[str, float]],
    counts: list[int],
    designs: list[str],
    path: Path,
) -> None:
    """CPU per shown frame and latency p95 against the camera count (PNG, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4.2))
    styles = {
        "original": "o-",
        "camwall": "s-",
        "camwall-rec": "D-",
        "floor-full": "^--",
        "floor-tile": "v--",
    }
    for d in designs:
        xs = [n for n in counts if (d, n) in stats]
        ax1.plot(xs, [stats[(d, n)]["cpu_ms"] for n in xs], styles[d], label=LABELS[d])
        ax2.plot(xs, [stats[(d, n)]["p95"] for n in xs], styles[d], label=LABELS[d])
        ax3.plot(xs, [100 * stats[(d, n)]["shown_ratio"] for n in xs], styles[d], label=LABELS[d])
    for ax, title in (
        (ax1, "CPU ms per shown frame (all processes)"),
        (ax2, "capture→paint latency p95, ms"),
        (ax3, "frames shown, % of sent"),
    ):
        ax.set_xlabel("cameras (2560×1440 H.264, 25 fps; 960×540 tiles)")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(counts)
        ax.grid(alpha=0.3)
    ax1.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    ax3.set_ylim(0, 105)
    ax1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    """Parse arguments; run the child, or orchestrate every run and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", default="1,2,4,8", help="comma-separated camera counts")
    parser.add_argument("--designs", default=",".join(DESIGNS), help="comma-separated designs")
    parser.add_argument("--seconds", type=float, default=15.0, help="measurement window per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before the window")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--binding",
        choices=("pyqt5", "pyside6", "pyqt6"),
        default="pyqt5",
        help="Qt binding for every design (default pyqt5, the original's own; PySide6 6.12.0 "
        "cannot run a wall on Python 3.11, see wall_child.binding_refcount_bug)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1 camera, short runs")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    parser.add_argument("--child", choices=DESIGNS, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.n, args.url, args.warmup, args.seconds)
        return
    if args.quick:
        args.cameras, args.seconds, args.warmup, args.rounds = "1", 2.0, 1.0, 1
    counts = sorted({int(c) for c in args.cameras.split(",") if c.strip()})
    designs = [d.strip() for d in args.designs.split(",") if d.strip()]
    unknown = set(designs) - set(DESIGNS)
    if unknown or not counts or min(counts) < 1:
        parser.error(f"--designs: choose from {', '.join(DESIGNS)}; --cameras: positive numbers")
    if not Path(SYSTEM_PYTHON).exists():
        raise SystemExit(f"{SYSTEM_PYTHON} with GStreamer's rtsp-server bindings is needed")
    clip = make_clip(seconds=4 if args.quick else 10)
    print(
        f"clip: {clip.width}×{clip.height} H.264, {clip.fps} fps, {clip.frames} frames looping, "
        f"{clip.kbytes_per_frame:.0f} kB/frame ({clip.mbit_s:.1f} Mbit/s), GOP 25; tiles "
        f"{TILE[0]}×{TILE[1]}; window {args.seconds:g} s after {args.warmup:g} s warm-up; "
        f"Qt binding {args.binding}"
    )
    load0 = os.getloadavg()[0]
    server = ClipServer(clip.au)
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    try:
        for r in range(args.rounds):
            for n in counts:
                for d in designs:
                    res = run_one(d, n, server, args.warmup, args.seconds, args.binding)
                    runs.setdefault((d, n), []).append(res)
                    print(
                        f"round {r + 1}/{args.rounds} {d} × {n}: "
                        f"{res['cpu_s'] * 1e3 / max(1, res['shown']):.1f} ms/frame, "
                        f"shown {res['shown']}/{res['sent']}, load {os.getloadavg()[0]:.2f}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        server.close()
    load1 = os.getloadavg()[0]
    stats = {key: summarise(value) for key, value in runs.items()}
    lines = table(stats, counts, designs)
    summary = [
        "most cameras at full rate (shown ≥ 95 % of sent): "
        + ", ".join(f"{LABELS[d]} {full_rate_cameras(stats, d, counts)}" for d in designs),
        f"load average {load0:.2f} at start, {load1:.2f} at end",
    ]
    print(f"\nmedian of {args.rounds} interleaved rounds; the floor = the cheaper floor variant\n")
    print("\n".join(lines))
    print()
    print("\n".join(summary))
    if not (args.no_write or args.quick):
        plot(stats, counts, designs, ROOT / "docs" / "wall-bench.png")
        command = (
            f"`.venv/bin/python bench/wall.py --cameras {','.join(map(str, counts))} "
            f"--seconds {args.seconds:g} --warmup {args.warmup:g} --rounds {args.rounds}`"
        )
        header = (
            f"{time.strftime('%Y-%m-%d %H:%M')} — {command} ({platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {args.binding}; clip "
            f"{clip.kbytes_per_frame:.0f} kB/frame, {clip.mbit_s:.1f} Mbit/s; median of "
            f"{args.rounds} interleaved rounds; {summary[-1]}):"
        )
        text = "\n".join(
            [header, "", *lines, "", summary[0], "", "![wall benchmark](wall-bench.png)"]
        )
        replace_block("## Wall", "bench/wall.py", text)


if __name__ == "__main__":
    main()
