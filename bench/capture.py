"""CPU per published 1440p frame: camwall's capture worker against the bare decode floor.

Run: .venv/bin/python bench/capture.py [--frames 250] [--rounds 5] [--quick] [--no-write]

The clip is bench/clip1440.py's (2560×1440 H.264, 25 fps, 10 s, GOP 25, ~5 Mbit/s, made once
and cached under bench/out/). Each variant runs in a fresh child process (spawn), reads the
clip as a file, unpaced and looping, and is measured over ``--frames`` frames after a GOP of
warm-up (first-touch page faults, decoder start-up). Rounds are interleaved, so machine
noise hits every variant alike; the table gives medians over rounds:

- **bare decode**: PyAV demux + decode only, with camwall's decoder threading (one thread,
  ``thread_type NONE``; see camwall.sources.avoptions), nothing done with the frames;
- **decode + one conversion**: the same, plus the I420 planes copied into one contiguous
  buffer and ``cv2.cvtColor(COLOR_YUV2BGRA_I420, dst=…)`` into one shared-memory block, with
  OpenCV on one thread (its pool splits each conversion over both cores and spin-waits
  between frames: more CPU per frame, not less);
- **camwall worker**: camwall's capture worker process, started by a real
  ``CaptureSupervisor`` (process mode) with a file source (``realtime=False``, ``loop=True``),
  publishing into the supervisor's 3-slot ``FrameRing``: PyAVSource, stall and stats
  bookkeeping, conversion into the slot, events to the supervisor;
- **original design**: ``cv2.VideoCapture`` decode (OpenCV's own FFmpeg threads and BGR
  conversion), ``cvtColor`` BGR→RGB, copy into one ``SharedMemory`` block.

CPU is the measured process's time (all threads) between two snapshots taken on frame
boundaries (for camwall: the worker process's scheduler run time from /proc, read when the
ring's sequence passes the marks); minor page faults are that process's too. Target: camwall ≤ 1.25× bare decode.
Unless ``--no-write`` or ``--quick``, the table replaces the generated block under
"## Capture" in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import av
import cv2
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clip1440 import Clip, make_clip
from docs_block import replace_block

TARGET = 1.25
WARMUP = 25  # one GOP


@dataclass(frozen=True)
class Sample:
    """Per-frame cost of one variant in one round."""

    cpu_ms: float
    wall_ms: float
    faults: float
    frames: int


def _snapshot() -> tuple[float, float, int]:
    return (
        time.process_time(),
        time.perf_counter(),
        resource.getrusage(resource.RUSAGE_SELF).ru_minflt,
    )


class Meter:
    """Counts frames; snapshots CPU, time and faults after the warm-up and at the end."""

    def __init__(self, warmup: int, frames: int) -> None:
        self.warmup, self.frames, self.n = warmup, frames, 0
        self.start: tuple[float, float, int] | None = None
        self.sample: Sample | None = None

    def tick(self, n: int = 1) -> bool:
        """``n`` more frames are done; True once the measurement is complete."""
        self.n += n
        if self.start is None and self.n >= self.warmup:
            self.start, self.n = _snapshot(), 0
        elif self.start is not None and self.n >= self.frames:
            c1, t1, f1 = _snapshot()
            c0, t0, f0 = self.start
            k = self.n
            self.sample = Sample((c1 - c0) * 1e3 / k, (t1 - t0) * 1e3 / k, (f1 - f0) / k, k)
            return True
        return False


def _pyav_decoder(path: Path) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    container = av.open(str(path))
    stream = container.streams.video[0]
    # camwall's default decoder threading (SourceSettings.decoder_threads=0): one thread.
    stream.codec_context.thread_type = "NONE"
    stream.codec_context.thread_count = 1
    return container, stream


def _decode_loop(path: Path, meter: Meter, per_frame: Callable[[av.VideoFrame], None]) -> None:
    container, stream = _pyav_decoder(path)
    try:
        while True:
            for packet in container.demux(stream):
                for frame in stream.decode(packet):
                    per_frame(frame)
                    if meter.tick():
                        return
            container.seek(0)  # loop, as the camwall source does
            stream.codec_context.flush_buffers()
    finally:
        container.close()


def run_decode(clip: Clip, meter: Meter) -> None:
    """Bare decode: nothing is done with the frames."""
    _decode_loop(clip.mp4, meter, lambda frame: None)


def _plane(frame: av.VideoFrame, i: int, w: int, h: int) -> np.ndarray:
    plane = frame.planes[i]
    return np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[:h, :w]


def run_decode_convert(clip: Clip, meter: Meter) -> None:
    """Decode + planes into one I420 buffer + cvtColor into one shared-memory block."""
    # The cheapest way to run it: OpenCV's thread pool costs CPU (see the module docstring).
    cv2.setNumThreads(1)
    shm = SharedMemory(create=True, size=clip.width * clip.height * 4)
    try:
        _convert_loop(clip, meter, shm)
    finally:
        shm.close()  # the loop's views into the block are gone with its frame
        shm.unlink()


def _convert_loop(clip: Clip, meter: Meter, shm: SharedMemory) -> None:
    w, h = clip.width, clip.height
    dst = np.ndarray((h, w, 4), np.uint8, buffer=shm.buf)
    i420 = np.empty((h * 3 // 2, w), np.uint8)
    u = i420[h:].reshape(-1)[: h * w // 4].reshape(h // 2, w // 2)
    v = i420[h:].reshape(-1)[h * w // 4 :].reshape(h // 2, w // 2)

    def convert(frame: av.VideoFrame) -> None:
        np.copyto(i420[:h], _plane(frame, 0, w, h))
        np.copyto(u, _plane(frame, 1, w // 2, h // 2))
        np.copyto(v, _plane(frame, 2, w // 2, h // 2))
        cv2.cvtColor(i420, cv2.COLOR_YUV2BGRA_I420, dst=dst)

    _decode_loop(clip.mp4, meter, convert)


def process_cpu(pid: int) -> tuple[float, int]:
    """(CPU seconds of all live threads, minor faults) of process ``pid``, read from /proc.

    The scheduler's per-thread run time (``se.sum_exec_runtime``, µs resolution) where the
    kernel shows it; psutil's tick-resolution times otherwise.
    """
    total = 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for line in (task / "sched").read_text().splitlines():
                if line.startswith("se.sum_exec_runtime"):
                    total += float(line.split(":")[1]) / 1e3
                    break
    except OSError:
        total = 0.0
    proc = psutil.Process(pid)
    if total == 0.0:
        times = proc.cpu_times()
        total = times.user + times.system
    stat = Path(f"/proc/{pid}/stat").read_text()
    minflt = int(stat.rsplit(")", 1)[1].split()[7])
    return total, minflt


def run_camwall(clip: Clip, meter: Meter) -> None:
    """camwall's capture worker process, started by a real CaptureSupervisor, into its ring.

    The supervisor (here, as in the wall) spawns the worker, owns the ring and drains the
    worker's events on its own thread; this process only watches the ring's sequence and
    reads the worker process's CPU time and page faults from /proc at the frame marks.
    """
    from camwall.capture import CameraSpec, CaptureSupervisor
    from camwall.frames import FrameRing
    from camwall.sources import SourceSettings

    me = psutil.Process()
    before = {p.pid for p in me.children()}
    spec = CameraSpec(
        "bench",
        SourceSettings(url=str(clip.mp4), realtime=False, loop=True),
        initial_frame=(clip.width, clip.height),
    )
    supervisor = CaptureSupervisor(mode="process")
    ring: FrameRing | None = None
    worker: list[int] = []
    try:
        supervisor.start(spec)
        deadline = time.monotonic() + 30
        while ring is None or not worker:
            if time.monotonic() > deadline:
                raise SystemExit("camwall: the capture worker did not start within 30 s")
            time.sleep(0.01)
            name = supervisor.ring_name("bench")
            if ring is None and name:
                ring = FrameRing.attach(name)
            worker = [
                p.pid
                for p in me.children()
                if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline())
            ]
        pid = worker[0]
        start: tuple[float, float, int] | None = None
        start_seq = 0
        while True:
            time.sleep(0.005)
            seq = ring.latest_seq
            if start is None and seq >= meter.warmup:
                cpu, faults = process_cpu(pid)
                start, start_seq = (cpu, time.perf_counter(), faults), seq
            elif start is not None and seq - start_seq >= meter.frames:
                cpu, faults = process_cpu(pid)
                frames = seq - start_seq
                c0, t0, f0 = start
                meter.sample = Sample(
                    (cpu - c0) * 1e3 / frames,
                    (time.perf_counter() - t0) * 1e3 / frames,
                    (faults - f0) / frames,
                    frames,
                )
                break
    finally:
        if ring is not None:
            ring.close()
        supervisor.close(10.0)


def run_original(clip: Clip, meter: Meter) -> None:
    """The original design's capture thread: VideoCapture, BGR→RGB, copy into one block."""
    w, h = clip.width, clip.height
    shm = SharedMemory(create=True, size=w * h * 3)
    cap = cv2.VideoCapture(str(clip.mp4))
    try:
        block = np.ndarray((h, w, 3), np.uint8, buffer=shm.buf)
        while True:
            ok, frame = cap.read()
            if not ok:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            block[:] = rgb
            if meter.tick():
                break
        del block
    finally:
        cap.release()
        shm.close()
        shm.unlink()


