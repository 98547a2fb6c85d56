"""A headless node with no Qt at all: what `make noqt` runs inside a venv without any binding.

Proves what users of containers and small boxes rely on: camwall installs without Qt, and
``camwall check`` and ``camwall run --headless`` (capture + recording of a file camera) work.
Exits non-zero with a message when anything fails. Run with the no-Qt venv's python.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

BINDINGS = ("qtpy", "PySide6", "PyQt5", "PyQt6")


def fail(message: str) -> None:
    print(f"noqt: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def make_clip(path: Path, seconds: float = 4.0, fps: int = 25) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"g": str(fps), "preset": "ultrafast"}
        stream.time_base = Fraction(1, fps)
        for i in range(int(seconds * fps)):
            img = np.full((180, 320, 3), (i * 7) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def main() -> int:
    present = [name for name in BINDINGS if importlib.util.find_spec(name) is not None]
    if present:
        fail(f"this venv must have no Qt binding, but has {present}")
    camwall = [str(Path(sys.executable).with_name("camwall"))]
    with tempfile.TemporaryDirectory(prefix="camwall-noqt-") as tmp:
        folder = Path(tmp)
        clip = folder / "door.mp4"
        make_clip(clip)
        checked = subprocess.run(
            [*camwall, "check", "--json", str(clip)], capture_output=True, text=True, timeout=120
        )
        if checked.returncode != 0:
            fail(f"camwall check: exit {checked.returncode}: {checked.stderr[-500:]}")
        report = json.loads(checked.stdout)
        first = report["checks"][0]
        if not first["ok"] or first["width"] != 320:
            fail(f"camwall check reported {first}")
        print(f"noqt: camwall check: {first['codec']} {first['width']}×{first['height']} ok")
        config = folder / "camwall.toml"
        config.write_text(
            'version = 1\n[recording]\ndir = "rec"\nsegment_seconds = 2\n'
            '[[camera]]\nname = "door"\nurl = "door.mp4"\nrecord = true\n'
        )
        ran = subprocess.run(
            [*camwall, "run", "--headless", "--config", str(config), "--seconds", "7"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ran.returncode != 0:
            fail(f"camwall run --headless: exit {ran.returncode}: {ran.stderr[-800:]}")
        events = [json.loads(line) for line in ran.stdout.splitlines() if line.strip()]
        kinds = {e["type"] for e in events}
        if "state" not in kinds or "recording" not in kinds:
            fail(f"camwall run --headless: expected state and recording events, got {kinds}")
        segments = sorted((folder / "rec").rglob("*.mp4"))
        if len(segments) < 2:
            fail(f"expected at least 2 recorded segments, found {segments}")
        for segment in segments:
            with av.open(str(segment)) as container:
                frames = sum(1 for _ in container.decode(video=0))
            if frames == 0:
                fail(f"{segment} holds no frames")
        print(f"noqt: camwall run --headless recorded {len(segments)} playable segments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
