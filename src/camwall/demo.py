"""A headless demo: synthetic 1440p frames through frame rings, with live stats."""

from __future__ import annotations

import logging
import time

import numpy as np

from camwall.frames import FrameRing

log = logging.getLogger(__name__)


def run_stats_demo(seconds: float = 0.0, cameras: int = 4) -> int:
    """Publish moving 2560×1440 BGRA frames into one ring per camera and print read stats."""
    width, height, fps = 2560, 1440, 25
    rings = [FrameRing.create(FrameRing.capacity_for(width, height)) for _ in range(cameras)]
    readers = [FrameRing.attach(r.name) for r in rings]
    base = np.zeros((height, width, 4), np.uint8)
    base[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    base[..., 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
    start = time.monotonic()
    n = 0
    try:
        while not seconds or time.monotonic() - start < seconds:
            t0 = time.monotonic()
            for i, ring in enumerate(rings):
                with ring.write(width, height) as dst:
                    np.copyto(dst, base)
                    x = (n * 16 + i * 300) % (width - 200)
                    dst[600:800, x : x + 200] = (0, 0, 255, 255)
            lat = []
            for reader in readers:
                frame = reader.read_latest()
                if frame is not None:
                    lat.append((time.monotonic_ns() - frame.capture_ns) / 1e6)
            n += 1
            if n % fps == 0:
                print(  # noqa: T201 - the demo reports to the terminal until the wall exists
                    f"{n} frames × {cameras} cameras, publish→read latency "
                    f"max {max(lat):.1f} ms, frame seq {readers[0].latest_seq}",
                    flush=True,
                )
            time.sleep(max(0.0, 1 / fps - (time.monotonic() - t0)))
    except KeyboardInterrupt:
        pass
    finally:
        for reader in readers:
            reader.close()
        for ring in rings:
            ring.unlink()
            ring.close()
    return 0
