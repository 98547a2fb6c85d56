"""A video file standing in for a camera loops silently: no LOST/"end of stream" between passes."""

from __future__ import annotations

import time
from pathlib import Path

from camwall.capture.events import CameraState, StateEvent
from camwall.config import Camera, Config
from camwall.frames import FrameRing
from camwall.runtime import Runtime, RuntimeEvent
from support import media


def test_a_looping_file_never_reports_lost(tmp_path: Path) -> None:
    clip = media.encode_clip(tmp_path / "clip.ts", frames=10)  # 0.4 s: several loops below
    states: list[StateEvent] = []

    def on_event(event: RuntimeEvent) -> None:
        if isinstance(event.payload, StateEvent):
            states.append(event.payload)

    runtime = Runtime(Config(), mode="thread", on_event=on_event)
    try:
        runtime.add_camera(Camera(name="file", url=str(clip)))
        deadline = time.monotonic() + 20
        ring = None
        while time.monotonic() < deadline:
            ring = runtime.ring_name("file")
            if ring and runtime.state("file") is CameraState.STREAMING:
                break
            time.sleep(0.05)
        assert runtime.state("file") is CameraState.STREAMING
        reader = FrameRing.attach(runtime.ring_name("file") or "")
        try:
            # Wait until at least three passes' worth of frames went by.
            while reader.latest_seq < 30 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert reader.latest_seq >= 30
        finally:
            reader.close()
    finally:
        runtime.close()
    seen = [s.state for s in states]
    assert CameraState.LOST not in seen and CameraState.BACKOFF not in seen, states
    assert not any("end of stream" in s.reason for s in states), states
