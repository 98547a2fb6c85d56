"""Detection rate through the detect-sized output vs the bare model, with 4 cameras on the wall.

Run: .venv/bin/python bench/detect_rate.py [--seconds 6] [--rounds 4] [--detect-fps 10]
                                          [--size 1280x720] [--model PATH] [--quick]
                                          [--no-write]

Four cameras read bench/clip1440.py's clip (``--size``, H.264, 25 fps, GOP 1 s) over loopback
RTSP from bench/rtsp_clip_server.py (pre-encoded access units paced like a live camera, nothing
encoded while measuring). They are shown by the wall's real parts in this process: a
``camwall.runtime.Runtime`` (capture worker processes, every frame decoded: no decode budget),
its Qt face ``WallCameras`` and four ``CameraTile`` views in a 2×2 ``CameraGrid`` (Qt offscreen
unless a display is set). The model is ``--model`` or else bench/detect.py's
``synthetic_yolo``: a random-weight convolutional net with a YOLOv8 output (1×84×6400, 640×640
input) and about 4.1 GFLOPs per frame — between YOLOX-nano (1.1 at 416) and YOLOv8n (8.7), for
machines that cannot download a real COCO model (like the ones this was written on). Each
round has three phases of ``--seconds``, the cameras streaming to the wall throughout:

- **off**: no detection;
- **bare**: a separate process runs ``onnxruntime.InferenceSession.run`` in a loop, with
  camwall's own session (``OnnxDetector.session``: its thread count and options), on the
  same frames already letterboxed into input tensors (the clip's frames scaled to the detect
  size as the capture worker does) — the model's rate on this machine under this load;
- **on**: camwall detects on all four cameras through the runtime
  (``Runtime.set_detection(name, True, fps=--detect-fps)``): each capture worker also
  publishes a detect-sized output (640 wide keeping the aspect) from the same decode into its
  own ring, and the one detection worker reads those rings, runs the model, decodes, filters
  and tracks. Detections per second = ``DetectionResult`` events of all four cameras.

Reported: detections per second (on, all cameras summed) against the bare ``session.run``
rate (target ≥ 0.9×), and the CPU time per detection of the process running the model (the
bare loop's own, the detection worker's from ``/proc``), which depends less on what other
processes take than a rate does; frames shown per tile against frames the server sent per
camera (target ≥ 95 % with detection on), and on / off; the CPU time of each capture worker
process (``/proc/<pid>/stat``, utime + stime) per frame it decoded: the difference between
the "on" and "bare" phases (the model runs in both, so only the detect output differs) times
the frame rate is the extra capture cost of the detect output per camera (per decoded frame,
because a worker starved by a loaded machine decodes fewer frames), next to what the capture
workers report themselves (``StatsEvent.detect_ms`` × ``fps_detect``); CPU of the whole process
tree; the load average, since the machine is shared. Medians over rounds; unless ``--no-write``/``--quick``, the table
replaces the generated block under "## Detection rate" in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clip1440 import make_clip
from detect import synthetic_yolo
from docs_block import replace_block
from wall import ClipServer
from wall_child import binding_refcount_bug

ROOT = Path(__file__).resolve().parent.parent
CAMERAS = 4
TILE = (640, 360)
MODEL_GFLOPS = 4.1  # synthetic_yolo's convolutions, multiply-adds counted twice
CLK_TCK = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT_S = 60.0


# -- the bare loop (its own process, like the detection worker) -------------------------------


def bare_loop(model: str, frames_path: str, conn: Connection) -> None:
    """Child process: ``session.run`` on the prepared frames for as long as it is told.

    Protocol: sends ``("ready", threads)`` once loaded; then receives seconds to run (answers
    ``(runs, elapsed s, CPU s of this process)``) until it receives None.
    """
    from camwall.detect.yolo_onnx import OnnxDetector

    detector = OnnxDetector(model)
    # The same preprocessing the worker applies: letterbox into the model's input tensor.
    tensors = [detector.prepare(frame).tensor for frame in np.load(frames_path)]
    session = detector.session
    feed = session.get_inputs()[0].name
    session.run(None, {feed: tensors[0]})
    conn.send(("ready", detector.threads))
    while (seconds := conn.recv()) is not None:
        runs, start, cpu = 0, time.perf_counter(), time.process_time()
        end = start + float(seconds)
        while time.perf_counter() < end:
            session.run(None, {feed: tensors[runs % len(tensors)]})
            runs += 1
        conn.send((runs, time.perf_counter() - start, time.process_time() - cpu))
    conn.close()


def detect_frames(mp4: Path, count: int, size: tuple[int, int]) -> np.ndarray:
    """The clip's first ``count`` frames scaled to ``size``, BGRA, as a detect ring holds them."""
    import av

    out = []
    with av.open(str(mp4)) as container:
        for frame in container.decode(video=0):
            out.append(frame.reformat(width=size[0], height=size[1], format="bgra").to_ndarray())
            if len(out) == count:
                break
    return np.stack(out)


