"""The playback worker: decodes one camera's recordings into its FrameRing, as commanded.

It runs in a child process started by :func:`camwall.childproc.spawn_child` (:func:`process_main`)
and talks to its owner, :class:`~camwall.playback.Playback`, through pipes: commands in
(:mod:`camwall.playback.messages`), events and log records out, and the helper's stop pipe,
whose closing (or the owner's death) ends it.

Playing is driven by a clock, not by a frame count: timeline instant ``at`` is due at
monotonic time ``anchor``, and frame recorded at ``t`` is shown at
``anchor + (t - at) / speed``. Workers of a group given the same pair stay in step on their
own; a worker that falls behind shows fewer frames instead of drifting. Segments follow one
another without a gap or a repeated frame (the next segment continues where the last one
ended); a real gap, or a missing or corrupt segment, is a :class:`NoRecording` span that the
clock runs through while the view says so.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing.connection as mpc
import os
import sqlite3
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from camwall.capture.spec import fit_size
from camwall.childproc import Child, Outbox, OwnerGone
from camwall.errors import RecordError, RingError
from camwall.frames import FrameRing, PixelFormat
from camwall.playback.messages import (
    NoRecording,
    Pause,
    Play,
    PlaybackEvent,
    PlaybackPosition,
    PlaybackState,
    PlaybackStateChanged,
    Seek,
    Step,
)
from camwall.playback.reader import EPSILON_S, SegmentReader, SegmentUnreadable, TimedFrame
from camwall.record.index import RecordingIndex
from camwall.record.records import SegmentRecord
from camwall.sources.convert import FrameConverter

log = logging.getLogger(__name__)

#: Segments closer than this follow on without a NoRecording span.
JOIN_GAP_S = 1.0
#: A frame this late (wall-clock seconds) is decoded but not shown...
LATE_S = 0.1
#: ...unless nothing was shown for this long: a slow machine still shows a moving picture.
MIN_SHOW_INTERVAL_S = 0.25
#: This far behind, playback jumps to the clock (decoding from the keyframe before it)...
CATCH_UP_S = 1.0
#: ...and if it falls that far behind again this soon, decoding cannot keep up at this speed:
#: keyframes only from then on.
JUMP_WINDOW_S = 5.0
#: From this speed on only keyframes are decoded (what NVR players do at high speed).
KEYFRAMES_ONLY_SPEED = 8.0
#: Segment files kept open (least recently used closed first).
OPEN_READERS = 4
#: Longest single wait, so stop requests and new commands are seen promptly.
MAX_WAIT_S = 0.25


@dataclass(frozen=True, slots=True)
class PlaybackSpec:
    """What a playback worker plays: ``camera``'s recordings under ``root``."""

    camera: str
    root: Path
    #: Publish frames scaled down to fit (width, height), e.g. a grid tile. None: full size.
    max_size: tuple[int, int] | None = None
    #: Seconds between position events while playing.
    position_interval_s: float = 0.25
    keyframes_only_speed: float = KEYFRAMES_ONLY_SPEED
    #: Decoder threads. 2 (frame threads) by default: a seek decodes up to a whole GOP as fast
    #: as it can, ≈ 15 % sooner with two threads when a core is free (docs/benchmarks.md);
    #: 1 costs the least CPU per frame, as capture does.
    decoder_threads: int = 2
    log_level: int = logging.INFO


class _Stop(Exception):
    """The owner asked the worker to stop."""


