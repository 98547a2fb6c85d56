"""Detection throughput: through the worker process vs the bare detector, on the same frames.

A process publishes 1280×720 BGRA frames (a still scene with a photo of a person) into a real
FrameRing at 120 fps, faster than any detector here. "bare" runs the detector in this process
on each new frame in a loop; "worker" runs a DetectionService asking for more fps than the
detector can give, and counts the results that reach the callback. Rounds alternate so both
see the same machine load. Ratio = worker rate / bare rate (target >= 0.9). Results are
appended to docs/benchmarks.md under "## Detection". "yolo-synthetic" is a random-weight conv
net built here with a YOLOv8 output (no model download).

    .venv/bin/python bench/detect.py [--seconds 5] [--rounds 2] [--detectors face,yolo-synthetic]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import skimage.data
from onnx import TensorProto, helper, numpy_helper

from camwall.detect import DetectionResult, DetectionService, DetectorSpec, build_detector
from camwall.detect.messages import Message
from camwall.frames import FrameRing

ROOT = Path(__file__).resolve().parent.parent
W, H = 1280, 720


def scene() -> np.ndarray:
    """A BGRA 1280×720 frame: noise background, the astronaut photo at half size."""
    rng = np.random.default_rng(0)
    img = rng.integers(80, 120, (H, W, 3), dtype=np.uint8)
    photo = cv2.resize(skimage.data.astronaut()[:, :, ::-1], (256, 256))
    img[300:556, 700:956] = photo
    return np.dstack([img, np.full((H, W), 255, np.uint8)])


def synthetic_yolo(path: Path) -> Path:
    """A small random-weight conv net with a YOLOv8 output (1×84×6400) and real compute."""
    rng = np.random.default_rng(1)
    # Roughly YOLOv8n's cost on a CPU core: a few wide 3×3 convolutions down to stride 8.
    chans = [3, 32, 64, 128]
    nodes, inits = [], []
    prev = "images"
    for i in range(3):
        w = rng.normal(0, 0.1, (chans[i + 1], chans[i], 3, 3)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(
            helper.make_node("Conv", [prev, f"w{i}"], [f"c{i}"], strides=[2, 2], pads=[1, 1, 1, 1])
        )
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        prev = f"r{i}"
    extra = rng.normal(0, 0.05, (128, 128, 3, 3)).astype(np.float32)
    inits.append(numpy_helper.from_array(extra, "wx"))
    nodes.append(helper.make_node("Conv", [prev, "wx"], ["cx"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["cx"], ["rx"]))
    prev = "rx"
    head = rng.normal(0, 0.1, (84, 128, 1, 1)).astype(np.float32)
    bias = np.zeros(84, np.float32)
    bias[4:] = -8.0  # class scores mostly far below threshold, like a real scene
    inits += [numpy_helper.from_array(head, "wh"), numpy_helper.from_array(bias, "bh")]
    inits.append(numpy_helper.from_array(np.array([1, 84, 6400], np.int64), "shape"))
    nodes += [
        helper.make_node("Conv", [prev, "wh", "bh"], ["head"]),
        helper.make_node("Reshape", ["head", "shape"], ["flat"]),
        helper.make_node("Sigmoid", ["flat"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "synthetic_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 84, 6400])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def publish_forever(ring_name: str, fps: float, stop: Any) -> None:
    """Child process: publish the scene into ``ring_name`` at ``fps`` until ``stop`` is set.

    A process of its own, so the publisher's copies do not contend for the bare loop's GIL.
    """
    ring = FrameRing.attach(ring_name)
    frame = scene()
    while not stop.is_set():
        ring.publish(frame)
        stop.wait(1.0 / fps)
    ring.close()


def bare_rate(spec: DetectorSpec, ring: FrameRing, seconds: float) -> float:
    """Detections per second of the detector in this process, each on a new ring frame.

    Like the worker, it never runs twice on the same frame (the publisher is faster than
    any detector here, so this costs it nothing but a short wait).
    """
    cv2.setNumThreads(1)  # as in the worker
    det = build_detector(spec)
    det.warm_up()
    n, last, end = 0, -1, time.monotonic() + seconds
    start = time.monotonic()
    while time.monotonic() < end:
        if ring.latest_seq == last:
            time.sleep(0.0005)
            continue
        frame = ring.read_latest()
        if frame is not None:
            last = frame.seq
            det.detect(frame.array)
            n += 1
    return n / (time.monotonic() - start)


def worker_rate(spec: DetectorSpec, ring: FrameRing, seconds: float) -> tuple[float, float]:
    """(results per second reaching the callback, mean inference ms) through the worker."""
    times: list[float] = []
    ms: list[float] = []

    def on_message(msg: Message) -> None:
        if isinstance(msg, DetectionResult):
            times.append(time.monotonic())
            ms.append(msg.inference_ms)

    svc = DetectionService(spec, on_message=on_message)
    svc.start()
    try:
        if not svc.wait_ready(120):
            raise SystemExit(f"worker did not start: {svc.failed}")
        svc.add_camera("bench", ring.name, fps=1000.0)
        time.sleep(1.0)  # let it settle into its pace
        mark = len(times)
        time.sleep(seconds)
        window = times[mark:]
    finally:
        svc.stop()
        svc.join(30)
    if len(window) < 2:
        return 0.0, 0.0
    return (len(window) - 1) / (window[-1] - window[0]), statistics.fmean(ms[mark:])


def main() -> int:
    """Run the benchmark, print the table, append it to docs/benchmarks.md."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--detectors", default="face,yolo-synthetic")
    ap.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        specs = {
            "face": DetectorSpec(kind="face"),
            "people": DetectorSpec(kind="people"),
            "yolo-synthetic": DetectorSpec(
                model=str(synthetic_yolo(Path(tmp) / "synthetic_yolo.onnx"))
            ),
        }
        # Not "camwall…": test sessions running meanwhile unlink new camwall segments they see.
        ring = FrameRing.create(FrameRing.capacity_for(W, H), slots=4, prefix="detbench")
        ctx = mp.get_context("spawn")
        stop = ctx.Event()
        pub = ctx.Process(target=publish_forever, args=(ring.name, 120.0, stop), daemon=True)
        pub.start()
        try:
            for name in args.detectors.split(","):
                spec = specs[name]
                bare, work, infer = [], [], []
                for _ in range(args.rounds):
                    bare.append(bare_rate(spec, ring, args.seconds))
                    rate, ms = worker_rate(spec, ring, args.seconds)
                    work.append(rate)
                    infer.append(ms)
                b, w = statistics.median(bare), statistics.median(work)
                rows.append((name, b, w, w / b if b else 0.0, statistics.median(infer)))
        finally:
            stop.set()
            pub.join(10)
            ring.unlink()
            ring.close()
    header = "| detector | bare det/s | worker det/s | ratio | worker ms/frame |"
    lines = [header, "|---|---:|---:|---:|---:|"]
    lines += [f"| {n} | {b:.1f} | {w:.1f} | {r:.2f} | {ms:.1f} |" for n, b, w, r, ms in rows]
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        cmd = "python bench/detect.py " + " ".join(sys.argv[1:])
        machine = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        note = (
            f"\n### {time.strftime('%Y-%m-%d %H:%M')} — `{cmd.strip()}`\n\n"
            f"{machine}; 1280×720 BGRA frames published at 120 fps into a FrameRing; median of "
            f"{args.rounds} alternating rounds of {args.seconds:g} s. Ratio = worker / bare "
            "(target >= 0.9).\n\n" + table + "\n"
        )
        append_section(ROOT / "docs" / "benchmarks.md", "## Detection", note)
    return 0


def append_section(path: Path, heading: str, text: str) -> None:
    """Append ``text`` at the end of section ``heading`` (created if missing) in ``path``."""
    content = path.read_text() if path.exists() else "# Benchmarks\n"
    if heading not in content:
        content = content.rstrip("\n") + f"\n\n{heading}\n"
        content += "\nDetections per second through the detection worker vs the bare detector.\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content + text)
        return
    start = content.index(heading) + len(heading)
    nxt = content.find("\n## ", start)
    end = len(content) if nxt == -1 else nxt
    path.write_text(content[:end].rstrip("\n") + "\n" + text + content[end:])


if __name__ == "__main__":
    sys.exit(main())
