"""Review and export: seek latency, playback CPU, export throughput — each against a baseline
measured in the same run.

Run: .venv/bin/python bench/review.py [--seeks 100] [--play-seconds 4] [--export-rounds 5]
[--threads 2] [--only seek,play,export] [--quick]

1. **Seek latency** at 2560×1440 with a 1 s and a 2 s GOP: ``Playback.seek`` → position
   report (the exact frame decoded from the previous keyframe, converted to BGRA and
   published into the ring, plus the pipe round trip) against the bare cost in the same run:
   PyAV seeking the same open file to the keyframe and decoding up to the same frame.
   Instants are random (seeded), interleaved: one playback seek, then one bare seek.
2. **Playback CPU** of 4 cameras (4 playback workers, 1440p, 1 s GOP) at 1×, 4× and 16×:
   CPU of the worker processes per second of wall time, frames shown per second.
3. **Export MB/s**: ``export_clip`` of a span across segments against ``ffmpeg -c copy`` of
   the same segments (concat demuxer) when the ffmpeg CLI is installed, and against a bare
   PyAV demux→mux loop of the same packets.

The recordings are made at start-up by the real SegmentRecorder (4 s segments) from 1440p
clips encoded with libx264 (cached in bench/out/), looped to 48 s.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import psutil

from camwall.playback import Playback
from camwall.record import SegmentRecorder
from camwall.record.export import export_clip
from camwall.record.index import RecordingIndex
from camwall.record.probe import OPEN_OPTIONS

OUT = Path(__file__).resolve().parent / "out"
W, H, FPS = 2560, 1440, 25
BITRATE = 6_000_000
CLIP_S = 8
LOOPS = 6  # 48 s of recording per camera
T0 = 1_795_000_000.0


def make_clip(gop: int) -> Path:
    """A textured 1440p clip with moving parts, ``gop`` frames per keyframe (cached)."""
    path = OUT / f"review-{W}x{H}-gop{gop}-{CLIP_S}s.mp4"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(gop)
    scene = rng.integers(0, 256, (H // 8, W // 8 + 64, 3), dtype=np.uint8)
    scene = np.repeat(np.repeat(scene, 8, axis=0), 8, axis=1)
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream(
            "libx264",
            rate=FPS,
            options={
                "preset": "ultrafast",
                "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.bit_rate = BITRATE
        for i in range(CLIP_S * FPS):
            img = np.ascontiguousarray(scene[:, i % 64 : i % 64 + W])
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return path


def record(clip: Path, root: Path, camera: str) -> None:
    """Record ``clip`` looped LOOPS times through the real recorder, wall clock = media time."""
    now = [T0]
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        tb = Fraction(stream.time_base)
        recorder = SegmentRecorder(camera, root, 4, stream, clock=lambda: now[0])
        for loop in range(LOOPS):
            container.seek(0, stream=stream)
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                now[0] = T0 + loop * CLIP_S + float(packet.pts * tb)
                recorder.write(packet)
        recorder.close()


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0-1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bare_seek(container: av.container.InputContainer, t: float) -> int:
    """PyAV: seek to the keyframe before ``t`` (media s) and decode up to its frame."""
    stream = container.streams.video[0]
    tb = stream.time_base
    target = int(t / tb)
    container.seek(target, stream=stream, backward=True)
    decoded = 0
    for packet in container.demux(stream):
        for frame in packet.decode():
            decoded += 1
            if frame.pts is not None and frame.pts + (1 / FPS) / tb > target:
                return decoded
    return decoded


def bench_seek(root: Path, camera: str, seeks: int, threads: int) -> dict[str, float]:
    """p50/p95 ms of playback seeks and of bare PyAV seeks to the same instants."""
    rng = random.Random(1)
    with RecordingIndex.open(root) as index:
        segments = index.segments(camera)
    ours: list[float] = []
    bare: list[float] = []
    open_files: dict[Path, av.container.InputContainer] = {}
    with Playback(root, camera, decoder_threads=threads) as pb:
        pb.wait(pb.seek(segments[0].start + 0.5))
        for _ in range(seeks):
            seg = rng.choice(segments)
            offset = rng.uniform(0, seg.end - seg.start - 0.05)
            started = time.perf_counter()
            pos = pb.wait(pb.seek(seg.start + offset))
            ours.append((time.perf_counter() - started) * 1000)
            assert pos is not None and pos.t is not None
            # The bare side opens a file when the worker would: a segment not among the
            # last four used (the worker keeps that many open).
            started = time.perf_counter()
            container = open_files.pop(seg.path, None)
            if container is None:
                container = av.open(str(seg.path), options=OPEN_OPTIONS)  # as the worker
                cc = container.streams.video[0].codec_context
                if threads > 1:
                    cc.thread_type, cc.thread_count = "FRAME", threads
                else:
                    cc.thread_type, cc.thread_count = "NONE", 1
            open_files[seg.path] = container
            while len(open_files) > 4:
                open_files.pop(next(iter(open_files))).close()
            bare_seek(container, offset)
            bare.append((time.perf_counter() - started) * 1000)
    for container in open_files.values():
        container.close()
    return {
        "p50": statistics.median(ours),
        "p95": pct(ours, 0.95),
        "bare_p50": statistics.median(bare),
        "bare_p95": pct(bare, 0.95),
    }


def bench_playback(
    roots: list[tuple[Path, str]], seconds: float, threads: int
) -> list[tuple[float, float, float, float]]:
    """(speed, CPU % of one core per camera, frames shown per s per camera, dropped/s)."""
    rows = []
    players = [Playback(root, cam, decoder_threads=threads) for root, cam in roots]
    try:
        for p in players:
            p.start()
        with RecordingIndex.open(roots[0][0]) as index:
            start = index.segments(roots[0][1])[0].start
        procs = [psutil.Process(p.pid) for p in players if p.pid is not None]
        for speed in (1.0, 4.0, 16.0):
            for p in players:
                p.wait(p.seek(start + 0.5))
            seq0 = [p.position.seq if p.position else 0 for p in players]
            cpu0 = sum(sum(pr.cpu_times()[:2]) for pr in procs)
            anchor = time.monotonic_ns() + 100_000_000
            for p in players:
                p.play(speed, at=start + 0.5, anchor_ns=anchor)
            wall0 = time.perf_counter()
            time.sleep(seconds)
            dropped = 0
            for p in players:
                pos = p.wait(p.pause())
                dropped += 0 if pos is None else pos.dropped  # since the Play
            wall = time.perf_counter() - wall0
            cpu = sum(sum(pr.cpu_times()[:2]) for pr in procs) - cpu0
            seq1 = [p.position.seq if p.position else 0 for p in players]
            shown = sum(b - a for a, b in zip(seq0, seq1, strict=True))
            n = len(players)
            per_frame = 1000 * cpu / max(1, shown + dropped)
            rows.append(
                (speed, 100 * cpu / wall / n, shown / wall / n, dropped / wall / n, per_frame)
            )
    finally:
        for p in players:
            p.close()
    return rows


def bench_export(root: Path, camera: str, rounds: int) -> dict[str, float]:
    """MB/s of export_clip, ffmpeg -c copy (if installed) and a bare PyAV remux of 40 s."""
    with RecordingIndex.open(root) as index:
        segments = index.segments(camera)
        start, end = segments[0].start + 2.0, segments[0].start + 42.0
        used = index.segments(camera, start, end)
        nbytes = sum(s.size for s in used)
        out = Path(tempfile.mkdtemp(prefix="camwall-export-"))
        times: dict[str, list[float]] = {"export_clip": [], "pyav_remux": [], "ffmpeg_copy": []}
        listing = out / "list.txt"
        listing.write_text("".join(f"file '{s.path}'\n" for s in used))
        ffmpeg = shutil.which("ffmpeg")
        try:
            for _ in range(rounds):
                t = time.perf_counter()
                export_clip(index, camera, start, end, out / "ours.mp4")
                times["export_clip"].append(time.perf_counter() - t)
                t = time.perf_counter()
                bare_remux([s.path for s in used], out / "bare.mp4")
                times["pyav_remux"].append(time.perf_counter() - t)
                if ffmpeg:
                    offset = start - used[0].start
                    t = time.perf_counter()
                    subprocess.run(
                        [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i",
                         str(listing), "-ss", f"{offset:.3f}", "-t", f"{end - start:.3f}",
                         "-c", "copy", str(out / "ffmpeg.mp4")],
                        check=True,
                    )  # fmt: skip
                    times["ffmpeg_copy"].append(time.perf_counter() - t)
        finally:
            shutil.rmtree(out)
    return {k: nbytes / 1e6 / statistics.median(v) for k, v in times.items() if v}


def bare_remux(paths: list[Path], target: Path) -> None:
    """Every packet of ``paths`` into one MP4 with continuous timestamps: the floor."""
    with av.open(str(target), "w", format="mp4") as out:
        ostream = None
        offset = 0
        last = -1
        for path in paths:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                if ostream is None:
                    ostream = out.add_stream_from_template(stream)
                top = 0
                for packet in container.demux(stream):
                    if not packet.size or packet.pts is None or packet.dts is None:
                        continue
                    packet.dts = max(packet.dts + offset, last + 1)
                    packet.pts = max(packet.pts + offset, packet.dts)
                    last = packet.dts
                    top = max(top, packet.pts + (packet.duration or 0))
                    packet.stream = ostream
                    out.mux(packet)
                offset = max(offset, top)


def seek_table(work: Path, clips: dict[int, Path], seeks: int, threads: int) -> None:
    """Print the seek latency table."""
    print(f"Seek latency, {seeks} random instants, decoder threads {threads}:\n")
    print("| GOP | playback p50 ms | p95 ms | bare PyAV p50 ms | p95 ms | p95 ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for gop in clips:
        r = bench_seek(work / f"gop{gop}", "cam", seeks, threads)
        print(
            f"| {gop / FPS:.0f} s | {r['p50']:.0f} | {r['p95']:.0f} | {r['bare_p50']:.0f} "
            f"| {r['bare_p95']:.0f} | {r['p95'] / r['bare_p95']:.2f} |"
        )


def play_table(work: Path, seconds: float, threads: int) -> None:
    """Print the playback CPU table."""
    print(
        f"\nPlayback of 4 cameras (1 s GOP), {seconds:.0f} s per speed, decoder threads "
        f"{threads}:\n"
    )
    print(
        "| speed | CPU % of a core per camera | frames shown/s per camera | decoded, "
        "not shown/s | CPU ms per decoded frame |"
    )
    print("|---|---:|---:|---:|---:|")
    cams = [(work / "gop25", name) for name in ("cam", "cam1", "cam2", "cam3")]
    for speed, cpu, shown, dropped, per_frame in bench_playback(cams, seconds, threads):
        print(f"| {speed:g}× | {cpu:.0f} | {shown:.1f} | {dropped:.1f} | {per_frame:.1f} |")


def export_table(work: Path, rounds: int) -> None:
    """Print the export throughput table."""
    rates = bench_export(work / "gop25", "cam", rounds)
    print("\nExport of 40 s across 11 segments (median of rounds), MB/s of segment data:\n")
    print("| tool | MB/s | × ffmpeg -c copy |")
    print("|---|---:|---:|")
    base = rates.get("ffmpeg_copy")
    for name, rate in rates.items():
        ratio = f"{rate / base:.2f}" if base else "n/a"
        print(f"| {name} | {rate:.0f} | {ratio} |")


def main() -> None:
    """Make the recordings, measure, print tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeks", type=int, default=30)
    parser.add_argument("--play-seconds", type=float, default=4.0)
    parser.add_argument("--export-rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="decoder threads for seeks")
    parser.add_argument(
        "--only", default="seek,play,export", help="comma-separated: seek, play, export"
    )
    parser.add_argument("--quick", action="store_true", help="a short run (a rough picture)")
    parser.add_argument(
        "--no-write", action="store_true", help="(accepted; this script never writes into docs/)"
    )
    args = parser.parse_args()
    if args.quick:
        args.seeks, args.play_seconds, args.export_rounds = 8, 1.0, 1
    only = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="camwall-review-"))
    try:
        clips = {gop: make_clip(gop) for gop in (25, 50)}
        for gop, clip in clips.items():
            record(clip, work / f"gop{gop}", "cam")
        for k in range(1, 4):
            record(clips[25], work / "gop25", f"cam{k}")
        for gop in clips:
            RecordingIndex.open(work / f"gop{gop}").close()
        print(f"## Review — 2560×1440, {FPS} fps, {BITRATE // 1_000_000} Mbit/s, 4 s segments")
        print(
            f"(python {sys.version.split()[0]}, PyAV {av.__version__}, {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f} at the start)\n"
        )
        if "seek" in only:
            seek_table(work, clips, args.seeks, args.threads)
        if "play" in only:
            play_table(work, args.play_seconds, args.threads)
        if "export" in only:
            export_table(work, args.export_rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