class PlaybackWorker:
    """Plays one camera's recordings into a ring; see the module docstring."""

    def __init__(
        self,
        spec: PlaybackSpec,
        ring_name: str,
        events: Outbox,
        control: Connection,
        stop: Connection,
        notify: Connection | None = None,
    ) -> None:
        """Prepare; :meth:`run` opens the ring and the index. ``stop`` becomes readable when
        the owner asks the worker to stop (or dies)."""
        self.spec = spec
        self._ring_name = ring_name
        self._events = events
        self._control = control
        self._stop = stop
        self._notify_fd = notify.fileno() if notify is not None else -1
        self._terminated = False
        self._ring: FrameRing | None = None
        self._index: RecordingIndex | None = None
        self._converter = FrameConverter()
        self._reader: SegmentReader | None = None  # the segment being decoded
        self._readers: collections.OrderedDict[Path, SegmentReader] = collections.OrderedDict()
        self._state = PlaybackState.STARTING
        self._pos: float | None = None  # the instant shown (frame time, or the seek target)
        self._shown: float | None = None  # time of the frame in the ring
        self._playing = False
        self._speed = 1.0
        self._at = 0.0
        self._anchor_ns = 0
        self._dropped = 0
        self._keyframes_only = False  # while playing: decode keyframes only
        self._last_show = 0.0
        self._last_jump = -JUMP_WINDOW_S
        self._next_report = 0.0
        self._wait_until: float | None = None  # playing through a span without recording
        self._lookahead: TimedFrame | None = None  # decoded, due next while playing

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve commands until stopped; always ends with a STOPPED state event."""
        try:
            self._ring = FrameRing.attach(self._ring_name)
            self._index = RecordingIndex.open_readonly(self.spec.root)
        except (RingError, RecordError) as exc:
            self._set_state(PlaybackState.FAILED, str(exc))
            self._close()
            return
        self._set_state(PlaybackState.PAUSED, "ready")
        try:
            while True:
                if self._playing:
                    self._play_once()
                else:
                    self._wait(None)
        except _Stop:
            pass
        finally:
            self._close()

    def terminate(self) -> None:
        """Signal-handler safe: make the loop stop at its next wait."""
        self._terminated = True

    def _close(self) -> None:
        self._reader = None
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
        if self._index is not None:
            self._index.close()
        if self._ring is not None:
            self._ring.close()
        self._set_state(PlaybackState.STOPPED, "stopped")

    def _wait(self, until: float | None) -> None:
        """Handle commands until monotonic time ``until`` (None: until one arrives)."""
        while True:
            now = time.monotonic()
            if until is not None and now >= until:
                return
            if self._terminated:
                raise _Stop
            timeout = MAX_WAIT_S if until is None else min(MAX_WAIT_S, until - now)
            ready = mpc.wait([self._control, self._stop], timeout)
            if self._stop in ready:
                raise _Stop
            if self._control in ready:
                try:
                    command = self._control.recv()
                except (EOFError, OSError):
                    raise _Stop from None
                self._handle(command)
                return

    def _handle(self, command: object) -> None:
        if isinstance(command, Seek):
            self._stop_playing()
            self._seek(command.t)
        elif isinstance(command, Play):
            self._start_playing(command)
        elif isinstance(command, Pause):
            skipped = self._stop_playing()
            at = command.at if command.at is not None else self._shown if skipped else None
            if at is not None:
                shown = self._shown
                if skipped or shown is None or self._reader is None or not 0 <= at - shown < 2.0:
                    self._seek(at)  # decode from a keyframe to the frame of ``at``
                else:
                    self._advance_to(at)  # a few frames on: keep decoding
            self._set_state(self._still_state(), "paused")
        elif isinstance(command, Step):
            if self._stop_playing() and self._shown is not None:
                self._seek(self._shown)  # the decoder skipped frames: back in step first
            self._step(command.frames)
        else:
            log.warning("%s: unknown playback command %r ignored", self.spec.camera, command)
            return
        self._report(command.id)

    def _stop_playing(self) -> bool:
        """Stop playing; True if the decoder was skipping non-keyframes (so its state no
        longer matches the frame shown and it must seek before decoding on)."""
        self._playing = False
        self._wait_until = None
        skipped = self._reader is not None and self._reader.keyframes_only
        self._keyframes_only = False
        if self._reader is not None:
            self._reader.keyframes_only = False
        return skipped

    # -- commands ------------------------------------------------------------------------------

    def _seek(self, t: float) -> None:
        self._wait_until = None
        self._pos = t
        segment = self._segment_at(t)
        if segment is None:
            self._no_recording_at(t)
            return
        reader = self._open(segment)
        if reader is None:
            return
        found = reader.seek(t)
        if found is None:
            self._unreadable(segment, "corrupt", "no decodable frame")
            return
        self._show(found)
        self._set_state(self._still_state(), "")

    def _step(self, frames: int) -> None:
        if frames > 0:
            for _ in range(frames):
                timed = self._next_frame(stop_at_gap=False)
                if timed is None:
                    break
                self._show(timed)
        elif frames < 0 and self._shown is not None:
            for _ in range(-frames):
                if self._shown is None or not self._step_back():
                    break
        self._set_state(self._still_state(), "")

    def _step_back(self) -> bool:
        """Show the frame before the one shown, skipping segments that cannot be played."""
        shown = self._shown
        assert shown is not None
        t = shown - EPSILON_S * 2
        while True:
            segment = self._segment_at(t) or self._query("segment_before", t)
            if segment is None:
                return False
            reader = self._open(segment)
            found = None if reader is None else reader.seek(min(t, segment.end - EPSILON_S * 2))
            if found is not None and found[1] < shown:
                self._show(found)
                return True
            t = segment.start - EPSILON_S * 2  # dead (or nothing earlier in it): the one before

    def _start_playing(self, command: Play) -> None:
        self._speed = command.speed
        if command.at is None and self._pos is None:
            # Nothing shown yet: start at the camera's first recorded frame.
            first = self._query("segment_after", -1.0)
            if first is not None:
                self._seek(first.start)
        at = command.at if command.at is not None else (self._pos if self._pos is not None else 0)
        keyframes_only = self._speed >= self.spec.keyframes_only_speed
        was_keyframes_only = self._reader is not None and self._reader.keyframes_only
        if (command.at is not None and (self._pos is None or abs(at - self._pos) > 1e-3)) or (
            was_keyframes_only and not keyframes_only
        ):
            # Elsewhere, or leaving keyframes-only decoding mid-GOP: decode from a keyframe.
            self._seek(at)
        self._at = at
        self._anchor_ns = (
            command.anchor_ns if command.anchor_ns is not None else time.monotonic_ns()
        )
        self._playing = True
        self._dropped = 0
        self._keyframes_only = keyframes_only
        if self._reader is not None:
            self._reader.keyframes_only = keyframes_only
        if self._state is not PlaybackState.NO_RECORDING:
            self._set_state(PlaybackState.PLAYING, f"{self._speed:g}×")

    def _advance_to(self, t: float) -> None:
        """Show the last frame at or before ``t``, decoding forward from the one shown."""
        while True:
            timed = self._peek()
            if timed is None or timed[1] > t + EPSILON_S:
                return
            self._take()
            self._show(timed)

    # -- playing -------------------------------------------------------------------------------

    def _timeline_now(self) -> float:
        return self._at + (time.monotonic_ns() - self._anchor_ns) / 1e9 * self._speed

    def _due(self, t: float) -> float:
        """Monotonic seconds at which instant ``t`` is due."""
        return (self._anchor_ns / 1e9) + (t - self._at) / self._speed

    def _play_once(self) -> None:
        if self._wait_until is not None:
            # Inside a span without recording: let the clock run to its end.
            self._pos = min(self._timeline_now(), self._wait_until)
            if self._pos < self._wait_until:
                self._wait(min(self._due(self._wait_until), time.monotonic() + MAX_WAIT_S))
                self._report_while_playing()
                return
            target, self._wait_until = self._wait_until, None
            self._seek(target)
            if self._state is not PlaybackState.NO_RECORDING:
                self._set_state(PlaybackState.PLAYING, f"{self._speed:g}×")
            return
        timed = self._peek()
        if timed is None:
            if self._playing and self._wait_until is None:
                self._playing = False
                self._set_state(PlaybackState.ENDED, "no more recordings")
            return
        due = self._due(timed[1])
        if time.monotonic() < due:
            self._wait(due)
            if not self._playing or self._peek() is not timed:
                return  # a command changed what comes next
            if time.monotonic() < due:
                return  # woken early by a command that changed nothing here
        self._take()
        now = time.monotonic()
        if now - due > LATE_S and now - self._last_show < MIN_SHOW_INTERVAL_S:
            self._dropped += 1
            self._pos = timed[1]
        else:
            self._show(timed)
        if now - due > CATCH_UP_S and not self._keyframes_only and self._reader is not None:
            if now - self._last_jump > JUMP_WINDOW_S:
                # Fell behind once (a busy moment, a slow start): catch up with the clock.
                self._last_jump = now
                self._seek(self._timeline_now())
            else:
                log.info(
                    "%s: decoding cannot keep up at %g×; showing keyframes only",
                    self.spec.camera,
                    self._speed,
                )
                self._keyframes_only = self._reader.keyframes_only = True
        self._report_while_playing()

    def _peek(self) -> TimedFrame | None:
        if self._lookahead is None:
            self._lookahead = self._next_frame(stop_at_gap=True)
        return self._lookahead

    def _take(self) -> None:
        self._lookahead = None

    def _next_frame(self, *, stop_at_gap: bool) -> TimedFrame | None:
        """The frame after the one shown, crossing into the next segment; None at a gap
        (``stop_at_gap``: the clock then runs through it) or after the last recording."""
        ahead = self._lookahead
        if ahead is not None:
            self._lookahead = None
            return ahead
        if self._reader is not None:
            timed = self._reader.next()
            if timed is not None:
                return timed
            cursor, end = self._reader.segment.start, self._reader.segment.end
        elif self._pos is not None:
            cursor = end = self._pos
        else:
            return None
        while True:
            following = self._query("segment_after", cursor)
            if following is None:
                return None
            if following.start > end + JOIN_GAP_S:
                self._emit(NoRecording(self.spec.camera, end, following.start, "gap"))
                if stop_at_gap:
                    self._close_reader()
                    self._pos = end
                    self._wait_until = following.start
                    self._set_state(PlaybackState.NO_RECORDING, "gap in the recording")
                    return None
            reader = self._open(following)
            if reader is not None:
                # Continue at the new segment's first frame: nothing repeated, nothing
                # skipped. (A seek before its start: the reader may be a reused one, left
                # mid-file.)
                first = reader.seek(following.start - 1.0)
                if first is not None:
                    return first
                self._unreadable(following, "corrupt", "no decodable frame")
            if stop_at_gap:
                # Playing: the clock runs through the dead segment's span.
                self._wait_until = following.end
                return None
            cursor, end = following.start, following.end  # stepping: on to the next one

    # -- segments ------------------------------------------------------------------------------

    def _query(self, kind: str, t: float) -> SegmentRecord | None:
        """``segment_at``/``segment_after``/``segment_before`` of the index, at ``t``."""
        assert self._index is not None
        try:
            return getattr(self._index, kind)(self.spec.camera, t)  # type: ignore[no-any-return]
        except sqlite3.Error as exc:
            log.warning("%s: the recordings index cannot be read: %s", self.spec.camera, exc)
            return None

    def _segment_at(self, t: float) -> SegmentRecord | None:
        return self._query("segment_at", t)

    def _open(self, segment: SegmentRecord) -> SegmentReader | None:
        """Make ``segment`` the one decoded (reusing an open reader: scrubbing back and forth
        between neighbouring segments does not reopen files)."""
        self._lookahead = None
        reader = self._readers.pop(segment.path, None)
        if reader is not None and reader.segment != segment:
            reader.close()  # the file changed since (it grew, or was replaced)
            reader = None
        if reader is None:
            try:
                reader = SegmentReader(segment, threads=self.spec.decoder_threads)
            except SegmentUnreadable as exc:
                self._unreadable(segment, exc.reason, str(exc))
                return None
        self._readers[segment.path] = reader
        while len(self._readers) > OPEN_READERS:
            self._readers.popitem(last=False)[1].close()
        reader.keyframes_only = self._playing and self._keyframes_only
        self._reader = reader
        return reader

    def _close_reader(self) -> None:
        """Stop decoding the current segment (its reader stays open for a while)."""
        self._lookahead = None
        self._reader = None

    def _unreadable(self, segment: SegmentRecord, reason: str, message: str) -> None:
        log.warning("%s: cannot play %s: %s", self.spec.camera, segment.path.name, message)
        self._close_reader()
        self._emit(NoRecording(self.spec.camera, segment.start, segment.end, reason))
        self._set_state(PlaybackState.NO_RECORDING, f"segment {reason}")

    def _no_recording_at(self, t: float) -> None:
        self._close_reader()
        before = self._query("segment_before", t)
        after = self._query("segment_after", t)
        reason = "gap" if before and after else "before" if after else "after"
        self._emit(
            NoRecording(
                self.spec.camera,
                None if before is None else before.end,
                None if after is None else after.start,
                reason,
            )
        )
        if self._playing and after is not None:
            self._wait_until = after.start
        self._set_state(PlaybackState.NO_RECORDING, "no recording at this time")

    # -- output --------------------------------------------------------------------------------

    def _show(self, timed: TimedFrame) -> None:
        frame, t = timed
        ring = self._ring
        assert ring is not None
        width, height = fit_size(frame.width, frame.height, self.spec.max_size)
        if width * height * 4 > ring.capacity:
            scale = (ring.capacity / (width * height * 4)) ** 0.5
            width, height = (
                max(2, int(width * scale) // 2 * 2),
                max(2, int(height * scale) // 2 * 2),
            )
        with ring.write(width, height, PixelFormat.BGRA, pts=round(t * 1e9)) as dst:
            self._converter.convert(frame, dst)
        self._shown = self._pos = t
        self._last_show = time.monotonic()
        if self._notify_fd >= 0:
            try:
                os.write(self._notify_fd, b"\x01")
            except BlockingIOError:
                pass  # unread news: the reader will see this frame too
            except OSError:
                self._notify_fd = -1

    def _still_state(self) -> PlaybackState:
        if self._reader is None:
            return PlaybackState.NO_RECORDING
        return PlaybackState.PLAYING if self._playing else PlaybackState.PAUSED

    def _report(self, done: int) -> None:
        ring = self._ring
        seq = ring.latest_seq if ring is not None else 0
        self._emit(
            PlaybackPosition(self.spec.camera, self._pos, seq, self._state, done, self._dropped)
        )

    def _report_while_playing(self) -> None:
        now = time.monotonic()
        if now >= self._next_report:
            self._next_report = now + self.spec.position_interval_s
            self._report(0)

    def _set_state(self, state: PlaybackState, reason: str) -> None:
        if state is self._state and state is not PlaybackState.NO_RECORDING:
            return
        self._state = state
        self._emit(PlaybackStateChanged(self.spec.camera, state, self._pos, reason))

    def _emit(self, event: PlaybackEvent) -> None:
        try:
            self._events.send(event)
        except (OwnerGone, ValueError):
            self._terminated = True  # the owner is gone: stop


def process_main(
    spec: PlaybackSpec,
    ring_name: str,
    events: Connection,
    control: Connection,
    notify: Connection | None = None,
    *,
    stop: Connection,
) -> None:
    """Entry point of a playback worker process (started by :class:`Playback` through
    :func:`camwall.childproc.spawn_child`: signals, logging to the owner, exit)."""
    child = Child.bootstrap(
        events, stop, label=f"{spec.camera}: playback worker", log_level=spec.log_level
    )
    worker = PlaybackWorker(spec, ring_name, child.outbox, control, child.stop_pipe, notify)
    child.run(worker.run, on_stop=worker.terminate)
