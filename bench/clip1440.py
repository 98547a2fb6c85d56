"""The benchmarks' 1440p camera clip: made once with PyAV/libx264, cached under bench/out/.

Imported by bench/capture.py and bench/wall.py (not a benchmark itself). The clip looks like
a fixed camera: a static textured scene, a few textured objects moving across it, and a
little sensor noise, so P-frames carry real residuals. It is encoded like a camera encodes:
2560×1440, 25 fps, H.264 High profile without B-frames, one slice per frame, a keyframe every
25 frames (GOP 25), rate-controlled to a typical 1440p camera bitrate (6 Mbit/s, VBV-capped).

Two files are written next to each other:

- ``<name>.mp4``: for file sources (PyAV, ``cv2.VideoCapture``);
- ``<name>.au``: the same access units in Annex B (SPS/PPS before every keyframe, via
  FFmpeg's ``h264_mp4toannexb``), as ``u32 size, u32 flags`` records, for the RTSP clip
  server (bench/rtsp_clip_server.py), which runs under the system Python without PyAV.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.bitstream
import cv2
import numpy as np

OUT = Path(__file__).resolve().parent / "out"
W, H, FPS, GOP = 2560, 1440, 25, 25
SECONDS = 10
BITRATE = 6_000_000
#: Record header in the .au file: payload size and flags (bit 0: keyframe).
AU_HEADER = struct.Struct("<II")


@dataclass(frozen=True)
class Clip:
    """The cached clip's files and what is in them."""

    mp4: Path
    au: Path
    width: int
    height: int
    fps: int
    frames: int
    kbytes_per_frame: float

    @property
    def mbit_s(self) -> float:
        """Mean bitrate."""
        return self.kbytes_per_frame * 1024 * 8 * self.fps / 1e6


def _scene(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A textured still scene: noise at several scales, like walls, grass and gravel."""
    img = np.zeros((h, w, 3), np.float32)
    for scale, weight in ((64, 0.5), (16, 0.3), (4, 0.2)):
        small = rng.integers(0, 256, (max(2, h // scale), max(2, w // scale), 3)).astype(np.uint8)
        img += weight * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_clip(
    seconds: int = SECONDS, *, width: int = W, height: int = H, out: Path = OUT, quiet: bool = False
) -> Clip:
    """The cached clip (encoded now if missing; a few tens of seconds on 2 cores)."""
    frames = seconds * FPS
    name = f"clip-{width}x{height}-{FPS}fps-{seconds}s-{BITRATE // 1_000_000}M-v2"
    mp4, au = out / f"{name}.mp4", out / f"{name}.au"
    if not (mp4.exists() and au.exists()):
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        _encode(mp4, frames, width, height)
        _annexb(mp4, au)
        if not quiet:
            print(f"made {mp4.name} in {time.perf_counter() - started:.0f} s")
    sizes = []
    with au.open("rb") as f:
        while header := f.read(AU_HEADER.size):
            size, _ = AU_HEADER.unpack(header)
            f.seek(size, 1)
            sizes.append(size)
    return Clip(mp4, au, width, height, FPS, len(sizes), sum(sizes) / len(sizes) / 1024)


def _encode(path: Path, frames: int, w: int, h: int) -> None:
    rng = np.random.default_rng(1440)
    scene = _scene(rng, w, h)
    objects = [_scene(rng, w // 8, h // 6) for _ in range(3)]
    noise = [rng.normal(0, 1.5, (h, w)).astype(np.float32) for _ in range(4)]
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream(
            "libx264",
            rate=FPS,
            options={
                "preset": "veryfast",
                "profile": "high",
                "x264-params": (
                    f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0:sliced-threads=0:"
                    f"vbv-maxrate={BITRATE // 1000}:vbv-bufsize={BITRATE // 1000}"
                ),
            },
        )
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.bit_rate = BITRATE
        stream.codec_context.time_base = Fraction(1, FPS)
        for i in range(frames):
            img = scene.copy()
            for k, obj in enumerate(objects):
                oh, ow = obj.shape[:2]
                x = int((i * (6 + 4 * k) + k * w // 3) % (w - ow))
                y = int(h // 5 + k * h // 4 + 40 * np.sin(i / (10 + 5 * k)))
                img[y : y + oh, x : x + ow] = obj
            # Faint sensor noise (what a camera's denoiser leaves), in brightness only.
            img = np.clip(img + noise[i % len(noise)][..., None], 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    tmp.replace(path)


def _annexb(mp4: Path, au: Path) -> None:
    tmp = au.with_suffix(".tmp")
    with av.open(str(mp4)) as container, tmp.open("wb") as f:
        stream = container.streams.video[0]
        bsf = av.bitstream.BitStreamFilterContext("h264_mp4toannexb", stream)
        for packet in container.demux(stream):
            for out in bsf.filter(packet if packet.size else None):
                data = bytes(out)
                f.write(AU_HEADER.pack(len(data), 1 if out.is_keyframe else 0))
                f.write(data)
    tmp.replace(au)


if __name__ == "__main__":
    clip = make_clip()
    print(
        f"{clip.mp4}: {clip.frames} frames, {clip.kbytes_per_frame:.0f} kB/frame, {clip.mbit_s:.1f} Mbit/s"
    )