# -- the wall --------------------------------------------------------------------------------


def proc_cpu_s(pid: int) -> float | None:
    """CPU seconds (utime + stime) of process ``pid`` from /proc, None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime: fields 14 and 15


def tree_cpu_s() -> dict[int, float]:
    """CPU seconds of this process and each descendant, by pid."""
    me = psutil.Process()
    out: dict[int, float] = {}
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        out[proc.pid] = t.user + t.system
    return out


@dataclass
class Snapshot:
    """Counters at one moment of a measured window."""

    t: float
    sent: int
    shown: list[int]
    decoded: dict[str, int]  # camera → frames its worker published into the view ring
    results: dict[str, int]
    inference_ms: dict[str, float]
    capture: dict[str, tuple[int, float]]  # camera → (worker pid, CPU s)
    tree: dict[int, float] = field(default_factory=dict)
    #: (pid, CPU s) of the process running the model: the bare loop or the detection worker.
    model_cpu: tuple[int, float] | None = None


class Wall:
    """The runtime, its Qt face and four tiles; counts shown frames and detection results."""

    def __init__(self, url: str) -> None:
        from qtpy.QtWidgets import QApplication

        from camwall.capture import StatsEvent
        from camwall.config import Camera, Config, WallConfig
        from camwall.detect.messages import DetectionResult
        from camwall.runtime import Runtime, RuntimeEvent
        from camwall.ui.view.view_stats import StatsCollector
        from camwall.ui.wall.grid import CameraGrid
        from camwall.ui.wall.tile import CameraTile
        from camwall.ui.wall.wall_cameras import WallCameras

        counts = self.shown = [0] * CAMERAS

        class Counting(StatsCollector):
            """The view's own stats, plus a count of distinct frames painted."""

            def __init__(self, index: int) -> None:
                super().__init__()
                self.index = index

            def shown(self, latency_ns: int, width: int, height: int) -> None:
                super().shown(latency_ns, width, height)
                counts[self.index] += 1

        self.names = [f"cam{i}" for i in range(CAMERAS)]
        self.results = dict.fromkeys(self.names, 0)
        self.inference_ms = dict.fromkeys(self.names, 0.0)
        #: The capture workers' own reports of the detect output: (time, mean CPU ms per
        #: detect frame, detect frames per second), from each StatsEvent while detecting.
        self.detect_cost: list[tuple[float, float, float]] = []
        # Every frame decoded: this measures detection beside the full frame path (the decode
        # budget would rightly drop cameras to keyframes when the CPU runs short).
        self.runtime = Runtime(Config(wall=WallConfig(decode_budget=False)), mode="process")

        def on_event(event: RuntimeEvent) -> None:  # the detection service's thread
            result = event.payload
            if isinstance(result, DetectionResult) and result.camera in self.results:
                self.results[result.camera] += 1
                self.inference_ms[result.camera] += result.inference_ms
            if isinstance(result, StatsEvent) and result.fps_detect > 0:
                self.detect_cost.append((time.monotonic(), result.detect_ms, result.fps_detect))

        self._unsubscribe = self.runtime.subscribe(on_event)
        self.faces = WallCameras(self.runtime, lambda name: "main")
        self.grid = CameraGrid()
        self.tiles = []
        for i, name in enumerate(self.names):
            tile = CameraTile(name)
            tile._collector = Counting(i)  # the bench's window into the view (private)
            self.faces.add(Camera(name=name, url=url), tile, start=False)
            self.grid.add_tile(tile)
            self.tiles.append(tile)
        self.grid.resize(2 * TILE[0] + 2, 2 * TILE[1] + 2)
        self.grid.show()
        QApplication.processEvents()
        for name in self.names:
            self.faces.start(name)

    def streaming(self) -> bool:
        """Every tile has shown a frame."""
        return all(t.shown_seq > 0 for t in self.tiles)

    def capture_pids(self) -> dict[str, int]:
        """Each camera's capture worker process id (the supervisor's, read from outside)."""
        cameras = self.runtime.supervisor._cameras
        for _ in range(10):
            try:
                items = list(cameras.items())
            except RuntimeError:  # changed size while copied: the supervisor thread is busy
                continue
            return {
                name: cam.process.pid
                for name, cam in items
                if cam.process is not None and cam.process.pid is not None
            }
        return {}

    def decoded(self) -> dict[str, int]:
        """Frames each camera's worker published so far (every frame decoded is published)."""
        from camwall.errors import CamwallError

        out = {}
        for name, tile in zip(self.names, self.tiles, strict=True):
            ring = tile.ring
            try:
                out[name] = ring.latest_seq if ring is not None else 0
            except CamwallError:
                out[name] = 0  # the tile is moving to another ring right now
        return out

    def snapshot(self, server: ClipServer, model_pid: int | None = None) -> Snapshot:
        """The counters now; ``model_pid``: the process running the model (None: the worker)."""
        if model_pid is None:
            service = self.runtime.detection_service
            model_pid = service.pid if service is not None else None
        model_cpu = proc_cpu_s(model_pid) if model_pid is not None else None
        capture = {}
        for name, pid in self.capture_pids().items():
            cpu = proc_cpu_s(pid)
            if cpu is not None:
                capture[name] = (pid, cpu)
        return Snapshot(
            t=time.monotonic(),
            sent=server.ask("sent") + server.ask("dropped"),
            shown=list(self.shown),
            decoded=self.decoded(),
            results=dict(self.results),
            inference_ms=dict(self.inference_ms),
            capture=capture,
            tree=tree_cpu_s(),
            model_cpu=None if model_pid is None or model_cpu is None else (model_pid, model_cpu),
        )

    def detect(self, model: str | None, fps: float) -> None:
        """Detection with ``model`` on every camera at ``fps`` each (None: off)."""
        if model is not None:
            self.runtime.set_detector(model)
        for name in self.names:
            self.runtime.set_detection(name, model is not None, fps)

    def close(self) -> None:
        """Stop everything (UI thread)."""
        self._unsubscribe()
        self.faces.begin_close()
        self.runtime.close(10.0)
        self.grid.close()


