"""Test media made at test time with PyAV/libx264 (nothing binary is committed).

Every clip shows a solid colour (``CLIP_BGR``) with a white box moving left to right, so a
test can check both the colour after conversion and that frames advance.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

#: The clips' background colour (BGR): a saturated blue that survives H.264 and YUV→RGB.
CLIP_BGR = (255, 0, 0)
TS_PACKET = 188


def picture(index: int, width: int, height: int) -> np.ndarray:
    """Frame ``index`` of a test clip as BGR."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = CLIP_BGR
    box = max(8, width // 8)
    x = (index * 4) % max(1, width - box)
    img[height // 8 : height // 8 + box, x : x + box] = 255
    return img


def encode_clip(
    path: Path,
    *,
    width: int = 320,
    height: int = 180,
    frames: int = 50,
    fps: int = 25,
    container_format: str | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Write an H.264 clip (keyframe every ``fps`` frames) and return its path."""
    out = av.open(str(path), "w", format=container_format, options=options or {})
    stream = out.add_stream(
        "libx264",
        rate=fps,
        options={"preset": "ultrafast", "tune": "zerolatency", "x264-params": f"keyint={fps}"},
    )
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(picture(i, width, height), format="bgr24")
        frame.pts = i
        frame.time_base = Fraction(1, fps)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()
    return path


def damage_ts(src: Path, dst: Path, *, holes: int = 2, hole_packets: int = 6) -> Path:
    """Copy an MPEG-TS file with TS packets cut out (continuity errors) and its end cut off.

    FFmpeg flags the PES packets that lost data as corrupt; the last packet is truncated.
    """
    data = src.read_bytes()
    n = len(data) // TS_PACKET
    packets = [data[i * TS_PACKET : (i + 1) * TS_PACKET] for i in range(n)]
    cut: set[int] = set()
    for h in range(1, holes + 1):
        start = n * h // (holes + 1)
        cut.update(range(start, start + hole_packets))
    damaged = b"".join(p for i, p in enumerate(packets) if i not in cut)
    dst.write_bytes(damaged[: len(damaged) - 3 * TS_PACKET - 100])
    return dst


def make_hls(directory: Path, *, frames: int = 75, fps: int = 25) -> Path:
    """A finished (VOD) HLS playlist with 1 s segments in ``directory``; returns the playlist."""
    directory.mkdir(parents=True, exist_ok=True)
    playlist = directory / "index.m3u8"
    encode_clip(
        playlist,
        frames=frames,
        fps=fps,
        container_format="hls",
        options={"hls_time": "1", "hls_list_size": "0", "hls_playlist_type": "vod"},
    )
    return playlist


def garble_packets(src: Path, dst: Path, indices: set[int], seed: int = 0) -> Path:
    """Remux ``src`` (keeping its container format) with the payload of the given video packets replaced by noise.

    Use a container that keeps packet boundaries (Matroska, MP4; MPEG-TS would re-parse the
    noise into its neighbours). The packets stay well-formed (not flagged corrupt), so it is the
    *decoder* that fails on them: a decode error, not a corrupt packet.
    """
    rng = np.random.default_rng(seed)
    with (
        av.open(str(src)) as inp,
        av.open(str(dst), "w", format=inp.format.name.split(",")[0]) as out,
    ):
        in_stream = inp.streams.video[0]
        out_stream = out.add_stream_from_template(in_stream)
        index = 0
        for packet in inp.demux(in_stream):
            if packet.size == 0:
                continue
            if index in indices:
                noise = (
                    bytes(packet)[:8] + rng.integers(0, 256, packet.size - 8, np.uint8).tobytes()
                )
                garbled = av.Packet(noise)
                garbled.pts, garbled.dts = packet.pts, packet.dts
                garbled.time_base = packet.time_base
                packet = garbled
            packet.stream = out_stream
            out.mux(packet)
            index += 1
    return dst
