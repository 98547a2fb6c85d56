"""Camera-reported motion as the detection gate: model runs per hour and events missed.

    .venv/bin/python bench/event_gate.py [--seconds 100] [--quick] [--no-write]

One run of the real runtime with two cameras playing the same generated clip (a still
scene; an object moves through it for 2 s every 20 s: 10 % motion) at 5 detections a
second with the built-in motion detector:

- ``ungated``: ``detect_when = "always"`` — the baseline, measured in the same run;
- ``gated``: ``detect_when = "camera_motion"`` with ``[camera.onvif]`` pointing at the
  ONVIF simulator (tests/support), which emits the camera's own motion event over its
  PullPoint service at each motion start and clears it 1 s after the motion ends (cameras
  hold their motion alarm about that long).

Model runs per hour come from the detection worker's own counters (``DetectionStats.frames``
over the measured span). An event is *missed* when no track appeared on that camera between
its start and 2.5 s after its end. Unless ``--no-write``, the table goes under
"## Camera motion as the detection gate" in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))
from camwall.config import Camera, Config, DetectionConfig, OnvifConfig  # noqa: E402
from camwall.runtime import Runtime, RuntimeEvent  # noqa: E402
from docs_block import replace_block  # noqa: E402
from support.onvif_sim import OnvifSimulator  # noqa: E402
from support.onvif_sim_parts import SimConfig  # noqa: E402

W, H, FPS = 320, 240, 15
PERIOD_S, MOTION_S, HOLD_S, GRACE_S = 20.0, 2.0, 1.0, 2.5
DETECT_FPS = 5.0


def motion_times(seconds: float) -> list[tuple[float, float]]:
    """(start, end) of each motion in the clip: 2 s in every 20 s, 8 s after each period starts."""
    return [(p + 8.0, p + 8.0 + MOTION_S) for p in np.arange(0.0, seconds - PERIOD_S / 2, PERIOD_S)]


def make_clip(path: Path, seconds: float) -> Path:
    """A still textured scene; during each motion a bright box crosses it."""
    rng = np.random.default_rng(7)
    scene = rng.integers(40, 90, (H // 8, W // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    times = motion_times(seconds)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"preset": "ultrafast", "x264-params": f"keyint={FPS}:bframes=0"}
        for n in range(int(seconds * FPS)):
            t = n / FPS
            img = scene.copy()
            for start, end in times:
                if start <= t < end:
                    x = int((t - start) / (end - start) * (W - 50))
                    img[80:170, x : x + 50] = 230
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


class Recorder:
    """The runtime's events that matter here, with the wall-clock time they arrived."""

    def __init__(self) -> None:
        self.streaming: dict[str, float] = {}
        self.subscribed = False
        self.ready = False
        self.appeared: dict[str, list[float]] = {"ungated": [], "gated": []}
        self.frames: dict[str, list[tuple[float, int, int]]] = {"ungated": [], "gated": []}

    def __call__(self, event: RuntimeEvent) -> None:
        """Runtime callback (its own thread)."""
        data = event.to_dict()
        kind, camera, now = data["type"], data.get("camera"), time.time()
        if kind == "state" and data.get("state") == "streaming" and camera:
            self.streaming.setdefault(camera, now)
        elif kind == "camera_events_state" and data.get("state") == "subscribed":
            self.subscribed = True
        elif kind == "detect_worker" and data.get("state") == "ready":
            self.ready = True
        elif kind == "track" and data.get("kind") == "appeared" and camera in self.appeared:
            self.appeared[camera].append(now)
        elif kind == "detect_stats" and camera in self.frames:
            self.frames[camera].append((now, int(data["frames"]), int(data.get("gated", 0))))


def wait(cond: Any, timeout: float, what: str) -> None:
    """Poll ``cond()`` until true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def run(seconds: float) -> dict[str, dict[str, float]]:
    """One run; per camera: model runs per hour, events, missed, tracks outside motion."""
    sim = OnvifSimulator(SimConfig()).start()
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", seconds)
        onvif = OnvifConfig(host=sim.host, port=sim.port, user=sim.config.user, password_env="PW")
        config = Config(
            detection=DetectionConfig(fps=DETECT_FPS),
            cameras=(
                Camera(name="ungated", url=str(clip), detect=True),
                Camera(
                    name="gated",
                    url=str(clip),
                    detect=True,
                    detect_when="camera_motion",
                    onvif=onvif,
                ),
            ),
        )
        rec = Recorder()
        rt = Runtime(config, rec, mode="process", env={"PW": sim.config.password})
        try:
            rt.set_detector("motion")
            rt.start()
            wait(lambda: len(rec.streaming) == 2 and rec.ready and rec.subscribed, 60, "start")
            t0 = rec.streaming["gated"]
            # The camera's own motion detector: on at each motion, off HOLD_S after it.
            schedule = sorted(
                [(s, True) for s, _ in motion_times(seconds)]
                + [(e + HOLD_S, False) for _, e in motion_times(seconds)]
            )
            for at, active in schedule:
                time.sleep(max(0.0, t0 + at - time.time()))
                sim.events.emit("motion", active)
            time.sleep(max(0.0, t0 + seconds - time.time()))
        finally:
            rt.close(timeout=15)
            sim.stop()
    out: dict[str, dict[str, float]] = {}
    for camera in ("ungated", "gated"):
        start = rec.streaming[camera]
        samples = [s for s in rec.frames[camera] if s[0] <= start + seconds]
        (t_a, f_a, _), (t_b, f_b, g_b) = samples[0], samples[-1]
        rel = [t - start for t in rec.appeared[camera]]
        windows = [(s, e + GRACE_S) for s, e in motion_times(seconds)]
        missed = sum(1 for s, e in windows if not any(s <= t <= e for t in rel))
        outside = sum(1 for t in rel if t <= seconds and not any(s <= t <= e for s, e in windows))
        out[camera] = {
            "runs_per_hour": (f_b - f_a) / (t_b - t_a) * 3600,
            "events": len(windows),
            "missed": missed,
            "outside": outside,
            "gated": g_b,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=100.0)
    parser.add_argument("--quick", action="store_true", help="40 s: a smoke run")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    seconds = 40.0 if args.quick else args.seconds
    result = run(seconds)
    base, gated = result["ungated"], result["gated"]
    fewer = 1 - gated["runs_per_hour"] / base["runs_per_hour"]
    lines = [
        f"{seconds:g} s clip of {W}×{H} at {FPS} fps, motion {MOTION_S:g} s in every "
        f"{PERIOD_S:g} s ({MOTION_S / PERIOD_S:.0%}), {DETECT_FPS:g} detections/s, built-in motion "
        f"detector, the camera's motion event held {HOLD_S:g} s, {os.cpu_count()} cores:",
        "",
        "| camera | model runs per hour | × ungated | events | missed | tracks outside motion |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in result.items():
        lines.append(
            f"| {name} | {r['runs_per_hour']:.0f} | "
            f"{r['runs_per_hour'] / base['runs_per_hour']:.3f} | {r['events']:.0f} | "
            f"{r['missed']:.0f} | {r['outside']:.0f} |"
        )
    lines += [
        "",
        f"Gated: {fewer:.0%} fewer model runs (goal ≥ 80 %), {gated['missed']:.0f} events missed "
        "(goal 0).",
        "",
        f"`.venv/bin/python bench/event_gate.py --seconds {seconds:g}`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        replace_block("## Camera motion as the detection gate", "event-gate", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