def window(a: Snapshot, b: Snapshot, cameras: int) -> dict[str, float]:
    """What happened between two snapshots."""
    seconds = b.t - a.t
    sent = (b.sent - a.sent) / cameras
    shown = [(y - x) for x, y in zip(a.shown, b.shown, strict=True)]
    results = sum(b.results[n] - a.results[n] for n in b.results)
    infer = sum(b.inference_ms[n] - a.inference_ms[n] for n in b.results)
    # A worker restarted inside the window has a new pid: leave that camera out. CPU per
    # decoded frame too: on a loaded machine a worker that falls behind decodes fewer frames
    # (the server drops a second's backlog), which would hide what each frame costs.
    capture, per_frame = [], []
    for name, (pid, cpu1) in b.capture.items():
        if name not in a.capture or a.capture[name][0] != pid:
            continue
        cpu = cpu1 - a.capture[name][1]
        capture.append(cpu / seconds)
        frames = b.decoded.get(name, 0) - a.decoded.get(name, 0)
        if frames > 0:
            per_frame.append(cpu / frames)
    tree = sum(v - a.tree.get(pid, 0.0) for pid, v in b.tree.items())
    decoded = [b.decoded[n] - a.decoded.get(n, 0) for n in b.decoded]
    model_cpu = float("nan")
    if a.model_cpu is not None and b.model_cpu is not None and a.model_cpu[0] == b.model_cpu[0]:
        model_cpu = b.model_cpu[1] - a.model_cpu[1]
    return {
        "seconds": seconds,
        "sent_fps": sent / seconds,
        "shown_fps": statistics.fmean(shown) / seconds,
        "shown_frac": statistics.fmean(shown) / sent if sent else 0.0,
        "det_per_s": results / seconds,
        "infer_ms": infer / results if results else float("nan"),
        "capture_ms_per_s": 1e3 * statistics.fmean(capture) if capture else float("nan"),
        "capture_ms_per_frame": 1e3 * statistics.fmean(per_frame) if per_frame else float("nan"),
        "cores": tree / seconds,
        "decoded_fps": statistics.fmean(decoded) / seconds if decoded else 0.0,
        "model_cpu_s": model_cpu,
        "results": results,
        "cpu_per_det_ms": 1e3 * model_cpu / results if results else float("nan"),
    }


