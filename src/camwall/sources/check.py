"""``camwall check URL``: open a source, decode for a few seconds, report what happened.

The report is a plain dataclass (the CLI prints it, tests assert on it); it never contains
credentials: the URL is masked and error reasons come from camwall's own messages.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from camwall.errors import SourceError, StreamLostError
from camwall.sources.base import SourceSettings, Transport
from camwall.sources.factory import open_source, source_kind

#: Frames decoded in this first stretch after the first one are left out of the measured
#: rate: they include the packets FFmpeg buffered while probing (0.2 s of an RTSP stream,
#: 0.5 s of an HTTP one), delivered in a burst, which read ~7 % high over 3 s.
MEASURE_AFTER_S = 0.5


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What checking a source found out."""

    url: str  # masked
    ok: bool
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    #: The frame rate the stream declares (SDP, container); None when it declares none
    #: (MJPEG over HTTP), never FFmpeg's guess.
    fps: float | None = None
    #: Frames per second actually decoded during the check (arrival times of the frames).
    measured_fps: float | None = None
    #: Bits per second as the stream declares it, else as measured during the check.
    bitrate: int | None = None
    pix_fmt: str | None = None
    transport: str | None = None
    open_s: float | None = None
    time_to_first_frame_s: float | None = None
    frames: int = 0
    decode_ms_per_frame: float | None = None
    corrupt_packets: int = 0
    decode_errors: int = 0
    #: Exception class name (e.g. "SourceAuthError") and its message, when the check failed.
    error: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The report as a JSON-friendly dict."""
        return asdict(self)

    def summary(self) -> str:
        """A few lines for people."""
        if not self.ok:
            return f"{self.url}: FAILED ({self.error}): {self.reason}"
        rate = f"{self.fps:.3g} fps declared" if self.fps else "frame rate not declared"
        lines = [
            f"{self.url}: OK",
            f"  {self.codec} {self.width}×{self.height} {self.pix_fmt or ''}, {rate}, "
            f"{self.measured_fps or 0:.3g} fps decoded, via {self.transport}",
            f"  opened in {self.open_s or 0:.2f} s, first frame after "
            f"{self.time_to_first_frame_s or 0:.2f} s, {self.frames} frames, "
            f"{self.decode_ms_per_frame or 0:.2f} ms decode per frame",
        ]
        if self.bitrate:
            lines.append(f"  bitrate {self.bitrate / 1e6:.2f} Mbit/s")
        if self.corrupt_packets or self.decode_errors:
            lines.append(
                f"  {self.corrupt_packets} corrupt packets, {self.decode_errors} decode errors"
            )
        if self.reason:
            lines.append(f"  note: {self.reason}")
        return "\n".join(lines)


def check_source(
    url: str,
    *,
    seconds: float = 3.0,
    transport: Transport = "tcp",
    first_frame_timeout_s: float | None = None,
    read_timeout_s: float | None = None,
) -> CheckReport:
    """Open ``url``, decode for ``seconds`` after the first frame, and report.

    The timeouts are a camera's own (None: adaptive, see camwall.sources.liveness), so a
    long-GOP or slow camera checks out the way the wall will capture it.
    """
    settings = SourceSettings(
        url,
        transport=transport,
        first_frame_timeout_s=first_frame_timeout_s,
        read_timeout_s=read_timeout_s,
    )
    masked = settings.display_url
    t0 = time.monotonic()
    try:
        source = open_source(settings)
        masked = source.display_url
        info = source.open()
    except SourceError as exc:
        return CheckReport(masked, ok=False, error=type(exc).__name__, reason=str(exc))
    open_s = time.monotonic() - t0
    frames = 0
    decode_ns = 0
    arrivals: list[float] = []
    first: float | None = None
    end = None
    error: SourceError | None = None
    try:
        while end is None or time.monotonic() < end:
            frame = source.read()
            frames += 1
            decode_ns += frame.decode_ns
            arrivals.append(frame.capture_ns / 1e9)
            if first is None:
                first = time.monotonic()
                end = first + seconds
    except SourceError as exc:
        error = exc
    finally:
        source.close()
    info = source.info or info
    # A file that simply ended after some frames checked out fine.
    file_ended = (
        isinstance(error, StreamLostError)
        and frames > 0
        and source_kind(url) == "file"
        and "end of stream" in str(error)
    )
    ok = error is None or file_ended
    stats = source.stats
    return CheckReport(
        url=masked,
        ok=ok,
        codec=info.codec,
        width=info.width,
        height=info.height,
        fps=info.fps if info.fps_declared else None,
        measured_fps=measured_rate(arrivals),
        bitrate=info.bitrate or _measured_bitrate(stats.bytes, time.monotonic() - t0 - open_s),
        pix_fmt=info.pix_fmt,
        transport=info.transport,
        open_s=open_s,
        time_to_first_frame_s=(first - t0) if first is not None else None,
        frames=frames,
        decode_ms_per_frame=decode_ns / frames / 1e6 if frames else None,
        corrupt_packets=stats.corrupt_packets,
        decode_errors=stats.decode_errors,
        error=None if ok else type(error).__name__,
        reason=str(error) if error is not None else None,
    )


def measured_rate(arrivals: list[float], after_s: float = MEASURE_AFTER_S) -> float | None:
    """Frames per second from frame arrival times (seconds, in order).

    Frames arriving within ``after_s`` of the first are left out when enough remain (the
    probing burst); a short or slow check falls back to every frame. The rate is the inverse
    of the least-squares slope of arrival time over frame number, so one late frame at either
    end (a busy machine) moves it little; for evenly spaced frames it is N−1 intervals over
    the span of N frames.
    """
    if len(arrivals) < 2:
        return None
    start = next((i for i, t in enumerate(arrivals) if t - arrivals[0] >= after_s), None)
    window = arrivals[start:] if start is not None and len(arrivals) - start >= 3 else arrivals
    n = len(window)
    mean_i = (n - 1) / 2
    mean_t = sum(window) / n
    spread = sum((i - mean_i) ** 2 for i in range(n))
    slope = sum((i - mean_i) * (t - mean_t) for i, t in enumerate(window)) / spread
    return 1.0 / slope if slope > 0 else None


def _measured_bitrate(nbytes: int, seconds: float) -> int | None:
    if nbytes <= 0 or seconds <= 0.2:
        return None
    return int(nbytes * 8 / seconds)
