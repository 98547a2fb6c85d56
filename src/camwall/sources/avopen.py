"""Opening a stream or file with PyAV within camwall's own deadline, and what it turns out to be.

A dead camera is noticed in about ``open_timeout_s`` (FFmpeg's socket timeout is only the
backstop), and an open can be interrupted (:mod:`camwall.sources.avinterrupt`). At the
deadline the server is asked directly, once (:func:`~camwall.sources.averrors.probe`): one
that speaks its protocol is a slow camera and gets the first-frame wait; silence, garbage or
a refusal end the open with an error that says which (:mod:`camwall.sources.averrors`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import av
import av.error
from av.container import InputContainer
from av.stream import Discard
from av.video.stream import VideoStream

from camwall.errors import SourceError, UnsupportedStreamError
from camwall.sources.averrors import OpenFailure, ProbeResult, classify_open_error, probe
from camwall.sources.avinterrupt import abortable
from camwall.sources.avoptions import ffmpeg_options
from camwall.sources.base import FIRST_FRAME_TIMEOUT_S, SourceSettings, StreamInfo

log = logging.getLogger(__name__)

#: Our deadline for a whole open is this many open timeouts: FFmpeg's socket timeout (one
#: open timeout) answers first for a silent server, so hitting ours means data flowed but no
#: stream came of it (a port speaking another protocol).
OPEN_DEADLINE_FACTOR = 1.5


def open_container(
    settings: SourceSettings,
    target: str,
    scheme: str,
    display_url: str,
    interrupted: Callable[[], bool],
) -> InputContainer:
    """Open ``target`` (the URL, or a file's path) or raise a specific :class:`SourceError`.

    ``scheme`` is ``rtsp``, ``rtsps``, ``http``, ``https`` or ``file``; ``interrupted()``
    True makes a blocked open return at once.
    """
    is_file = scheme == "file"
    budget = settings.open_timeout_s * OPEN_DEADLINE_FACTOR
    # A server that answers in its protocol may still take a frame interval or a GOP
    # before the first video arrives (FFmpeg's probing waits for it): a slow camera.
    first_frame = settings.first_frame_timeout_s or FIRST_FRAME_TIMEOUT_S
    start = time.monotonic()
    deadline_hit = False
    probed: list[ProbeResult] = []

    def ask_server() -> ProbeResult:
        return probe(settings.url, min(1.0, settings.open_timeout_s / 2), interrupted)

    def give_up() -> bool:
        nonlocal deadline_hit, budget
        if interrupted():
            return True
        if time.monotonic() - start > budget:
            if not probed and not is_file:
                # At the open deadline, ask the server directly (once): one that speaks
                # its protocol is alive and gets the first-frame wait; silence, garbage
                # or a refusal end the open now. (Runs on FFmpeg's poll: it waits.)
                probed.append(ask_server())
                speaks = "rtsp" if scheme.startswith("rtsp") else "http"
                if probed[0].kind == speaks and not interrupted():
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
                options=ffmpeg_options(settings, scheme),
                # PyAV's own open timeout is the backstop of ours (which may grow).
                timeout=(max(budget, first_frame) + 1.0, settings.io_timeout_s),
            )
    except (av.error.FFmpegError, OSError) as exc:
        failure = OpenFailure(
            url=display_url,
            scheme=scheme,
            has_credentials="@" in urlsplit(settings.url).netloc,
            elapsed_s=time.monotonic() - start,
            io_timeout_s=settings.io_timeout_s,
            deadline_hit=deadline_hit,
            interrupted=interrupted(),
        )
        probe_fn = (lambda: probed[0]) if probed else ask_server
        error = classify_open_error(exc, failure, probe_fn if not is_file else None)
    if error is not None:
        # Raised outside the except block: PyAV's exception (its text holds the URL with
        # the password) must not travel along as __context__.
        log.info("%s: open failed: %s", display_url, error)
        raise error
    return container


def video_stream(container: InputContainer, display_url: str) -> VideoStream:
    """The container's first video stream, the only one demuxed; UnsupportedStreamError if
    there is none or this FFmpeg cannot decode it."""
    videos = list(container.streams.video)
    if not videos:
        others = ", ".join(
            f"{s.type} ({s.codec_context.name if s.codec_context else '?'})"
            for s in container.streams
        )
        raise UnsupportedStreamError(
            f"{display_url}: the stream has no video" + (f", only {others}" if others else "")
        )
    stream = videos[0]
    if stream.codec_context is None:
        raise UnsupportedStreamError(
            f"{display_url}: no decoder for this stream's codec in this FFmpeg build"
        )
    for other in container.streams:
        if other.index != stream.index:
            # Not demuxed at all: for HLS this also skips the other variants' downloads.
            other.discard = Discard.all
    return stream


def is_live(container: InputContainer, scheme: str) -> bool:
    """A camera, not a file or a finished (video-on-demand) HLS playlist."""
    return scheme != "file" and not (
        container.format.name == "hls" and container.duration is not None
    )


def stream_info(
    container: InputContainer,
    stream: VideoStream,
    settings: SourceSettings,
    scheme: str,
    display_url: str,
) -> StreamInfo:
    """What the opened stream is: codec, size, frame rate, bit rate, transport."""
    cc = stream.codec_context
    # average_rate is what the stream declares (SDP a=framerate, container); the guessed
    # rate may be FFmpeg's default (25 for MJPEG over HTTP, which declares nothing).
    rate = stream.average_rate or stream.guessed_rate
    bitrate = stream.bit_rate or cc.bit_rate or (container.bit_rate or None)
    transport = {"rtsp": settings.transport, "rtsps": settings.transport}.get(
        scheme, "hls" if container.format.name == "hls" else scheme
    )
    return StreamInfo(
        url=display_url,
        codec=cc.name,
        width=cc.width,
        height=cc.height,
        fps=float(rate) if rate else None,
        bitrate=int(bitrate) if bitrate else None,
        pix_fmt=cc.pix_fmt,
        transport=transport,
        fps_declared=bool(stream.average_rate),
    )
