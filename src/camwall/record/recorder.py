"""Continuous recording of one camera into fixed-length MP4 segments, by remuxing (no re-encode).

The capture worker owns one :class:`SegmentRecorder` per camera and hands it every demuxed
packet of the camera's video stream::

    rec = SegmentRecorder("frontdoor", "/srv/camwall", 60, container.streams.video[0],
                          on_event=send_to_app)
    for packet in container.demux(stream):
        rec.write(packet)          # never raises for disk or stream trouble; see below
        ...decode and display...
    rec.close()

- A segment starts on a keyframe once the current one has lasted ``segment_seconds``; its
  timestamps start at 0 (the first packet's dts).
- Files are fragmented MP4 (``frag_keyframe+empty_moov+default_base_moof``, plus a fragment
  at least every second) written append-only through an unbuffered file: when the process is
  killed mid-segment, everything up to the last completed fragment is on disk and playable.
- Disk full, an unwritable folder or a muxer error never raise into the capture loop: the
  recorder reports :class:`~camwall.record.events.RecordingFailed` (and logs it once), stops
  recording, and tries again at a keyframe after ``retry_seconds``.

Not thread-safe: call it from the capture thread only.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import av

from camwall.config.model import Camera, Config
from camwall.errors import RecordError, StorageError
from camwall.record.events import RecordEvent, RecordingFailed, SegmentClosed, SegmentOpened
from camwall.record.naming import segment_dir, segment_filename, start_comment
from camwall.record.storage import SegmentFile, ensure_dir, storage_error
from camwall.record.wallclock import WallClock

if TYPE_CHECKING:
    from camwall.record.retention import RetentionService

log = logging.getLogger(__name__)

#: Muxer options: fragmented MP4 that is playable up to the last fragment at any moment.
MP4_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    # Also cut a fragment every second when keyframes are rarer (some cameras send one
    # every 4-10 s), bounding what a crash loses to about one second.
    "frag_duration": "1000000",
    # Hand each finished fragment to the file at once instead of keeping it in a buffer.
    "flush_packets": "1",
}
#: A jump of more than this many seconds (or any step back) in the stream's timestamps
#: ends the segment: the camera restarted its clock or the stream was replaced.
MAX_GAP_S = 10.0
#: A step back in dts smaller than this is nudged forward instead of ending the segment.
MAX_BACKSTEP_S = 1.0
#: Names tried for segments starting in the same second before giving up.
MAX_SAME_SECOND = 100

State = Literal["waiting", "recording", "failed", "closed"]
EventCallback = Callable[[RecordEvent], None]


@dataclass(slots=True)
class RecorderStats:
    """Counters since the recorder was made."""

    segments: int = 0
    packets: int = 0
    bytes: int = 0
    #: Packets not recorded: before the first keyframe, without timestamps, or while failed.
    dropped: int = 0
    errors: int = 0


class _Segment:
    """The segment being written: its container, file and timing."""

    def __init__(
        self, path: Path, file: SegmentFile, container: Any, stream: Any, start: datetime
    ) -> None:
        self.path = path
        self.file = file
        self.container = container
        self.stream = stream
        self.start = start
        self.offset = 0  # dts of the first packet, subtracted from every timestamp
        self.first_pts: int | None = None
        self.max_pts: int | None = None
        self.last_dts: int | None = None
        self.frame_step = 0  # a typical frame duration, for the last frame's length
        self.packets = 0
        #: File size once the header was written; a file no larger holds no video.
        self.header_bytes: int | None = None
        #: File size after the last successful mux: always the end of a complete fragment,
        #: because every mux call flushes (flush_packets) and fragments are written whole.
        self.good_bytes = 0


class SegmentRecorder:
    """Writes one camera's packets into segment files; see the module docstring."""

    def __init__(
        self,
        camera_name: str,
        directory: str | Path,
        segment_seconds: float,
        input_stream: Any,
        *,
        on_event: EventCallback | None = None,
        retention: RetentionService | None = None,
        retry_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Prepare to record; nothing touches the disk until the first keyframe arrives.

        ``input_stream`` is the demuxer's video stream (``av.VideoStream``) whose packets
        will be written; ``clock`` gives the wall-clock time (epoch seconds) a packet
        arrives. A segment's start (its name, and the exact start tag) is its first frame's
        time as :class:`~camwall.record.wallclock.WallClock` estimates it from recent arrivals.
        """
        if not segment_seconds > 0 or not math.isfinite(segment_seconds):
            raise ValueError(f"segment_seconds must be a positive number, got {segment_seconds}")
        if getattr(input_stream, "type", None) != "video":
            raise ValueError("input_stream must be the demuxer's video stream")
        self.camera = camera_name
        self.directory = Path(directory)
        self.segment_seconds = float(segment_seconds)
        self.retry_seconds = retry_seconds
        self.stats = RecorderStats()
        self._on_event = on_event
        self._retention = retention
        self._wall = WallClock(clock)
        self._input = input_stream
        self._time_base = _time_base(input_stream)
        self._segment: _Segment | None = None
        self._state: State = "waiting"
        self._retry_at = 0.0
        self._failures = 0  # consecutive, reset by a segment that closes cleanly
        self._last_failure: tuple[str, int | None] | None = None

    @classmethod
    def for_camera(
        cls, config: Config, camera: Camera, input_stream: Any, **kwargs: Any
    ) -> SegmentRecorder:
        """A recorder for ``camera`` as ``config`` says: its folder and segment length."""
        return cls(
            camera.name,
            config.recording_dir(),
            config.recording.segment_seconds,
            input_stream,
            **kwargs,
        )

    @property
    def state(self) -> State:
        """waiting (for a keyframe), recording, failed (retrying later) or closed."""
        return self._state

    @property
    def current_path(self) -> Path | None:
        """The segment being written, if any."""
        return None if self._segment is None else self._segment.path

    def write(self, packet: Any) -> None:
        """Record one demuxed packet (other streams' packets are ignored). Never raises for
        disk or stream problems: those are reported as events and recording resumes later."""
        if self._state == "closed":
            return
        if packet.stream_index != self._input.index or packet.size == 0:
            return
        dts = packet.dts if packet.dts is not None else packet.pts
        if dts is None:
            self.stats.dropped += 1
            return
        seg = self._segment
        last_dts = None if seg is None else seg.last_dts
        if seg is not None and last_dts is not None:
            step = float((dts - last_dts) * self._time_base)
            if step > MAX_GAP_S or step < -MAX_BACKSTEP_S:
                log.debug("%s: timestamps jumped by %.3f s; new segment", self.camera, step)
                self._finish()
                self._wall.reset()
                seg = None
            elif step <= 0:
                # Some cameras repeat or reorder a timestamp now and then; MP4 needs strictly
                # increasing dts, and dropping the packet would break decoding until the next
                # keyframe, so nudge it by one tick instead.
                dts = last_dts + 1
            elif packet.is_keyframe:
                elapsed = (dts - seg.offset) * self._time_base
                if elapsed >= self.segment_seconds:
                    self._finish()
                    seg = None
        # Every packet refines the stream's wall clock, so a segment's start is the time of
        # its first frame as the least-delayed recent packets tell it, not one arrival.
        wall = self._wall.observe(
            float((dts if packet.pts is None else packet.pts) * self._time_base)
        )
        if seg is None:
            if not packet.is_keyframe or (
                self._state == "failed" and time.monotonic() < self._retry_at
            ):
                self.stats.dropped += 1
                return
            seg = self._open(dts, wall)
            if seg is None:
                self.stats.dropped += 1
                return
        self._mux(seg, packet, dts)

    def switch_stream(self, input_stream: Any) -> None:
        """Use a new input stream (after a reconnect): ends the current segment."""
        if getattr(input_stream, "type", None) != "video":
            raise ValueError("input_stream must be the demuxer's video stream")
        self._finish()
        self._wall.reset()
        self._input = input_stream
        self._time_base = _time_base(input_stream)

    def close(self) -> None:
        """Finish the current segment and stop. Idempotent; never raises for disk trouble."""
        if self._state == "closed":
            return
        self._finish()
        self._state = "closed"

    def __enter__(self) -> SegmentRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- segments --------------------------------------------------------------------------

    def _open(self, dts: int, wall: float) -> _Segment | None:
        start = datetime.fromtimestamp(wall, UTC)
        folder = segment_dir(self.directory, self.camera, start)
        path = folder / segment_filename(self.camera, start)
        try:
            ensure_dir(folder)
            file, path = self._create_file(folder, start)
        except StorageError as exc:
            self._fail(exc, storage=True, path=path)
            return None
        try:
            container = av.open(file, mode="w", format="mp4", options=MP4_OPTIONS)
            # The wall-clock time of the first frame, to the microsecond (the file name has
            # whole seconds): the recordings index and playback line cameras up with it.
            container.metadata["comment"] = start_comment(start)
            container.metadata["creation_time"] = start.isoformat()
            stream = container.add_stream_from_template(self._input)
        except av.FFmpegError as exc:
            file.close()
            path.unlink(missing_ok=True)
            self._fail(RecordError(f"cannot start {path}: {exc}"), storage=False, path=path)
            return None
        seg = _Segment(path, file, container, stream, start)
        seg.offset = dts
        self._segment = seg
        log.debug("%s: recording into %s", self.camera, path)
        self._state = "recording"
        self._emit(SegmentOpened(self.camera, path, start))
        return seg

    def _create_file(self, folder: Path, start: datetime) -> tuple[SegmentFile, Path]:
        for n in range(MAX_SAME_SECOND):
            path = folder / segment_filename(self.camera, start, n)
            try:
                return SegmentFile(path), path
            except FileExistsError:
                continue
            except OSError as exc:
                raise storage_error("create", path, exc) from None
        raise StorageError(f"cannot create a segment in {folder}: {MAX_SAME_SECOND} names taken")

    def _mux(self, seg: _Segment, packet: Any, dts: int) -> None:
        pts = dts if packet.pts is None else max(packet.pts, dts)
        saved = (packet.pts, packet.dts, packet.duration, packet.time_base, packet.stream)
        try:
            # mux() rescales the packet in place; the capture worker still decodes it
            # afterwards, so every field it changes is put back below.
            if not packet.time_base:
                packet.time_base = self._time_base
            packet.dts = dts - seg.offset
            packet.pts = pts - seg.offset
            packet.stream = seg.stream
            seg.container.mux(packet)
        except av.FFmpegError as exc:
            self._fail(
                RecordError(f"cannot write to {seg.path}: {exc}"), storage=False, path=seg.path
            )
            return
        except OSError as exc:
            self._fail(storage_error("write to", seg.path, exc), storage=True, path=seg.path)
            return
        finally:
            packet.pts, packet.dts, packet.duration, packet.time_base = saved[:4]
            if saved[4] is not None:
                packet.stream = saved[4]
        if seg.last_dts is not None and dts > seg.last_dts:
            seg.frame_step = dts - seg.last_dts
        seg.last_dts = dts
        seg.first_pts = pts if seg.first_pts is None else min(seg.first_pts, pts)
        seg.max_pts = pts if seg.max_pts is None else max(seg.max_pts, pts)
        seg.good_bytes = seg.file.bytes_written
        if seg.header_bytes is None:
            seg.header_bytes = seg.good_bytes
        elif self._last_failure is not None and seg.good_bytes > seg.header_bytes:
            # Video reached the disk again: say so once, and log the next failure afresh.
            log.info("%s: recording again, into %s", self.camera, seg.path)
            self._last_failure = None
        seg.packets += 1
        self.stats.packets += 1
        self.stats.bytes += packet.size

    def _finish(self) -> None:
        """Close the current segment cleanly (trailer written) and report it."""
        seg, self._segment = self._segment, None
        if seg is None:
            return
        try:
            seg.container.close()
        except av.FFmpegError as exc:
            _abandon(seg)
            self._fail(
                RecordError(f"cannot finish {seg.path}: {exc}"), storage=False, path=seg.path
            )
            return
        except OSError as exc:
            _abandon(seg)
            self._fail(storage_error("finish", seg.path, exc), storage=True, path=seg.path)
            return
        seg.file.close()
        duration = 0.0
        if seg.first_pts is not None and seg.max_pts is not None:
            duration = float((seg.max_pts - seg.first_pts + seg.frame_step) * self._time_base)
        self._state = "waiting"
        self._failures = 0
        self.stats.segments += 1
        log.debug("%s: finished %s (%.1f s)", self.camera, seg.path, duration)
        self._emit(
            SegmentClosed(
                self.camera, seg.path, seg.start, duration, seg.file.bytes_written, seg.packets
            )
        )
        if self._retention is not None:
            self._retention.trigger()

    def _fail(self, error: RecordError, *, storage: bool, path: Path | None) -> None:
        """Stop recording after ``error``: drop the segment, report, retry later."""
        seg, self._segment = self._segment, None
        if seg is not None:
            _abandon(seg)
        self._failures += 1
        self.stats.errors += 1
        # A stream hiccup gets one immediate retry at the next keyframe; a full disk or
        # repeated failures wait, so a broken setup does not churn out tiny files and logs.
        delay = 0.0 if not storage and self._failures == 1 else self.retry_seconds
        self._retry_at = time.monotonic() + delay
        self._state = "failed"
        message = str(error)
        # Logged once per kind of failure: a full disk retried every 30 s for a weekend
        # must not bury the log. Every failure is still an event.
        kind = (type(error).__name__, getattr(error, "errno", None))
        if kind != self._last_failure:
            log.error("%s: recording stopped: %s; retrying in %.0f s", self.camera, message, delay)
        else:
            log.debug("%s: recording still failing: %s", self.camera, message)
        self._last_failure = kind
        if storage and self._retention is not None:
            self._retention.trigger()  # freeing old segments may be what fixes this
        self._emit(RecordingFailed(self.camera, path, message, storage, delay))

    def _emit(self, event: RecordEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)


def _abandon(seg: _Segment) -> None:
    """Release a segment after an error without raising. The file is cut back to its last
    complete fragment (a write that failed half-way leaves no torn box behind) and kept,
    unless it holds no video at all."""
    try:
        seg.file.truncate(seg.good_bytes)
    except OSError as exc:
        log.debug("cannot cut %s back to its last fragment: %s", seg.path, exc)
    # Closed first, so the container sees a closed file and frees itself without trying
    # to write a trailer after the last good fragment.
    seg.file.close()
    try:
        seg.container.close()
    except (av.FFmpegError, OSError) as exc:
        log.debug("releasing the muxer of %s: %s", seg.path, exc)
    if seg.header_bytes is None or seg.good_bytes <= seg.header_bytes:
        try:
            seg.path.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("cannot remove the empty segment %s: %s", seg.path, exc)


def _time_base(stream: Any) -> Fraction:
    tb = stream.time_base
    if not tb:
        raise ValueError("input_stream has no time base")
    return Fraction(tb)