# -- the orchestration -----------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every round's phases; the per-phase medians and what the run was."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyqt5")  # as bench/wall.py: see binding_refcount_bug
    from qtpy.QtCore import QEventLoop, QTimer
    from qtpy.QtWidgets import QApplication

    from camwall.detect.geometry import detect_size

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("camwall-bench")  # kept alive (and named) for the whole run
    broken = binding_refcount_bug()
    if broken:
        raise SystemExit(broken)

    def spin(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    width, height = args.size
    clip = make_clip(4, width=width, height=height, quiet=args.quick)
    dsize = detect_size(width, height)
    load0 = os.getloadavg()
    phases: dict[str, list[dict[str, float]]] = {"off": [], "bare": [], "on": []}
    with tempfile.TemporaryDirectory(prefix="detect-rate-") as tmp:
        if args.model is not None:
            model = str(args.model.resolve())
        else:
            model = str(synthetic_yolo(Path(tmp) / "synthetic_yolo.onnx"))
        frames = Path(tmp) / "frames.npy"
        np.save(frames, detect_frames(clip.mp4, 25, dsize))
        ctx = mp.get_context("spawn")
        here, there = ctx.Pipe()
        bare = ctx.Process(target=bare_loop, args=(model, str(frames), there), daemon=True)
        server = ClipServer(clip.au, (width, height))
        wall: Wall | None = None
        bare.start()
        try:
            if not here.poll(120):
                raise SystemExit("the bare session.run process did not load the model")
            _, threads = here.recv()
            wall = Wall(server.url)
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not wall.streaming():
                if time.monotonic() > deadline:
                    raise SystemExit(f"the cameras did not all show a frame in {READY_TIMEOUT_S} s")
                spin(0.2)
            spin(args.warmup)
            for _ in range(args.rounds):
                a = wall.snapshot(server)
                spin(args.seconds)
                phases["off"].append(window(a, wall.snapshot(server), CAMERAS))

                a = wall.snapshot(server)
                here.send(args.seconds)
                spin(args.seconds)
                b = wall.snapshot(server)
                runs, elapsed, cpu = here.recv()
                row = window(a, b, CAMERAS)
                row["det_per_s"] = runs / elapsed
                row["infer_ms"] = 1e3 * elapsed / runs if runs else float("nan")
                row["model_cpu_s"], row["results"] = cpu, runs
                row["cpu_per_det_ms"] = 1e3 * cpu / runs if runs else float("nan")
                phases["bare"].append(row)

                wall.detect(model, args.detect_fps)
                deadline = time.monotonic() + 120
                while not all(wall.results[n] for n in wall.names):
                    if time.monotonic() > deadline:
                        raise SystemExit("detection did not reach every camera within 120 s")
                    spin(0.2)
                spin(2.0)  # the worker settles into its pace
                a = wall.snapshot(server)
                spin(args.seconds)
                b = wall.snapshot(server)
                row = window(a, b, CAMERAS)
                own = [(ms, fps) for t, ms, fps in list(wall.detect_cost) if a.t <= t <= b.t]
                row["own_detect_ms"] = statistics.fmean(ms for ms, _ in own) if own else math.nan
                row["own_detect_fps"] = statistics.fmean(f for _, f in own) if own else math.nan
                phases["on"].append(row)
                wall.detect(None, args.detect_fps)
                spin(1.0)
        finally:
            if wall is not None:
                wall.close()
                spin(0.5)
            if bare.is_alive():
                here.send(None)
            bare.join(10)
            if bare.is_alive():
                bare.kill()
                bare.join()
            here.close()
            there.close()
            server.close()
    load1 = os.getloadavg()
    medians = {
        phase: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        for phase, rows in phases.items()
    }
    rounds = [
        (measured["det_per_s"] / base["det_per_s"], measured["shown_frac"])
        for measured, base in zip(phases["on"], phases["bare"], strict=True)
    ]
    return {
        "medians": medians,
        "rounds": rounds,
        "threads": threads,
        "detect_size": dsize,
        "load": (load0, load1),
        "clip": clip,
    }


def report(args: argparse.Namespace, result: dict[str, Any]) -> tuple[str, list[str]]:
    """The Markdown table and the summary lines."""
    m = result["medians"]
    off, bare, on = m["off"], m["bare"], m["on"]
    dw, dh = result["detect_size"]
    labels = {
        "off": "off: no detection",
        "bare": f"bare `session.run` loop ({result['threads']} thread)",
        "on": f"camwall: detect output {dw}×{dh} @ {args.detect_fps:g} fps/camera",
    }
    lines = [
        "| phase | detections/s, 4 cameras | × bare | model process CPU ms/detection | × bare CPU "
        "| inference ms | decoded fps/camera | shown / sent fps per tile | shown % "
        "| capture CPU ms/decoded frame | CPU cores, this tree |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, row in (("off", off), ("bare", bare), ("on", on)):
        if key == "off":
            dets = ratio = cpu = cpu_ratio = infer = "–"
        else:
            dets = f"{row['det_per_s']:.1f}"
            ratio = f"{row['det_per_s'] / bare['det_per_s']:.2f}"
            cpu = f"{row['cpu_per_det_ms']:.1f}"
            # CPU per detection of the bare loop over camwall's: its efficiency (1 = no extra).
            cpu_ratio = f"{bare['cpu_per_det_ms'] / row['cpu_per_det_ms']:.2f}"
            infer = f"{row['infer_ms']:.1f}"
        lines.append(
            f"| {labels[key]} | {dets} | {ratio} | {cpu} | {cpu_ratio} | {infer} "
            f"| {row['decoded_fps']:.1f} | {row['shown_fps']:.1f} / {row['sent_fps']:.1f} "
            f"| {100 * row['shown_frac']:.1f} | {row['capture_ms_per_frame']:.2f} "
            f"| {row['cores']:.2f} |"
        )
    rate = on["det_per_s"] / bare["det_per_s"] if bare["det_per_s"] else 0.0
    # Per decoded frame, then at the camera's full rate: see window().
    # Against the bare phase: the model runs in both, so the capture workers compete for the
    # same CPU and only the detect output differs (the "off" phase has the cores to itself).
    extra = (on["capture_ms_per_frame"] - bare["capture_ms_per_frame"]) * bare["decoded_fps"]
    own = on["own_detect_ms"] * on["own_detect_fps"]
    (l0, _, _), (l1, _, _) = result["load"]
    each = ", ".join(f"{r:.2f}" for r, _ in result["rounds"])
    shown_each = ", ".join(f"{100 * f:.1f}" for _, f in result["rounds"])
    summary = [
        f"detection rate: {on['det_per_s']:.1f}/s through camwall vs {bare['det_per_s']:.1f}/s "
        f"bare session.run = {rate:.2f}× (target >= 0.9); CPU per detection bare / camwall "
        f"{bare['cpu_per_det_ms'] / on['cpu_per_det_ms']:.2f}× (CPU time depends less than a "
        "rate on what other processes take)",
        f"rounds (on / bare, in order): {each}; shown % with detection on: {shown_each}",
        f"wall with detection on: {100 * on['shown_frac']:.1f} % of frames shown (target >= 95 %); "
        f"off: {100 * off['shown_frac']:.1f} %; on / off {on['shown_frac'] / off['shown_frac']:.3f}"
        if off["shown_frac"]
        else "wall: nothing shown with detection off",
        "extra capture cost of the detect output, per camera: "
        + (
            f"{own:.1f} ms CPU per second as the capture workers report it ("
            f"detect_ms {on['own_detect_ms']:.2f} ms per detect frame × fps_detect "
            f"{on['own_detect_fps']:.1f}); "
            if not math.isnan(own)
            else ""
        )
        + f"{extra:+.1f} ms CPU per second from /proc (CPU per decoded frame, on vs bare phase)",
        f"load average {l0:.2f} before, {l1:.2f} after (2 cores, shared)",
    ]
    return "\n".join(lines), summary


def parse_size(text: str) -> tuple[int, int]:
    """``1280x720`` → (1280, 720)."""
    w, _, h = text.lower().partition("x")
    try:
        return int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, not {text!r}") from None


def main() -> int:
    """Run, print the table and the summary, write the docs block."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="each phase's window")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--detect-fps", type=float, default=10.0, help="asked per camera")
    ap.add_argument("--size", type=parse_size, default=(1280, 720), help="the cameras' size")
    ap.add_argument("--model", type=Path, default=None, help="an ONNX detector to use instead")
    ap.add_argument("--quick", action="store_true", help="a short smoke run (implies --no-write)")
    ap.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md alone")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.warmup, args.no_write = 2.0, 1, 1.0, True
    result = run(args)
    table, summary = report(args, result)
    print(table)
    for line in summary:
        print(line)
    if not args.no_write:
        import onnxruntime

        clip = result["clip"]
        cmd = "python bench/detect_rate.py " + " ".join(sys.argv[1:])
        what = (
            f"the model is {args.model.name}"
            if args.model is not None
            else "the model is a generated YOLOv8-layout net, 640×640 input, "
            f"≈{MODEL_GFLOPS:g} GFLOPs per frame (not a real COCO model)"
        )
        text = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"ONNX Runtime {onnxruntime.__version__}, {os.environ.get('QT_API')} "
            f"({os.environ.get('QT_QPA_PLATFORM')}). {CAMERAS} cameras of {clip.width}×"
            f"{clip.height} H.264 {clip.fps} fps over loopback RTSP in a 2×2 wall of "
            f"{TILE[0]}×{TILE[1]} tiles, every frame decoded; {what}. Median of "
            f"{args.rounds} rounds of {args.seconds:g} s per phase.\n\n"
            + table
            + "\n\n"
            + "\n".join(f"- {line}" for line in summary)
            + f"\n\n`.venv/bin/{cmd.strip()}`"
        )
        replace_block("## Detection rate", "detect-rate", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
