"""H.264 test clips made at test time with PyAV, and helpers that feed them to a recorder.

Importable by spawned children (the recording kill and disk-full tests run there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np


@dataclass(frozen=True)
class Clip:
    """A generated clip and how it was made."""

    path: Path
    width: int
    height: int
    fps: int
    seconds: float
    gop: int

    @property
    def frames(self) -> int:
        return int(self.seconds * self.fps)


def make_h264_clip(
    path: Path,
    *,
    seconds: float = 7.0,
    width: int = 320,
    height: int = 180,
    fps: int = 25,
    gop: int = 25,
    bframes: int = 2,
) -> Clip:
    """Encode a clip with libx264: a keyframe every ``gop`` frames exactly, B-frames on.

    Each frame differs (a moving bar, the frame number in the green channel), so a segment
    that lost or repeated frames would show it.
    """
    out = av.open(str(path), "w")
    stream = out.add_stream(
        "libx264",
        rate=fps,
        options={
            "preset": "ultrafast",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}",
        },
    )
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    for i in range(int(seconds * fps)):
        rgb = np.zeros((height, width, 3), np.uint8)
        x = (i * 3) % width
        rgb[:, x : x + 20, 0] = 255
        rgb[..., 1] = i % 256
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return Clip(path, width, height, fps, seconds, gop)


def feed(
    clip_path: Path,
    make_recorder: Callable[[Any], Any],
    *,
    before_write: Callable[[Any, Any], None] | None = None,
    after_write: Callable[[int, Any], None] | None = None,
) -> list[bytes]:
    """Demux ``clip_path`` into a recorder built by ``make_recorder(stream)``; return the
    bytes of every packet fed, in order. The recorder is closed at the end."""
    fed: list[bytes] = []
    with av.open(str(clip_path)) as container:
        stream = container.streams.video[0]
        recorder = make_recorder(stream)
        try:
            for i, packet in enumerate(container.demux(stream)):
                if not packet.size:
                    continue
                if before_write is not None:
                    before_write(packet, stream)
                fed.append(bytes(packet))
                recorder.write(packet)
                if after_write is not None:
                    after_write(i, recorder)
        finally:
            recorder.close()
    return fed


def segment_report(path: Path) -> dict[str, Any]:
    """What a segment file holds: codec, duration, decodable frames, packet bytes, timestamps."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        info = {
            "codec": stream.codec_context.name,
            "extradata": bytes(stream.codec_context.extradata or b""),
            "duration": (container.duration or 0) / 1e6,
            "packets": [bytes(p) for p in packets],
            "first_dts": packets[0].dts if packets else None,
            "first_pts": min((p.pts for p in packets if p.pts is not None), default=None),
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
        }
    frames = errors = 0
    with av.open(str(path)) as container:
        for packet in container.demux(video=0):
            try:
                frames += len(packet.decode())
            except av.InvalidDataError:
                errors += 1
    info["frames"], info["decode_errors"] = frames, errors
    return info
