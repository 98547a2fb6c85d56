"""Recordings whose pictures carry their frame number, made at test time.

Each frame shows its number as a row of black/white blocks (bit 15 first) across the top of
the picture, so a test can read back which frame a player shows. :func:`record_numbered`
encodes such a clip with libx264 and feeds its packets to the real
:class:`~camwall.record.SegmentRecorder`, whose clock follows the media time: segment ``k``'s
wall-clock start is exactly ``t0`` plus the time of its first frame, so frame ``n`` was
recorded at ``t0 + n / fps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from camwall.record import SegmentClosed, SegmentRecorder

BITS = 16
BAND = 0.25  # the top quarter of the picture holds the blocks


def numbered_picture(n: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """An RGB picture showing ``n`` as blocks, and a grey ramp below (so frames differ)."""
    rgb = np.zeros((height, width, 3), np.uint8)
    band = int(height * BAND)
    block = width // BITS
    for bit in range(BITS):
        if n >> (BITS - 1 - bit) & 1:
            rgb[:band, bit * block : (bit + 1) * block] = 255
    rgb[band:, :, 1] = (np.arange(width) + n * 7) % 200
    return rgb


def read_number(bgra: npt.NDArray[np.uint8]) -> int:
    """The frame number shown in a BGRA (or any H×W×C) picture of any size."""
    height, width = bgra.shape[:2]
    band = int(height * BAND)
    block = width / BITS
    y = band // 2
    n = 0
    for bit in range(BITS):
        x = int((bit + 0.5) * block)
        n = n << 1 | int(bgra[y, x, :3].mean() > 128)
    return n


@dataclass(frozen=True)
class Recording:
    """A recorded numbered clip: the folder, camera, where frame 0 sits in time, the rate."""

    root: Path
    camera: str
    t0: float
    fps: int
    frames: int
    gop: int
    segments: list[SegmentClosed]

    def time_of(self, n: int) -> float:
        """Wall-clock time of frame ``n``."""
        return self.t0 + n / self.fps

    @property
    def end(self) -> float:
        """Wall-clock end of the last frame."""
        return self.t0 + self.frames / self.fps


def encode_numbered(
    path: Path,
    *,
    frames: int,
    width: int = 320,
    height: int = 180,
    fps: int = 25,
    gop: int = 25,
    bframes: int = 0,
    first: int = 0,
) -> Path:
    """Encode frames ``first`` … ``first + frames - 1`` into an H.264 MP4 at ``path``."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(
            "libx264",
            rate=fps,
            options={
                "preset": "ultrafast",
                "crf": "18",
                "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}",
            },
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(
                numbered_picture(first + i, width, height), format="rgb24"
            )
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def record_numbered(
    root: Path,
    camera: str,
    t0: float,
    *,
    seconds: float,
    segment_seconds: float,
    fps: int = 25,
    gop: int = 25,
    width: int = 320,
    height: int = 180,
    bframes: int = 0,
    clip_dir: Path | None = None,
) -> Recording:
    """Record a numbered clip of ``seconds`` through the real recorder into ``root``."""
    frames = int(seconds * fps)
    clip = (clip_dir or root.parent) / f"{camera}-{width}x{height}-{fps}-{gop}-{frames}.mp4"
    if not clip.exists():
        encode_numbered(
            clip, frames=frames, width=width, height=height, fps=fps, gop=gop, bframes=bframes
        )
    now = [t0]
    closed: list[SegmentClosed] = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        first_pts: list[int] = []

        def on_event(event: Any) -> None:
            if isinstance(event, SegmentClosed):
                closed.append(event)

        recorder = SegmentRecorder(
            camera, root, segment_seconds, stream, on_event=on_event, clock=lambda: now[0]
        )
        try:
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                if not first_pts:
                    first_pts.append(packet.pts)
                now[0] = t0 + float((packet.pts - first_pts[0]) * tb)
                recorder.write(packet)
        finally:
            recorder.close()
    return Recording(root, camera, t0, fps, frames, gop, closed)
