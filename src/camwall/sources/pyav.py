"""Network streams and files through PyAV (FFmpeg): RTSP(S), HTTP(S) MJPEG and HLS, files.

What a camera wall needs from it, beyond "decode frames":

- A dead camera is noticed in about ``open_timeout_s``/``read_timeout_s`` (our own deadlines;
  FFmpeg's socket timeout is only the backstop), never FFmpeg's 30 s defaults. The read,
  stall and first-frame limits adapt to the stream (:mod:`camwall.sources.liveness`): a
  long-GOP camera joined mid-GOP and a 0.25 fps camera are not mistaken for dead ones.
- :meth:`PyAVSource.interrupt` makes a blocked open/read return within about 0.1 s (see
  :mod:`camwall.sources.avinterrupt`); PyAV's own timeouts remain the backstop.
- A stream that stays connected but sends nothing, or only undecodable data, for
  ``stall_timeout_s`` is lost (detected by progress age, not only by socket errors).
- Corrupt packets are dropped and counted; after a decode error decoding resumes at the next
  keyframe (no smeared frames).
- Files can stand in for cameras: paced by their timestamps (``realtime``) and looping.

FFmpeg options, and why (measured against the GStreamer test server, ``bench/convert.py``):
``fflags=nobuffer`` is *not* set: it only affects probing, and there it throws away the
packets read while probing — including the keyframe a camera sends to a new client — so the
first frame came a whole GOP later (1.07 s instead of 0.27 s). ``discardcorrupt`` is not
set either: we drop corrupt packets ourselves, so we can count them. ``fpsprobesize=0`` for
network streams: probing would otherwise wait for several frames to guess a frame rate (4
more frames, 16 s, from the 0.25 fps test camera); the rate a stream declares (SDP,
container, H.264 timing info) is still read.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import av
import av.error
from av.container import InputContainer
from av.packet import Packet
from av.stream import Discard
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from camwall.errors import (
    InvalidSourceError,
    SourceError,
    StreamLostError,
    UnsupportedStreamError,
)
from camwall.sources.averrors import (
    OpenFailure,
    ProbeResult,
    classify_open_error,
    ffmpeg_reason,
    probe,
)
from camwall.sources.avinterrupt import abortable
from camwall.sources.base import (
    FIRST_FRAME_TIMEOUT_S,
    DecodeMode,
    Pixels,
    Source,
    SourceFrame,
    SourceSettings,
    StreamInfo,
)
from camwall.sources.convert import FrameConverter
from camwall.sources.liveness import Liveness, LostReason

log = logging.getLogger(__name__)

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
#: Our deadline for a whole open is this many open timeouts: FFmpeg's socket timeout (one
#: open timeout) answers first for a silent server, so hitting ours means data flowed but no
#: stream came of it (a port speaking another protocol).
OPEN_DEADLINE_FACTOR = 1.5
#: Decoder threading, measured for live 1440p H.264 (bench/convert.py, docs/benchmarks.md
#: "## Conversion"): one thread has the lowest CPU per frame and no added latency; frame
#: threads cost ≈12 % more CPU and hold one frame (40 ms at 25 fps) per extra thread; slice
#: threads gain nothing on the single-slice streams cameras send (same CPU, same latency as
#: one thread) while keeping a thread pool per camera. The wall's parallelism comes from one
#: process per camera. So: one thread by default; ``decoder_threads`` > 1 asks for frame
#: threads (a camera one core cannot keep up with; latency traded for throughput).
FRAME_THREADS = "FRAME"
#: Pacing a file: re-anchor the clock instead of sleeping longer than this, or when this late.
PACE_MAX_WAIT_S = 2.0
PACE_MAX_LATE_S = 0.5


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


def file_path(url: str) -> str:
    """The local path of a ``file:`` URL or plain path."""
    if url.startswith("file:"):
        return unquote(urlsplit(url).path)
    return url


class PyAVFrame(SourceFrame):
    """A decoded frame; converted (once) by :meth:`convert_into`."""

    def __init__(
        self,
        frame: VideoFrame,
        converter: FrameConverter,
        capture_ns: int,
        decode_ns: int,
        detect_converter: FrameConverter | None = None,
    ) -> None:
        """Wrap a decoded PyAV frame (valid until the source's next read)."""
        self.av_frame = frame
        self._converter = converter
        self._detect_converter = detect_converter
        self.width = frame.width
        self.height = frame.height
        self.pts = frame.pts
        self.capture_ns = capture_ns
        self.decode_ns = decode_ns

    @property
    def pix_fmt(self) -> str:
        """The decoder's pixel format (``yuv420p``, ``yuvj420p``, ``nv12``, ...)."""
        return str(self.av_frame.format.name)

    def convert_into(self, dst: Pixels) -> None:
        """Write the frame as BGRA into ``dst``, scaling to ``dst``'s size if it differs."""
        self._converter.convert(self.av_frame, dst)

    def convert_for_detection(self, dst: Pixels) -> None:
        """The detect-sized copy, with a scaler of its own (sharing one would rebuild it on
        every frame, alternating between the tile's size and the detector's)."""
        (self._detect_converter or self._converter).convert(self.av_frame, dst)


class _Pacer:
    """Releases file frames at their timestamps' pace, like a live camera."""

    def __init__(self) -> None:
        self.origin: tuple[float, float] | None = None  # (monotonic, media seconds)

    def reset(self) -> None:
        """Forget the clock (after a seek or loop)."""
        self.origin = None

    def delay(self, media_s: float, now: float) -> float:
        """Seconds to wait before showing the frame at ``media_s``."""
        if self.origin is None:
            self.origin = (now, media_s)
            return 0.0
        wait = self.origin[0] + (media_s - self.origin[1]) - now
        if wait > PACE_MAX_WAIT_S or wait < -PACE_MAX_LATE_S:
            # A timestamp jump, or we fell behind: restart the clock instead of bursting.
            self.origin = (now, media_s)
            return 0.0
        return max(0.0, wait)


class PyAVSource(Source):
    """A stream or file decoded by FFmpeg through PyAV (see the module docstring)."""

    def __init__(self, settings: SourceSettings) -> None:
        """Remember the settings; nothing is opened until :meth:`open`."""
        super().__init__(settings)
        scheme = urlsplit(settings.url).scheme.lower()
        self._scheme = scheme if scheme in ("rtsp", "rtsps", "http", "https") else "file"
        self._container: InputContainer | None = None
        self._stream: VideoStream | None = None
        self._packets: Iterator[Packet[VideoStream]] | None = None
        self._converter = FrameConverter()
        self._detect_converter = FrameConverter()
        self._ready: collections.deque[tuple[VideoFrame, int]] = collections.deque()
        self._pacer = _Pacer()
        self._live = True
        self._eof = False
        self._need_keyframe = False
        self._liveness = Liveness(settings)
        self._dts_seconds = 0.0  # the video stream's time base as a float
        self._read_started = 0.0
        self._abort_reason: LostReason | Literal["interrupted"] | None = None
        self._abort_error: SourceError | None = None
        self._since_frame = {"packets": 0, "corrupt": 0, "errors": 0}
        self._frames_this_pass = 0
        self._media_guess = 0.0

    # -- opening ------------------------------------------------------------------------

    @property
    def is_file(self) -> bool:
        """True for local files (paced and loopable), False for network streams."""
        return self._scheme == "file"

    @property
    def packet_stream(self) -> VideoStream | None:
        """The demuxer's video stream (for a recorder remuxing the packets), once open."""
        return self._stream

    def open(self) -> StreamInfo:
        """Connect and probe; raise a specific :class:`SourceError` on failure."""
        settings = self.settings
        if settings.hwaccel:
            raise InvalidSourceError(
                f"{self.display_url}: hardware decoding (hwaccel={settings.hwaccel!r}) is not "
                "implemented yet; leave hwaccel unset to decode in software"
            )
        self.close()
        if self.interrupted:
            raise StreamLostError(f"{self.display_url}: interrupted")
        target = file_path(settings.url) if self.is_file else settings.url
        if self.is_file and Path(target).is_dir():
            raise UnsupportedStreamError(f"{self.display_url}: is a directory, not a video file")
        container = self._open_container(target)
        try:
            self._setup(container)
        except SourceError:
            container.close()
            raise
        assert self.info is not None
        log.info(
            "%s: opened %s %dx%d %s fps via %s",
            self.display_url,
            self.info.codec,
            self.info.width,
            self.info.height,
            f"{self.info.fps:.3g}" if self.info.fps else "?",
            self.info.transport,
        )
        return self.info

    def _open_container(self, target: str) -> InputContainer:
        settings = self.settings
        budget = settings.open_timeout_s * OPEN_DEADLINE_FACTOR
        # A server that answers in its protocol may still take a frame interval or a GOP
        # before the first video arrives (FFmpeg's probing waits for it): a slow camera.
        first_frame = settings.first_frame_timeout_s or FIRST_FRAME_TIMEOUT_S
        start = time.monotonic()
        deadline_hit = False
        probed: list[ProbeResult] = []

        def give_up() -> bool:
            nonlocal deadline_hit, budget
            if self.interrupted:
                return True
            if time.monotonic() - start > budget:
                if not probed and not self.is_file:
                    # At the open deadline, ask the server directly (once): one that speaks
                    # its protocol is alive and gets the first-frame wait; silence, garbage
                    # or a refusal end the open now. (Runs on FFmpeg's poll: it waits.)
                    probed.append(self._probe())
                    speaks = "rtsp" if self._scheme.startswith("rtsp") else "http"
                    if probed[0].kind == speaks and not self.interrupted:
                        budget = max(budget, first_frame)
                        return False
                deadline_hit = True
                return True
            return False

        error: SourceError | None = None
        try:
            with abortable(give_up):
                container = av.open(
                    target,
                    "r",
                    options=ffmpeg_options(settings, self._scheme),
                    # PyAV's own open timeout is the backstop of ours (which may grow).
                    timeout=(max(budget, first_frame) + 1.0, settings.io_timeout_s),
                )
        except (av.error.FFmpegError, OSError) as exc:
            failure = OpenFailure(
                url=self.display_url,
                scheme=self._scheme,
                has_credentials="@" in urlsplit(settings.url).netloc,
                elapsed_s=time.monotonic() - start,
                io_timeout_s=settings.io_timeout_s,
                deadline_hit=deadline_hit,
                interrupted=self.interrupted,
            )
            probe_fn = (lambda: probed[0]) if probed else self._probe
            error = classify_open_error(exc, failure, probe_fn if not self.is_file else None)
        if error is not None:
            # Raised outside the except block: PyAV's exception (its text holds the URL with
            # the password) must not travel along as __context__.
            log.info("%s: open failed: %s", self.display_url, error)
            raise error
        return container

    def _probe(self) -> ProbeResult:
        return probe(
            self.settings.url, min(1.0, self.settings.open_timeout_s / 2), lambda: self.interrupted
        )

    def _setup(self, container: InputContainer) -> None:
        videos = list(container.streams.video)
        if not videos:
            others = ", ".join(
                f"{s.type} ({s.codec_context.name if s.codec_context else '?'})"
                for s in container.streams
            )
            raise UnsupportedStreamError(
                f"{self.display_url}: the stream has no video"
                + (f", only {others}" if others else "")
            )
        stream = videos[0]
        if stream.codec_context is None:
            raise UnsupportedStreamError(
                f"{self.display_url}: no decoder for this stream's codec in this FFmpeg build"
            )
        for other in container.streams:
            if other.index != stream.index:
                # Not demuxed at all: for HLS this also skips the other variants' downloads.
                other.discard = Discard.all
        cc = stream.codec_context
        threads = self.settings.decoder_threads
        if threads > 1:
            cc.thread_type = FRAME_THREADS
            cc.thread_count = threads
        else:
            cc.thread_type = "NONE"
            cc.thread_count = 1
        self._container = container
        self._stream = stream
        self._packets = container.demux(stream)
        self._live = not self.is_file and not (
            container.format.name == "hls" and container.duration is not None
        )
        # average_rate is what the stream declares (SDP a=framerate, container); the guessed
        # rate may be FFmpeg's default (25 for MJPEG over HTTP, which declares nothing).
        rate = stream.average_rate or stream.guessed_rate
        bitrate = stream.bit_rate or cc.bit_rate or (container.bit_rate or None)
        transport = {"rtsp": self.settings.transport, "rtsps": self.settings.transport}.get(
            self._scheme, "hls" if container.format.name == "hls" else self._scheme
        )
        self.info = StreamInfo(
            url=self.display_url,
            codec=cc.name,
            width=cc.width,
            height=cc.height,
            fps=float(rate) if rate else None,
            bitrate=int(bitrate) if bitrate else None,
            pix_fmt=cc.pix_fmt,
            transport=transport,
            fps_declared=bool(stream.average_rate),
        )
        now = time.monotonic()
        self._liveness.reset(now)
        self._dts_seconds = float(stream.time_base) if stream.time_base else 0.0
        self._eof = False
        self._need_keyframe = False
        self._abort_reason = None
        self._abort_error = None
        self._frames_this_pass = 0
        self._pacer.reset()
        self._since_frame = dict.fromkeys(self._since_frame, 0)
        if self.decode_mode == "keyframes":
            cc.skip_frame = "NONKEY"
        elif self.decode_mode == "paused":
            self._need_keyframe = True  # when decoding resumes

    # -- reading ------------------------------------------------------------------------

    def read(self) -> PyAVFrame:
        """Block until the next decoded frame; raise StreamLostError when the stream ends."""
        frame = self.read_within(math.inf)
        assert frame is not None  # no deadline: only a frame or an error ends the wait
        return frame

    def set_decode(self, mode: DecodeMode) -> None:
        """Every frame, keyframes only (FFmpeg skips the rest unparsed), or no decoding.

        Packets keep being read either way (the connection stays up, recording goes on). Back
        from paused, decoding restarts at the next keyframe: the frames in between lack the
        references they were coded against.
        """
        previous, self.decode_mode = self.decode_mode, mode
        if self._stream is None or previous == mode:
            return
        context = self._stream.codec_context
        context.skip_frame = "NONKEY" if mode == "keyframes" else "DEFAULT"
        if previous == "paused":
            context.flush_buffers()
            self._need_keyframe = True

    def read_within(self, idle_s: float) -> PyAVFrame | None:
        """Like :meth:`read`, but None once ``idle_s`` passed with packets and no frame
        (keyframes-only or paused decoding: the worker still has commands to see to)."""
        deadline = time.monotonic() + idle_s
        while True:
            if self._ready:
                frame, decode_ns = self._ready.popleft()
                return self._deliver(frame, decode_ns)
            if self._container is None or self._packets is None or self._stream is None:
                raise StreamLostError(f"{self.display_url}: read before open (or after close)")
            if self.interrupted:
                raise StreamLostError(f"{self.display_url}: interrupted")
            if self._eof:
                raise StreamLostError(f"{self.display_url}: end of stream")
            if time.monotonic() >= deadline:
                return None
            self._check_stall()
            packet = self._next_packet()
            if packet is None:
                self._end_of_stream()
                continue
            self._decode(packet)

    def _next_packet(self) -> Packet[VideoStream] | None:
        """The next demuxed video packet, or None at the end of the stream."""
        assert self._packets is not None
        if self._abort_error is not None:
            # The previous read was given up on, yet FFmpeg still handed out what it had
            # buffered (RTSP flushes its last frame on a timeout). That frame was delivered;
            # the stream is dead all the same.
            error: SourceError = self._abort_error
            raise error
        self._read_started = time.monotonic()
        self._abort_reason = None
        try:
            with abortable(self._read_should_abort):
                packet = next(self._packets)
        except StopIteration:
            return None
        except av.error.EOFError:
            return None
        except av.error.FFmpegError as exc:
            error = self._read_error(exc)
        else:
            now = time.monotonic()
            if self._abort_reason is None and now - self._read_started >= (
                self._liveness.read_limit
            ):
                self._abort_reason = "read-timeout"  # FFmpeg's own socket timeout fired
            if packet.size and self._abort_reason is None:
                # (A packet handed out by a read given up on says nothing of the rhythm.)
                dts = packet.dts
                self._liveness.packet(
                    now, dts * self._dts_seconds if dts is not None and self._dts_seconds else None
                )
            if self._abort_reason is not None:
                self._abort_error = self._read_error(None)
            return packet
        raise error  # outside the except block: no __context__ carrying the raw URL

    def _read_should_abort(self) -> bool:
        """The interrupt check while blocked in a read (runs on FFmpeg's polls; sticky)."""
        if self._abort_reason is not None:
            return True
        if self.interrupted:
            self._abort_reason = "interrupted"
        else:
            self._abort_reason = self._liveness.lost(time.monotonic(), self._read_started)
        return self._abort_reason is not None

    def _read_error(self, exc: BaseException | None) -> SourceError:
        """The error for a read that failed (``exc``) or was given up on (``exc`` None)."""
        url = self.display_url
        reason = self._abort_reason
        if reason == "interrupted" or self.interrupted:
            return StreamLostError(f"{url}: interrupted")
        if reason == "stall" or reason == "no-keyframe":
            return self._stall_error(reason, blocked=True)
        if reason == "read-timeout" or isinstance(exc, av.error.ExitError | TimeoutError):
            age = time.monotonic() - self._liveness.last_frame_at
            return StreamLostError(
                f"{url}: no data for {self._liveness.read_limit:.1f} s "
                f"(last frame {age:.1f} s ago); the camera or network stopped sending"
            )
        if isinstance(exc, ConnectionError):
            return StreamLostError(f"{url}: connection lost ({ffmpeg_reason(exc)})")
        detail = ffmpeg_reason(exc) if exc is not None else "unknown"
        return StreamLostError(f"{url}: reading the stream failed ({detail})")

    def _check_stall(self) -> None:
        reason = self._liveness.lost(time.monotonic())
        if reason is not None:
            raise self._stall_error(reason, blocked=False)

    def _stall_error(self, reason: LostReason, *, blocked: bool) -> StreamLostError:
        s = self._since_frame
        limit = self._liveness.limit(reason)
        if reason == "no-keyframe":
            detail = (
                f"{s['packets']} packets arrived but none decoded to a picture; if the "
                f"camera's keyframe interval is longer, raise first_frame_timeout_s"
            )
        elif s["corrupt"] or s["errors"]:
            detail = (
                f"only undecodable data: {s['corrupt']} corrupt packets, "
                f"{s['errors']} decode errors"
            )
        elif s["packets"]:
            detail = f"{s['packets']} packets arrived but none decoded to a picture"
        elif blocked:
            detail = "connected, but no data arrives"
        else:
            detail = "no video packets"
        return StreamLostError(f"{self.display_url}: no frame for {limit:.1f} s ({detail})")

    def _decode(self, packet: Packet[VideoStream]) -> None:
        assert self._stream is not None
        flush = packet.size == 0
        if not flush:
            self.stats.packets += 1
            self.stats.bytes += packet.size
            self._since_frame["packets"] += 1
            if packet.is_corrupt:
                self.stats.corrupt_packets += 1
                self._since_frame["corrupt"] += 1
                return
            if self._packet_sink is not None:
                self._packet_sink(packet)
            if self.decode_mode == "paused":
                # Read (and recorded) but not decoded on purpose: the stream is alive as long
                # as its packets arrive.
                self._liveness.frame(time.monotonic())
                return
            if self._need_keyframe:
                if not packet.is_keyframe:
                    self._count("skipped_to_keyframe")
                    self._liveness.progress(time.monotonic())  # on the way to a keyframe
                    return
                self._need_keyframe = False
        t0 = time.perf_counter_ns()
        try:
            frames = self._stream.decode(None if flush else packet)
        except av.error.EOFError:
            frames = []
        except av.error.FFmpegError as exc:
            # Any decoder failure is a data problem of this packet: count it, start clean at
            # the next keyframe (the references of the frames in between are broken).
            self.stats.decode_errors += 1
            self._since_frame["errors"] += 1
            self._need_keyframe = True
            self._stream.codec_context.flush_buffers()
            log.debug("%s: decode error: %s", self.display_url, ffmpeg_reason(exc))
            return
        if not flush:
            # Accepted by the decoder, picture or not (mid-GOP, it waits for a keyframe).
            self._liveness.progress(time.monotonic())
        if frames:
            cost = (time.perf_counter_ns() - t0) // len(frames)
            self._ready.extend((f, cost) for f in frames)

    def _deliver(self, frame: VideoFrame, decode_ns: int) -> PyAVFrame:
        if self.settings.realtime and not self._live:
            self._pace(frame)
        now_ns = time.monotonic_ns()
        self._liveness.frame(now_ns / 1e9)
        self._since_frame = dict.fromkeys(self._since_frame, 0)
        self._frames_this_pass += 1
        self.stats.frames += 1
        info = self.info
        if info is not None and (frame.width, frame.height) != (info.width, info.height):
            if info.width:
                log.info(
                    "%s: resolution changed %dx%d → %dx%d",
                    self.display_url,
                    info.width,
                    info.height,
                    frame.width,
                    frame.height,
                )
            self.info = dataclasses.replace(
                info, width=frame.width, height=frame.height, pix_fmt=frame.format.name
            )
        return PyAVFrame(frame, self._converter, now_ns, decode_ns, self._detect_converter)

    def _pace(self, frame: VideoFrame) -> None:
        fps = self.info.fps if self.info and self.info.fps else 25.0
        if frame.pts is not None and frame.time_base is not None:
            media_s = float(frame.pts * frame.time_base)
        else:
            media_s = self._media_guess + 1.0 / fps
        self._media_guess = media_s
        wait = self._pacer.delay(media_s, time.monotonic())
        if wait > 0 and self._interrupted.wait(wait):
            raise StreamLostError(f"{self.display_url}: interrupted")

    def _end_of_stream(self) -> None:
        """The demuxer is exhausted (its flush packets were decoded): loop, or report."""
        assert self._container is not None and self._stream is not None
        if not self.is_file:
            self._eof = True
            raise StreamLostError(
                f"{self.display_url}: the server ended the stream (end of stream)"
            )
        if not self.settings.loop:
            self._eof = True
            raise StreamLostError(f"{self.display_url}: end of stream")
        if self._frames_this_pass == 0:
            self._eof = True
            raise StreamLostError(
                f"{self.display_url}: end of stream, and the whole file had no decodable frame"
            )
        try:
            self._container.seek(0)
        except av.error.FFmpegError as exc:
            self._eof = True
            raise StreamLostError(
                f"{self.display_url}: end of stream; cannot seek back to loop "
                f"({ffmpeg_reason(exc)})"
            ) from None
        self._stream.codec_context.flush_buffers()
        self._packets = self._container.demux(self._stream)
        self._pacer.reset()
        self._frames_this_pass = 0
        self._count("loops")

    def _count(self, key: str) -> None:
        self.stats.extra[key] = self.stats.extra.get(key, 0) + 1

    # -- closing ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the container (RTSP sends TEARDOWN). Idempotent."""
        container, self._container = self._container, None
        self._stream = None
        self._packets = None
        self._ready.clear()
        if container is not None:
            container.close()

    def __repr__(self) -> str:
        return f"<PyAVSource {self.display_url}>"