VARIANTS: dict[str, tuple[str, Callable[[Clip, Meter], None]]] = {
    "decode": ("bare decode (PyAV, 1 thread)", run_decode),
    "convert": (
        "decode + one conversion (cvtColor I420→BGRA, 1 thread, into one shm block)",
        run_decode_convert,
    ),
    "camwall": ("camwall capture worker process → FrameRing", run_camwall),
    "original": (
        "original: cv2.VideoCapture + cvtColor BGR→RGB + copy into one shm block",
        run_original,
    ),
}


def _child(variant: str, clip: Clip, warmup: int, frames: int, conn: Connection) -> None:
    meter = Meter(warmup, frames)
    VARIANTS[variant][1](clip, meter)
    conn.send(meter.sample)
    conn.close()


def measure(variant: str, clip: Clip, warmup: int, frames: int) -> Sample:
    """Run ``variant`` in a fresh spawned process and return its per-frame cost."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(variant, clip, warmup, frames, child))
    proc.start()
    child.close()
    try:
        sample = parent.recv()
    except EOFError:
        proc.join()
        raise SystemExit(f"{variant}: the child process died (exit code {proc.exitcode})") from None
    proc.join()
    if sample is None:
        raise SystemExit(f"{variant}: no measurement (the clip ended early?)")
    return sample


def table(results: dict[str, list[Sample]]) -> list[str]:
    """The Markdown table of medians."""

    def med(name: str, field: str) -> float:
        return statistics.median(getattr(s, field) for s in results[name])

    base, conv = med("decode", "cpu_ms"), med("convert", "cpu_ms")
    lines = [
        "| variant | CPU ms/frame | × bare decode | × decode + conversion | minor faults/frame | wall ms/frame |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, (label, _) in VARIANTS.items():
        if key not in results:
            continue
        cpu = med(key, "cpu_ms")
        lines.append(
            f"| {label} | {cpu:.2f} | {cpu / base:.2f} | {cpu / conv:.2f} | "
            f"{med(key, 'faults'):.1f} | {med(key, 'wall_ms'):.2f} |"
        )
    return lines


def main() -> None:
    """Measure, print the table, and record it in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=250, help="measured frames per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 2 short rounds")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.rounds = 40, 2
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - set(VARIANTS)
    if unknown or not {"decode", "convert"} <= set(names):
        parser.error(f"--only: choose from {', '.join(VARIANTS)} (decode and convert are needed)")
    clip = make_clip(seconds=4 if args.quick else 10)
    print(
        f"clip: {clip.width}×{clip.height} H.264, {clip.fps} fps, {clip.frames} frames, "
        f"{clip.kbytes_per_frame:.0f} kB/frame ({clip.mbit_s:.1f} Mbit/s), GOP 25, no B-frames"
    )
    load0 = os.getloadavg()[0]
    results: dict[str, list[Sample]] = {n: [] for n in names}
    for r in range(args.rounds):
        for name in names:
            results[name].append(measure(name, clip, WARMUP, args.frames))
        print(
            f"round {r + 1}/{args.rounds}: "
            + ", ".join(f"{n} {results[n][-1].cpu_ms:.2f}" for n in names),
            file=sys.stderr,
        )
    load1 = os.getloadavg()[0]
    lines = table(results)
    print(
        f"\nper 2560×1440 frame, median of {args.rounds} interleaved rounds × {args.frames} frames"
    )
    print()
    print("\n".join(lines))
    base = statistics.median(s.cpu_ms for s in results["decode"])
    summary = []
    if "camwall" in results:
        ratio = statistics.median(s.cpu_ms for s in results["camwall"]) / base
        verdict = "met" if ratio <= TARGET else "MISSED"
        summary.append(f"camwall / bare decode = {ratio:.2f} (target ≤ {TARGET}: {verdict})")
    summary.append(f"load average {load0:.2f} at start, {load1:.2f} at end")
    print()
    print("\n".join(summary))
    if not (args.no_write or args.quick):
        command = (
            f"`.venv/bin/python bench/capture.py --frames {args.frames} --rounds {args.rounds}`"
        )
        stamp = time.strftime("%Y-%m-%d %H:%M")
        text = "\n".join(
            [
                f"{stamp} — {command} ({platform.machine()}, {os.cpu_count()} CPUs, "
                f"Python {platform.python_version()}, PyAV {av.__version__}, OpenCV {cv2.__version__}; "
                f"clip {clip.kbytes_per_frame:.0f} kB/frame, {clip.mbit_s:.1f} Mbit/s; median of "
                f"{args.rounds} interleaved rounds × {args.frames} frames; {summary[-1]}):",
                "",
                *lines,
                "",
                *summary[:-1],
            ]
        )
        replace_block("## Capture", "bench/capture.py", text)


if __name__ == "__main__":
    main()
