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

This module is the source and its read loop; its parts live next to it: the FFmpeg options
(:mod:`~camwall.sources.avoptions`), opening within our deadline
(:mod:`~camwall.sources.avopen`), the decoded frame (:mod:`~camwall.sources.avframe`), why a
stream failed in words (:mod:`~camwall.sources.averrors`) and file pacing
(:mod:`~camwall.sources.pacing`).
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
from urllib.parse import urlsplit

import av.error
from av.container import InputContainer
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from camwall.errors import (
    InvalidSourceError,
    SourceError,
    StreamLostError,
    UnsupportedStreamError,
)
from camwall.sources.averrors import ffmpeg_reason, read_error, stall_error
from camwall.sources.avframe import PyAVFrame
from camwall.sources.avinterrupt import abortable
from camwall.sources.avopen import is_live, open_container, stream_info, video_stream
from camwall.sources.avoptions import file_path, set_decoder_threads
from camwall.sources.base import DecodeMode, Source, SourceSettings, StreamInfo
from camwall.sources.convert import FrameConverter
from camwall.sources.liveness import Liveness, LostReason
from camwall.sources.pacing import Pacer

log = logging.getLogger(__name__)


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
        self._pacer = Pacer()
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
        container = open_container(
            settings, target, self._scheme, self.display_url, lambda: self.interrupted
        )
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

    def _setup(self, container: InputContainer) -> None:
        stream = video_stream(container, self.display_url)
        cc = stream.codec_context
        set_decoder_threads(cc, self.settings.decoder_threads)
        self._container = container
        self._stream = stream
        self._packets = container.demux(stream)
        self._live = is_live(container, self._scheme)
        self.info = stream_info(container, stream, self.settings, self._scheme, self.display_url)
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
        return read_error(
            self.display_url,
            self._abort_reason,
            exc,
            interrupted=self.interrupted,
            liveness=self._liveness,
            since_frame=self._since_frame,
        )

    def _check_stall(self) -> None:
        reason = self._liveness.lost(time.monotonic())
        if reason is not None:
            limit = self._liveness.limit(reason)
            raise stall_error(self.display_url, reason, limit, self._since_frame, blocked=False)

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
        media_s = None
        if frame.pts is not None and frame.time_base is not None:
            media_s = float(frame.pts * frame.time_base)
        wait = self._pacer.wait_for(media_s, fps, time.monotonic())
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
