"""What every video source offers the capture worker: open, read frames, convert, close.

A source runs inside one capture worker (a process or a thread) and is used from that
worker's thread only, except :meth:`Source.interrupt`, which any thread may call to make a
blocking ``open``/``read`` give up quickly (used by ``stop``).
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from camwall.redact import mask_url

Transport = Literal["tcp", "udp"]

#: The read timeout while the stream's frame interval is short (adaptive ``read_timeout_s``).
READ_TIMEOUT_BASE_S = 2.0
#: Adaptive timeouts wait this many observed frame intervals for the next frame...
READ_TIMEOUT_INTERVALS = 3.0
#: ...but never longer than this (0.1 fps and slower cameras need ``read_timeout_s`` set).
READ_TIMEOUT_MAX_S = 20.0
#: Adaptive first-frame wait: covers a 10 s GOP ("smart codec" cameras send a keyframe every
#: 4–10 s, and a client that joins mid-GOP sees nothing decodable until the next one).
FIRST_FRAME_TIMEOUT_S = 12.0
Pixels = npt.NDArray[np.uint8]
PacketSink = Callable[[Any], None]


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """How to open one source; picklable, passed to worker processes.

    ``url`` may carry credentials: never log it, show :attr:`display_url` instead.
    """

    url: str
    transport: Transport = "tcp"
    #: Seconds to wait for a connection / the stream's first data before giving up.
    open_timeout_s: float = 2.0
    #: Seconds a blocking read may wait for data before the stream counts as lost. None:
    #: adaptive — max(READ_TIMEOUT_BASE_S, READ_TIMEOUT_INTERVALS × the observed frame
    #: interval), at most READ_TIMEOUT_MAX_S, so a 0.25 fps camera is not "lost" between frames.
    read_timeout_s: float | None = None
    #: Seconds without progress (no packets, or only undecodable ones) → lost; stretched to
    #: the adaptive read timeout for slow streams.
    stall_timeout_s: float = 3.0
    #: Seconds to wait for a decodable frame while packets keep arriving: after opening (a
    #: long-GOP camera's first keyframe) and after a decode error (skipping to the next
    #: keyframe). None: adaptive — FIRST_FRAME_TIMEOUT_S, or longer if the read timeout is.
    first_frame_timeout_s: float | None = None
    #: FFmpeg decoder threads. 0 or 1: one thread (measured lowest latency and CPU per camera,
    #: see camwall.sources.avoptions); N > 1: N frame threads, each extra one adds a frame of latency.
    decoder_threads: int = 0
    #: Hardware decoder name (e.g. "vaapi"); None: software. A seam, not implemented yet.
    hwaccel: str | None = None
    #: Files: play at the stream's own rate (like a camera) instead of as fast as possible.
    realtime: bool = True
    #: Files: start again at the end instead of reporting the end as a lost stream.
    loop: bool = False

    def __post_init__(self) -> None:
        for name in (
            "open_timeout_s",
            "read_timeout_s",
            "stall_timeout_s",
            "first_frame_timeout_s",
        ):
            value = getattr(self, name)
            if value is not None and not 0 < value < float("inf"):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")

    @property
    def display_url(self) -> str:
        """The URL with credentials masked, for logs, events and errors."""
        return mask_url(self.url)

    @property
    def base_read_timeout_s(self) -> float:
        """The read timeout before any frame interval is known (the set one, if set)."""
        return READ_TIMEOUT_BASE_S if self.read_timeout_s is None else self.read_timeout_s

    @property
    def io_timeout_s(self) -> float:
        """FFmpeg's socket timeout: the longest any open or read may wait (our own deadlines
        cut earlier; FFmpeg's timeout is fixed per connection, so it must allow the slowest
        stream the adaptive timeouts accept)."""
        longest = READ_TIMEOUT_MAX_S if self.read_timeout_s is None else self.read_timeout_s
        first = (
            FIRST_FRAME_TIMEOUT_S
            if self.first_frame_timeout_s is None
            else self.first_frame_timeout_s
        )
        return max(self.open_timeout_s, longest, first)

    def __repr__(self) -> str:
        # The dataclass repr would print the password; reprs end up in logs and tracebacks.
        return f"SourceSettings(url={self.display_url!r}, transport={self.transport!r})"


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a source delivers, known once it is open."""

    url: str  # masked
    codec: str
    width: int
    height: int
    fps: float | None = None
    bitrate: int | None = None  # bits per second, when the container says
    pix_fmt: str | None = None
    transport: str | None = None
    #: False when ``fps`` is FFmpeg's guess (e.g. 25 for MJPEG over HTTP), not the stream's.
    fps_declared: bool = True


