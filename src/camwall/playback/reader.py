"""Decoding one recorded segment: frames in presentation order with their wall-clock times.

:meth:`SegmentReader.seek` finds the frame shown at an instant the way a player must: seek
the demuxer to the keyframe at or before it, then decode forward to the last frame recorded
at or before the instant. Frame times follow :mod:`camwall.record.probe`:
``start + (pts - first_pts) × time_base``.

A segment that cannot be opened raises :class:`SegmentUnreadable`; damage met while decoding
(a file cut short by a crash) simply ends the segment there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
from av.video.frame import VideoFrame

from camwall.record.probe import OPEN_OPTIONS
from camwall.record.records import SegmentRecord

log = logging.getLogger(__name__)

#: Frames within this of an instant count as "at" it (timestamps are rounded to ticks).
EPSILON_S = 1e-4

TimedFrame = tuple[VideoFrame, float]


class SegmentUnreadable(Exception):
    """The segment file is missing or holds no decodable video; ``reason`` is "missing" or
    "corrupt"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SegmentReader:
    """An open segment; not thread-safe. Use :meth:`seek` or :meth:`next` to get frames."""

    def __init__(
        self, segment: SegmentRecord, *, keyframes_only: bool = False, threads: int = 1
    ) -> None:
        """Open ``segment``'s file (SegmentUnreadable if it is gone or not video).

        ``threads`` > 1: frame-threaded decoding (faster seeks, more CPU per frame).
        """
        self.segment = segment
        try:
            self._container: Any = av.open(str(segment.path), options=OPEN_OPTIONS)
        except FileNotFoundError as exc:
            raise SegmentUnreadable("missing", f"{segment.path} is gone: {exc}") from None
        except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise SegmentUnreadable("corrupt", f"cannot open {segment.path}: {exc}") from None
        if not self._container.streams.video:
            self._container.close()
            raise SegmentUnreadable("corrupt", f"{segment.path} holds no video")
        self._stream = self._container.streams.video[0]
        cc = self._stream.codec_context
        if threads > 1:
            cc.thread_type, cc.thread_count = "FRAME", threads
        else:
            cc.thread_type, cc.thread_count = "NONE", 1
        self._tb = Fraction(self._stream.time_base or segment.time_base)
        self._frames: Iterator[TimedFrame] = self._decode()
        self._ahead: TimedFrame | None = None
        self.keyframes_only = keyframes_only
        #: Frames decoded by the last seek (the cost of landing on the exact frame).
        self.decoded_by_seek = 0

    @property
    def keyframes_only(self) -> bool:
        """Decode keyframes only (fast playback): other frames are skipped by the decoder."""
        return bool(self._stream.codec_context.skip_frame == "NONKEY")

    @keyframes_only.setter
    def keyframes_only(self, value: bool) -> None:
        self._stream.codec_context.skip_frame = "NONKEY" if value else "DEFAULT"

    def time_of(self, pts: int) -> float:
        """Wall-clock time of a frame with ``pts``."""
        return self.segment.start + float((pts - self.segment.first_pts) * self._tb)

    def close(self) -> None:
        """Close the file. Idempotent."""
        self._frames = iter(())
        self._ahead = None
        self._container.close()

    def next(self) -> TimedFrame | None:
        """The next frame in presentation order, None at the end of the segment."""
        if self._ahead is not None:
            ahead, self._ahead = self._ahead, None
            return ahead
        return next(self._frames, None)

    def seek(self, t: float) -> TimedFrame | None:
        """The frame shown at instant ``t``: the last one recorded at or before ``t`` (the
        first frame if ``t`` is earlier). :meth:`next` then continues after it. None: the
        segment has no decodable frame."""
        target = self.segment.first_pts + int((t - self.segment.start) / self._tb)
        found = self._seek_and_scan(max(target, self.segment.first_pts), t)
        if found is None or (found[1] > t + EPSILON_S and found[1] > self.segment.start + 1e-3):
            # The demuxer landed after the instant (an index that is coarse or damaged):
            # decode this segment from its beginning instead.
            found = self._seek_and_scan(self.segment.first_pts, t)
        return found

    def _seek_and_scan(self, pts: int, t: float) -> TimedFrame | None:
        self._ahead = None
        try:
            self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
        except (av.FFmpegError, OSError) as exc:
            log.debug("seek in %s failed: %s", self.segment.path, exc)
            return None
        self._frames = self._decode()
        best: TimedFrame | None = None
        self.decoded_by_seek = 0
        for timed in self._frames:
            self.decoded_by_seek += 1
            frame, ft = timed
            if ft > t + EPSILON_S:
                if best is None:
                    return timed  # t lies before the first frame: show the first
                self._ahead = timed
                break
            best = timed
            # An MP4 sample's duration is exactly the step to the next frame: when this frame
            # lasts past ``t`` it is the one shown at ``t``, with no need to decode the next.
            if frame.duration and ft + float(frame.duration * self._tb) > t + EPSILON_S:
                break
        return best

    def _decode(self) -> Iterator[TimedFrame]:
        try:
            for packet in self._container.demux(self._stream):
                for frame in packet.decode():
                    if frame.pts is None:
                        continue
                    yield frame, self.time_of(frame.pts)
        except (av.FFmpegError, OSError) as exc:
            # A segment cut short (crash, full disk) ends at its damage.
            log.debug("%s ends early: %s", self.segment.path, exc)
