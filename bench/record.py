"""What recording adds to a capture loop: CPU per 1440p packet for demux+decode alone vs
demux+decode+SegmentRecorder.write, interleaved, plus the wall time spent inside write().

Run: .venv/bin/python bench/record.py [--seconds 6] [--rounds 5]

A 2560×1440 H.264 clip (libx264 ultrafast at 6 Mbit/s, keyframe every 25 frames, no
B-frames, like most cameras) is encoded at start-up into a temporary folder. Each round demuxes it and decodes
every packet (the capture worker's floor), then does the same while also remuxing every
packet into 2 s segments in a temporary folder. The difference is the recorder's cost;
the ratio is the one to compare between machines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from camwall.record import SegmentRecorder

W, H, FPS = 2560, 1440, 25
BITRATE = 6_000_000  # a typical 1440p camera main stream


def make_clip(path: Path, seconds: float) -> None:
    """Encode a textured, moving 1440p clip."""
    out = av.open(str(path), "w")
    stream = out.add_stream(
        "libx264",
        rate=FPS,
        options={"preset": "ultrafast", "x264-params": "keyint=25:min-keyint=25:bframes=0"},
    )
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
    stream.bit_rate = BITRATE
    rng = np.random.default_rng(1)
    texture = rng.integers(0, 256, (H, W + 400, 3), dtype=np.uint8)
    for i in range(int(seconds * FPS)):
        frame = av.VideoFrame.from_ndarray(texture[:, i * 3 : i * 3 + W], format="rgb24")
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()


def run(clip: Path, folder: Path | None) -> tuple[float, int, int, float]:
    """CPU seconds, packets, bytes and seconds inside write() for one pass (recording into
    ``folder`` if given)."""
    start = time.process_time()
    packets = size = 0
    in_write = 0.0
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        recorder = SegmentRecorder("bench", folder, 2, stream) if folder else None
        for packet in container.demux(stream):
            if not packet.size:
                continue
            if recorder is not None:
                t0 = time.perf_counter()
                recorder.write(packet)
                in_write += time.perf_counter() - t0
            packet.decode()
            packets += 1
            size += packet.size
        if recorder is not None:
            recorder.close()
    return time.process_time() - start, packets, size, in_write


def main() -> None:
    """Measure and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        make_clip(clip, args.seconds)
        floor: list[float] = []
        recorded: list[float] = []
        writes: list[float] = []
        packets = size = 0
        for r in range(args.rounds):
            cpu, packets, size, _ = run(clip, None)
            floor.append(cpu / packets)
            cpu, _, _, in_write = run(clip, Path(tmp) / f"rec{r}")
            recorded.append(cpu / packets)
            writes.append(in_write / packets)
        f, c = statistics.median(floor), statistics.median(recorded)
        w = statistics.median(writes)
        print(
            f"{packets} packets of 2560x1440 H.264, {size / packets / 1024:.0f} KiB each on average"
        )
        print("| variant | CPU ms per packet | × floor |")
        print("|---|---:|---:|")
        print(f"| demux + decode (floor) | {f * 1e3:.3f} | 1.000 |")
        print(f"| demux + decode + SegmentRecorder.write | {c * 1e3:.3f} | {c / f:.3f} |")
        print(f"| difference (recorder's CPU) | {(c - f) * 1e3:.3f} | {(c - f) / f:.3f} |")
        print(f"| wall time inside write() | {w * 1e3:.3f} | {w / f:.3f} |")


if __name__ == "__main__":
    main()
