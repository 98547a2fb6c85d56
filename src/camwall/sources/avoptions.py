"""The FFmpeg options camwall opens a stream or file with, and its decoders' threading.

Why these options (measured against the GStreamer test server, ``bench/convert.py``):
``fflags=nobuffer`` is *not* set: it only affects probing, and there it throws away the
packets read while probing — including the keyframe a camera sends to a new client — so the
first frame came a whole GOP later (1.07 s instead of 0.27 s). ``discardcorrupt`` is not
set either: we drop corrupt packets ourselves, so we can count them. ``fpsprobesize=0`` for
network streams: probing would otherwise wait for several frames to guess a frame rate (4
more frames, 16 s, from the 0.25 fps test camera); the rate a stream declares (SDP,
container, H.264 timing info) is still read.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import av
from av.video.codeccontext import VideoCodecContext

from camwall.sources.base import SourceSettings

#: Probing an RTSP stream: the SDP already names codec and size; 0.2 s is enough for the
#: frame rate and costs 0.2 s of time-to-first-frame (the probed packets are kept).
RTSP_ANALYZE_US = 200_000
#: Generous enough for one 1440p keyframe, so analyzeduration is what limits probing.
PROBESIZE = 1_000_000
#: HTTP streams (MJPEG, HLS, MPEG-TS) may need a little longer to show their streams.
HTTP_ANALYZE_US = 500_000
#: RTP reordering (UDP) waits at most this long for a late packet.
MAX_DELAY_US = 100_000
#: UDP receive buffer: a 1440p keyframe arrives as a burst of a few hundred kB.
UDP_BUFFER = 4 << 20
#: Decoder threading, measured for live 1440p H.264 (bench/convert.py, docs/benchmarks.md
#: "## Conversion"): one thread has the lowest CPU per frame and no added latency; frame
#: threads cost ≈12 % more CPU and hold one frame (40 ms at 25 fps) per extra thread; slice
#: threads gain nothing on the single-slice streams cameras send (same CPU, same latency as
#: one thread) while keeping a thread pool per camera. The wall's parallelism comes from one
#: process per camera. So: one thread by default; ``decoder_threads`` > 1 asks for frame
#: threads (a camera one core cannot keep up with; latency traded for throughput).
FRAME_THREADS = "FRAME"


def ffmpeg_options(settings: SourceSettings, scheme: str) -> dict[str, str]:
    """The FFmpeg format/protocol options for this source."""
    io_timeout_us = str(int(settings.io_timeout_s * 1e6))
    # low_delay reaches the decoders FFmpeg opens while probing; the decoder that makes our
    # frames keeps the stream's own reorder depth (forcing low_delay there would show a
    # B-frame stream out of order; streams without B-frames have no reorder delay anyway).
    opts = {"flags": "low_delay"}
    if scheme in ("rtsp", "rtsps"):
        # FFmpeg 5 renamed the socket I/O timeout "stimeout" → "timeout" (µs) for RTSP.
        timeout_key = "timeout" if av.library_versions["libavformat"][0] >= 59 else "stimeout"
        opts.update(
            rtsp_transport=settings.transport,
            analyzeduration=str(RTSP_ANALYZE_US),
            probesize=str(PROBESIZE),
            max_delay=str(MAX_DELAY_US),
            user_agent="camwall",
            fpsprobesize="0",
            # Packets before the first RTCP report carry no timestamp; probing would wait
            # for one (4 frame intervals of a 0.5 fps camera: 8 s instead of 4 s to open).
            max_ts_probe="0",
        )
        opts[timeout_key] = io_timeout_us
        if settings.transport == "udp":
            opts["buffer_size"] = str(UDP_BUFFER)
    elif scheme in ("http", "https"):
        opts.update(
            rw_timeout=io_timeout_us,  # inherited by HLS segment requests
            analyzeduration=str(HTTP_ANALYZE_US),
            probesize=str(PROBESIZE),
            user_agent="camwall",
            reconnect="0",  # reconnecting is the capture worker's job, with backoff
            fpsprobesize="0",
        )
    return opts


def set_decoder_threads(cc: VideoCodecContext, threads: int) -> None:
    """One decoding thread, or ``threads`` frame threads (see :data:`FRAME_THREADS`)."""
    if threads > 1:
        cc.thread_type = FRAME_THREADS
        cc.thread_count = threads
    else:
        cc.thread_type = "NONE"
        cc.thread_count = 1


def file_path(url: str) -> str:
    """The local path of a ``file:`` URL or plain path."""
    if url.startswith("file:"):
        return unquote(urlsplit(url).path)
    return url