@dataclass(slots=True)
class SourceStats:
    """Counters a source keeps while it runs (read by the worker for its stats events)."""

    packets: int = 0
    bytes: int = 0
    frames: int = 0
    corrupt_packets: int = 0
    decode_errors: int = 0
    extra: dict[str, float] = field(default_factory=dict)


class SourceFrame(abc.ABC):
    """One decoded frame, valid until the source's next ``read``.

    It has not been converted yet: the worker calls :meth:`convert_into` with a view of a
    ring slot, so the one conversion the frame needs writes straight into shared memory.
    """

    width: int
    height: int
    #: Presentation timestamp in stream time-base units, when known.
    pts: int | None
    #: ``time.monotonic_ns()`` when the frame was decoded (comparable across processes).
    capture_ns: int
    #: Nanoseconds of CPU-side decode work for this frame, when measured.
    decode_ns: int

    @abc.abstractmethod
    def convert_into(self, dst: Pixels) -> None:
        """Write this frame as BGRA into ``dst`` (H'×W'×4 uint8), scaling if its size differs."""

    def convert_for_detection(self, dst: Pixels) -> None:
        """Like :meth:`convert_into`, for the detect-sized output (its own scaler state)."""
        self.convert_into(dst)


#: How much of the stream is decoded (see camwall.runtime.decode): every frame, keyframes
#: only, or nothing (the connection, and recording, go on).
DecodeMode = Literal["full", "keyframes", "paused"]
#: Keyframes-only for sources that have no keyframes (synthetic, webcam): one frame a second.
_KEYFRAME_INTERVAL_S = 1.0


class Source(abc.ABC):
    """A camera, stream, file or generator of frames."""

    def __init__(self, settings: SourceSettings) -> None:
        """Keep the settings; nothing is opened until :meth:`open`."""
        self.settings = settings
        self.info: StreamInfo | None = None
        self.stats = SourceStats()
        self._interrupted = threading.Event()
        self._packet_sink: PacketSink | None = None
        self.decode_mode: DecodeMode = "full"
        self._last_delivered = 0.0

    @property
    def display_url(self) -> str:
        """The source's URL with credentials masked."""
        return self.settings.display_url

    @abc.abstractmethod
    def open(self) -> StreamInfo:
        """Connect and probe; raise a :class:`camwall.errors.SourceError` subclass on failure."""

    @abc.abstractmethod
    def read(self) -> SourceFrame:
        """Block until the next frame; raise ``StreamLostError`` (or another SourceError)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release everything the source holds. Idempotent."""

    def set_decode(self, mode: DecodeMode) -> None:
        """Decode every frame, keyframes only, or nothing (from the reading thread)."""
        self.decode_mode = mode

    def read_within(self, idle_s: float) -> SourceFrame | None:
        """The next frame the decode mode lets through, or None after ``idle_s`` without one.

        Sources that decode in :meth:`read` itself (streams) override this to keep reading
        packets while nothing is decoded; this fallback paces frame generators instead.
        """
        if self.decode_mode == "paused":
            self._interrupted.wait(idle_s)
            return None
        if self.decode_mode == "keyframes":
            wait = self._last_delivered + _KEYFRAME_INTERVAL_S - time.monotonic()
            if wait > 0:
                self._interrupted.wait(min(wait, idle_s))
                if time.monotonic() < self._last_delivered + _KEYFRAME_INTERVAL_S:
                    return None
        frame = self.read()
        self._last_delivered = time.monotonic()
        return frame

    def interrupt(self) -> None:
        """Make a blocking open/read return soon with an error (thread-safe)."""
        self._interrupted.set()

    @property
    def interrupted(self) -> bool:
        """True once :meth:`interrupt` was called."""
        return self._interrupted.is_set()

    def set_packet_sink(self, sink: PacketSink | None) -> None:
        """Receive every compressed packet demuxed from now on (for recording).

        Sources without compressed packets (synthetic, webcam) ignore this.
        """
        self._packet_sink = sink

    @property
    def packet_stream(self) -> Any:
        """The demuxer's input video stream (for remuxing), or None if the source has none."""
        return None

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
