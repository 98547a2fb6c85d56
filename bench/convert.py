"""Decode + conversion cost per 1440p H.264 frame, and decoder threading latency vs CPU.

Run: .venv/bin/python bench/convert.py [--frames 50] [--rounds 5]

A 2560×1440 H.264 clip (libx264, single slice per frame like most cameras, no B-frames,
keyframe every 25 frames, textured moving picture) is encoded at start-up, and its packets
are held in memory so demuxing and I/O are not measured. Then, interleaved round by round:

- conversion variants, each decoding every frame and doing one thing with it, reported per
  frame as wall ms, CPU ms (process time: all threads) and minor page faults, and as ratios
  to decode-only: ``convert_into`` a real FrameRing slot (camwall's path), PyAV
  ``reformat("bgra")`` + copy into the slot (the usual PyAV idiom), and two ways to publish
  at tile size (swscale via ``convert_into`` vs full-size cvtColor then ``cv2.resize``);
- colour: the same frames tagged BT.709 (and full-range BT.601), which OpenCV's BT.601
  ``cvtColor`` cannot convert: ``convert_into`` calls swscale with the slot as destination
  (camwall.sources.swscale), against PyAV's ``reformat`` + copy (the path before), the one
  OpenCV way to apply another matrix (chroma upsampled, planes merged, ``cv2.transform``),
  and, for comparison with ``cvtColor``, direct swscale on the untagged (BT.601) frames;
- decoder threading (NONE, SLICE, FRAME, AUTO): CPU per frame, and the latency a live
  stream would see — how many packets go in before their frame comes out (frame threading
  holds one frame per extra thread) times the frame interval, plus the decode call's time.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from fractions import Fraction

import av
import cv2
import numpy as np

from camwall.frames import FrameRing
from camwall.sources.convert import FrameConverter, plane_view
from camwall.sources.swscale import DirectScaler

W, H, FPS = 2560, 1440, 25
TILE = (960, 540)


def make_clip(frames: int) -> tuple[list[bytes], bytes | None]:
    """Encode a 1440p clip; return its packets' bytes and the codec extradata."""
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 256, (H // 8, W // 8, 3), dtype=np.uint8)
    texture = cv2.resize(texture, (W + 256, H), interpolation=cv2.INTER_LINEAR)
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = W, H, "yuv420p"
    enc.time_base = Fraction(1, FPS)
    enc.framerate = Fraction(FPS)
    enc.options = {
        "preset": "veryfast",
        "tune": "zerolatency",
        "x264-params": f"keyint={FPS}:sliced-threads=0:bframes=0",
        "crf": "23",
    }
    packets: list[bytes] = []
    for i in range(frames):
        shift = (i * 8) % 256
        img = np.ascontiguousarray(texture[:, shift : shift + W])
        x = (i * 40) % (W - 200)
        img[600:800, x : x + 200] = (0, 128, 255)
        frame = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
        frame.pts = i
        packets += [bytes(p) for p in enc.encode(frame)]
    packets += [bytes(p) for p in enc.encode(None)]
    return packets, enc.extradata


def decoder(
    extradata: bytes | None, thread_type: str = "NONE", threads: int = 1
) -> av.CodecContext:
    """A fresh H.264 decoder with the given threading."""
    dec = av.CodecContext.create("h264", "r")
    if extradata:
        dec.extradata = extradata
    dec.thread_type = thread_type  # type: ignore[assignment]
    dec.thread_count = threads
    return dec


def bt709_matrix() -> np.ndarray:
    """YUV (limited, BT.709) → BGRA as a 4×4 affine matrix for ``cv2.transform``."""
    kr, kb = 0.2126, 0.0722
    kg = 1 - kr - kb
    ys, cs = 255 / 219, 255 / 224
    rv, bu = 2 * (1 - kr) * cs, 2 * (1 - kb) * cs
    gu, gv = -bu * kb / kg, -rv * kr / kg
    rows = [(ys, bu, 0.0), (ys, gu, gv), (ys, 0.0, rv)]
    m = np.zeros((4, 4), np.float32)
    for i, (cy, cu, cv) in enumerate(rows):
        m[i, :3] = cy, cu, cv
        m[i, 3] = -16 * cy - 128 * (cu + cv)
    m[3, 3] = 255.0
    return m


def faults() -> int:
    """Minor page faults of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def run(
    packets: list[bytes], extradata: bytes | None, per_frame: Callable[[av.VideoFrame], None]
) -> tuple[float, float, float]:
    """Decode every packet, call ``per_frame`` on each frame: (wall ms, CPU ms, faults) per frame."""
    dec = decoder(extradata)
    # Warm up: the first keyframe, buffers and conversion paths get allocated here.
    for f in dec.decode(av.Packet(packets[0])):
        per_frame(f)
    n = 0
    f0, c0, t0 = faults(), time.process_time(), time.perf_counter()
    for data in packets[1:]:
        for f in dec.decode(av.Packet(data)):
            per_frame(f)
            n += 1
    t1, c1, f1 = time.perf_counter(), time.process_time(), faults()
    return (t1 - t0) * 1e3 / n, (c1 - c0) * 1e3 / n, (f1 - f0) / n


def latency(
    packets: list[bytes], extradata: bytes | None, thread_type: str, threads: int
) -> tuple[float, float, float]:
    """(CPU ms per frame, packets of delay, ms per decode call) for this threading."""
    dec = decoder(extradata, thread_type, threads)
    delays: list[int] = []
    calls: list[float] = []
    c0 = time.process_time()
    out = 0
    for i, data in enumerate(packets):
        t0 = time.perf_counter()
        frames = dec.decode(av.Packet(data))
        calls.append((time.perf_counter() - t0) * 1e3)
        for _ in frames:
            delays.append(i - out)
            out += 1
    for _ in dec.decode(None):
        out += 1
    cpu = (time.process_time() - c0) * 1e3 / max(1, out)
    return cpu, statistics.median(delays) if delays else float("nan"), statistics.median(calls)


def main() -> None:
    """Measure and print the tables (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one capture process per camera: no OpenCV thread pool per worker
    t = time.perf_counter()
    packets, extradata = make_clip(args.frames)
    kb = sum(map(len, packets)) / len(packets) / 1024
    print(
        f"clip: {len(packets)} packets, {kb:.0f} kB/frame, encoded in {time.perf_counter() - t:.1f} s"
    )

    ring = FrameRing.create(FrameRing.capacity_for(W, H), slots=3)
    try:
        conv = FrameConverter()
        direct = DirectScaler()
        tile_conv = FrameConverter()
        full = np.empty((H, W, 4), np.uint8)
        yuv444 = np.empty((H, W, 3), np.uint8)
        u_full = np.empty((H, W), np.uint8)
        v_full = np.empty((H, W), np.uint8)
        m709 = bt709_matrix()

        def into_slot(f: av.VideoFrame) -> None:
            with ring.write(W, H) as view:
                conv.convert(f, view)

        def reformat_copy(f: av.VideoFrame) -> None:
            with ring.write(W, H) as view:
                np.copyto(view, f.reformat(format="bgra").to_ndarray())

        def tagged(colorspace: int, color_range: int, c: FrameConverter) -> Callable[..., None]:
            def fn(f: av.VideoFrame) -> None:
                f.colorspace, f.color_range = colorspace, color_range
                with ring.write(W, H) as view:
                    c.convert(f, view)

            return fn

        def reformat_709(f: av.VideoFrame) -> None:
            f.colorspace = 1
            with ring.write(W, H) as view:
                np.copyto(view, f.reformat(format="bgra", threads=1).to_ndarray())

        def direct_601(f: av.VideoFrame) -> None:
            with ring.write(W, H) as view:
                direct.convert(f, view, full_range=False)

        def cv_transform_709(f: av.VideoFrame) -> None:
            y = plane_view(f, 0, W, H)
            u = plane_view(f, 1, W // 2, H // 2)
            v = plane_view(f, 2, W // 2, H // 2)
            cv2.resize(u, (W, H), dst=u_full, interpolation=cv2.INTER_NEAREST)
            cv2.resize(v, (W, H), dst=v_full, interpolation=cv2.INTER_NEAREST)
            cv2.merge((y, u_full, v_full), dst=yuv444)
            with ring.write(W, H) as view:
                cv2.transform(yuv444, m709, dst=view)

        def tile_sws(f: av.VideoFrame) -> None:
            with ring.write(*TILE) as view:
                tile_conv.convert(f, view)

        def tile_cv(f: av.VideoFrame) -> None:
            conv.convert(f, full)
            with ring.write(*TILE) as view:
                cv2.resize(full, TILE, dst=view, interpolation=cv2.INTER_AREA)

        variants: dict[str, Callable[[av.VideoFrame], None]] = {
            "decode only": lambda f: None,
            "decode + convert_into(slot) [camwall]": into_slot,
            "decode + reformat(bgra) + copy into slot": reformat_copy,
            f"decode + convert_into({TILE[0]}×{TILE[1]} slot) [swscale area]": tile_sws,
            f"decode + cvtColor full + cv2.resize(INTER_AREA) to {TILE[0]}×{TILE[1]}": tile_cv,
            "BT.709: decode + convert_into(slot) [swscale into the slot]": tagged(1, 1, conv),
            "BT.709: decode + reformat(bgra) + copy into slot": reformat_709,
            "BT.601 full range: decode + convert_into(slot) [swscale into the slot]": tagged(
                5, 2, conv
            ),
            "BT.601 limited: decode + swscale into the slot (not cvtColor)": direct_601,
            "BT.709: decode + chroma ×2 + merge + cv2.transform into slot": cv_transform_709,
        }
        results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
        threading = {
            "NONE ×1": ("NONE", 1),
            "SLICE ×2": ("SLICE", 2),
            "FRAME ×2": ("FRAME", 2),
            "AUTO (FFmpeg picks, threads=0)": ("AUTO", 0),
        }
        lat: dict[str, list[tuple[float, float, float]]] = {k: [] for k in threading}
        for _ in range(args.rounds):
            for name, fn in variants.items():
                results[name].append(run(packets, extradata, fn))
            for name, (tt, n) in threading.items():
                lat[name].append(latency(packets, extradata, tt, n))
    finally:
        ring.close()
        ring.unlink()

    def med(rows: list[tuple[float, float, float]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    base_cpu = med(results["decode only"], 1)
    print(
        f"\nper 2560×1440 frame, median of {args.rounds} interleaved rounds × {len(packets) - 1} frames"
    )
    print("\n| variant | wall ms | CPU ms | minor faults | CPU × decode-only | extra CPU ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in results.items():
        cpu = med(rows, 1)
        print(
            f"| {name} | {med(rows, 0):.2f} | {cpu:.2f} | {med(rows, 2):.1f} | "
            f"{cpu / base_cpu:.2f} | {cpu - base_cpu:+.2f} |"
        )
    base_lat = med(lat["NONE ×1"], 0)
    print("\ndecoder threading (decode only, live-stream view):")
    print(
        "\n| threading | CPU ms/frame | CPU × NONE | frames of delay | decode call ms | added latency at 25 fps |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in lat.items():
        cpu, delay, call = med(rows, 0), med(rows, 1), med(rows, 2)
        print(
            f"| {name} | {cpu:.2f} | {cpu / base_lat:.2f} | {delay:.0f} | {call:.2f} | "
            f"{delay * 1000 / FPS:.0f} ms |"
        )


if __name__ == "__main__":
    main()
