"""Detection throughput: through the worker process vs the bare detector, on the same frames.

A process publishes 1280×720 BGRA frames (a still scene with a photo of a person) into a real
FrameRing at 120 fps, faster than any detector here. "bare" runs the detector in this process
on each new frame in a loop; "worker" runs a DetectionService asking for more fps than the
detector can give, and counts the results that reach the callback. Rounds alternate so both
see the same machine load. Ratio = worker rate / bare rate (target >= 0.9). Results are
appended to docs/benchmarks.md under "## Detection". "yolo-synthetic" is a random-weight conv
net built here with a YOLOv8 output (no model download).

    .venv/bin/python bench/detect.py [--seconds 5] [--rounds 2] [--detectors face,yolo-synthetic]

``--wall`` measures instead what detection costs the wall: four synthetic 2560×1440 @ 25 fps
cameras in capture processes, in the real wall window (Qt offscreen unless a display is
set), shown fps per tile over ``--seconds`` with detection off, then on with each of
``--wall-detector`` (default: the motion detector, whose boxes are drawn on every tile, and
the built-in people detector, motion-gated unless ``--no-gate``; 5 fps per camera),
alternating for ``--rounds``. Ratio = mean shown fps on / off (target >= 0.95). Also
reported: the UI-thread paint time per frame, what drawing the boxes costs in it, and the
CPU of the whole process tree. Needs a Qt binding that keeps None's refcount (not PySide6
6.12.0 on Python 3.11; see ``drains_none``).

    .venv/bin/python bench/detect.py --wall [--seconds 10] [--rounds 2] [--wall-detector motion]
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
from camwall.detect.yolo_onnx import default_threads
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
    cv2.setNumThreads(spec.threads or default_threads())  # as in the worker
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
    ap.add_argument("--wall", action="store_true", help="the wall's shown fps, detection on/off")
    ap.add_argument(
        "--wall-detector",
        default="motion,people",
        help="--wall: comma-separated people, face, motion or model paths (each measured)",
    )
    ap.add_argument("--no-gate", action="store_true", help="--wall: run the detector everywhere")
    ap.add_argument("--wall-fps", type=float, default=5.0, help="--wall: detections/s per camera")
    args = ap.parse_args()
    if args.wall:
        return wall_main(args)
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


# -- the wall: shown fps with detection on vs off ---------------------------------------------

WALL_CAMERAS = 4
WALL_SIZE = (1280, 860)  # the wall's default window size: 2×2 tiles of about 630×330


def tree_cpu_s() -> dict[int, float]:
    """CPU seconds (user + system) of this process and each of its descendants, by pid."""
    import psutil

    out: dict[int, float] = {}
    procs = [psutil.Process()]
    procs += psutil.Process().children(recursive=True)
    for proc in procs:
        try:
            t = proc.cpu_times()
            out[proc.pid] = t.user + t.system
        except psutil.Error:
            continue
    return out


def drains_none() -> bool:
    """True if the Qt binding loses a reference to None per void call (PySide6 6.12.0, 3.11)."""
    from qtpy.QtCore import QRect

    rect, before = QRect(), sys.getrefcount(None)
    for _ in range(1000):
        rect.setX(0)
    return sys.getrefcount(None) < before - 500


def wall_main(args: argparse.Namespace) -> int:
    """Run the wall benchmark (Qt imported here only), print and record the table."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")  # camwall's default binding, as in camwall.ui
    import qtpy
    from qtpy.QtCore import QEventLoop, QTimer
    from qtpy.QtWidgets import QApplication

    from camwall.capture import CameraState
    from camwall.config import Camera
    from camwall.demo import DEMO_CAMERAS
    from camwall.ui.wall.main_window import CameraWall

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("camwall-bench")
    binding = f"{qtpy.API_NAME} {qtpy.PYSIDE_VERSION or qtpy.PYQT_VERSION}"
    if drains_none():
        raise SystemExit(
            f"{binding} on Python {platform.python_version()} drops a reference to None on "
            "every call that returns nothing: the wall aborts ('deallocating None') within "
            "seconds. Use another PySide6 (6.11 works), Python >= 3.12, or QT_API=pyqt5."
        )

    def spin(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    load0 = os.getloadavg()
    wall = CameraWall(mode="process")
    wall.resize(*WALL_SIZE)
    wall.show()
    names = [name for name, _ in DEMO_CAMERAS[:WALL_CAMERAS]]
    for name, url in DEMO_CAMERAS[:WALL_CAMERAS]:
        wall.add_camera(Camera(name=name, url=url))
    detection = wall.detection
    detection.set_detector(args.wall_detector)
    detection.set_motion_gate(not args.no_gate)
    tiles = [wall.tile(n) for n in names]

    def measure(seconds: float) -> dict[str, float]:
        """Mean per-tile stats over ``seconds``, sampled from each view's 1 s intervals."""
        for name in names:
            detection.overlay(name).reset_cost()
        cpu0, t0 = tree_cpu_s(), time.monotonic()
        shown: list[float] = []
        fps_in: list[float] = []
        paint: list[float] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            spin(1.0)
            for tile in tiles:
                st = tile.stats()
                if st is not None:
                    shown.append(st.fps_shown)
                    fps_in.append(st.fps_in)
                    if st.paint_ms is not None:
                        paint.append(st.paint_ms)
        cpu1, elapsed = tree_cpu_s(), time.monotonic() - t0
        cpu = sum(v - cpu0.get(pid, 0.0) for pid, v in cpu1.items())
        costs = [detection.overlay(n).cost for n in names]
        drawn = [c for c in costs if c.paints]
        return {
            "shown": statistics.fmean(shown) if shown else 0.0,
            "in": statistics.fmean(fps_in) if fps_in else 0.0,
            "paint_ms": statistics.fmean(paint) if paint else 0.0,
            "overlay_us": statistics.fmean(c.median_us for c in drawn) if drawn else 0.0,
            "overlay_max_us": max((c.max_us for c in drawn), default=0.0),
            "boxes": statistics.fmean(c.mean_boxes for c in drawn) if drawn else 0.0,
            "cpu": cpu / elapsed,
        }

    detectors = args.wall_detector.split(",")
    off: list[dict[str, float]] = []
    on: dict[str, list[dict[str, float]]] = {d: [] for d in detectors}
    try:
        deadline = time.monotonic() + 60
        while not all(t.state is CameraState.STREAMING and t.shown_seq for t in tiles):
            if time.monotonic() > deadline:
                raise SystemExit("the cameras did not all stream within 60 s")
            spin(0.2)
        spin(3.0)  # tiles settle at tile-sized frames
        for _ in range(args.rounds):
            for name in names:
                detection.set_enabled(name, False)
            spin(2.0)
            off.append(measure(args.seconds))
            for det in detectors:
                detection.set_detector(det)
                for name in names:
                    detection.set_enabled(name, True, fps=args.wall_fps)
                deadline = time.monotonic() + 120
                while not all(detection.stats(n) is not None for n in names):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"detection did not start: {detection.worker_status}")
                    spin(0.2)
                spin(2.0)
                row = measure(args.seconds)
                row["det_fps"] = statistics.fmean(
                    s.fps for s in (detection.stats(n) for n in names) if s is not None
                )
                on[det].append(row)
    finally:
        wall.close()
        deadline = time.monotonic() + 30
        while not wall.is_shut_down and time.monotonic() < deadline:
            spin(0.1)
    load1 = os.getloadavg()

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    header = (
        "| detection | fps in / tile | shown fps / tile | shown on / off | paint ms / frame "
        "| boxes / paint | boxes µs / paint: median (max) | CPU, cores | detections/s / camera |"
    )
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = med(off, "shown")
    lines.append(
        f"| off | {med(off, 'in'):.1f} | {base:.1f} | 1 | {med(off, 'paint_ms'):.2f} "
        f"| – | – | {med(off, 'cpu'):.2f} | – |"
    )
    ratios = []
    for det, rows in on.items():
        gate = "" if args.no_gate or det == "motion" else ", motion-gated"
        ratio = med(rows, "shown") / base if base else 0.0
        ratios.append(f"{det} {ratio:.3f}")
        lines.append(
            f"| {det}{gate} @ {args.wall_fps:g} fps | {med(rows, 'in'):.1f} "
            f"| {med(rows, 'shown'):.1f} | {ratio:.3f} | {med(rows, 'paint_ms'):.2f} "
            f"| {med(rows, 'boxes'):.1f} | {med(rows, 'overlay_us'):.0f} "
            f"({max(r['overlay_max_us'] for r in rows):.0f}) | {med(rows, 'cpu'):.2f} "
            f"| {med(rows, 'det_fps'):.1f} |"
        )
    table = "\n".join(lines)
    summary = f"shown fps on / off: {', '.join(ratios)} (target >= 0.95)"
    loads = f"load average {load0[0]:.2f} before, {load1[0]:.2f} after"
    print(table)
    print(summary)
    print(loads)
    if not args.no_write:
        cmd = "python bench/detect.py " + " ".join(sys.argv[1:])
        machine = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        note = (
            f"\n### {time.strftime('%Y-%m-%d %H:%M')} — wall, `{cmd.strip()}`\n\n"
            f"{machine}, {binding} ({os.environ.get('QT_QPA_PLATFORM', 'native')}); {loads}. "
            f"{WALL_CAMERAS} synthetic 2560×1440 @ 25 fps cameras, capture in processes, "
            f"in the wall ({WALL_SIZE[0]}×{WALL_SIZE[1]}, 2×2); per-tile means over "
            f"{args.seconds:g} s, median of {args.rounds} alternating off/on rounds. "
            f"**{summary}.**\n\n" + table + "\n"
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
