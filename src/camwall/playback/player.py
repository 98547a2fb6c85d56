"""Playback: the owner of one camera's playback worker and of the FrameRing it fills.

::

    with Playback(recording_dir, "frontdoor", on_event=print) as pb:
        view.set_ring(pb.ring_name)           # the same VideoView as live
        pb.wait(pb.seek(t))                   # the frame recorded at t is in the ring
        pb.play(4.0)                          # 4× from there
        pb.step(-1)                           # pause, one frame back

It creates the ring (and unlinks it in :meth:`close`), starts the worker process with the
shared child-process helper (:mod:`camwall.childproc`: ``spawn``, a stop pipe, terminate
then kill past a deadline, log records forwarded), reads the worker's events on a thread it
owns and hands them to ``on_event`` on that thread. Commands
never block; :meth:`wait` waits for the position report of one command. The worker
publishes every frame with its recorded wall-clock time in the slot's ``pts`` (nanoseconds
since the epoch, :func:`camwall.playback.messages.frame_time`).

A worker that dies is not restarted (a face can start a new Playback); its owner reports
FAILED and every pending :meth:`wait` returns.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from camwall.capture.spec import DEFAULT_MAX_FRAME
from camwall.childproc import CTX, ChildProcess, LogRecordMessage, log_forwarded, spawn_child
from camwall.config.names import safe_name
from camwall.errors import RecordError
from camwall.frames import FrameRing
from camwall.playback.messages import (
    Command,
    Pause,
    Play,
    PlaybackEvent,
    PlaybackPosition,
    PlaybackState,
    PlaybackStateChanged,
    Seek,
    Step,
    clamp_speed,
)
from camwall.playback.worker import PlaybackSpec, process_main
from camwall.record.index import INDEX_NAME, RecordingIndex

log = logging.getLogger(__name__)

EventCallback = Callable[[PlaybackEvent], None]
#: Seconds a worker gets to stop on its own before it is terminated, then killed.
STOP_DEADLINE_S = 3.0


class Playback:
    """Plays one camera's recordings into a FrameRing it owns; see the module docstring."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        camera: str,
        *,
        on_event: EventCallback | None = None,
        max_size: tuple[int, int] | None = None,
        slots: int = 3,
        ring_prefix: str = "camwall",
        notify: Connection | None = None,
        log_level: int = logging.INFO,
        decoder_threads: int = 2,
    ) -> None:
        """Configure; :meth:`start` (or ``with``) creates the ring and starts the worker.

        ``notify``: the write end of a non-blocking frame-notification pipe (the wall's), one
        byte per published frame, as capture workers do. ``decoder_threads``: see
        :class:`~camwall.playback.worker.PlaybackSpec`.
        """
        self.root = Path(root)
        self.camera = safe_name(camera)
        self._spec = PlaybackSpec(
            self.camera,
            self.root,
            max_size=max_size,
            log_level=log_level,
            decoder_threads=decoder_threads,
        )
        self._on_event = on_event
        self._slots = slots
        self._prefix = ring_prefix
        self._notify = notify
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()  # commands may come from any thread
        self._cond = threading.Condition()
        self._position: PlaybackPosition | None = None
        self._done: dict[int, PlaybackPosition] = {}
        self._state = PlaybackState.STARTING
        self._ring: FrameRing | None = None
        self._child: ChildProcess | None = None
        self._control: Connection | None = None
        self._reader: threading.Thread | None = None

    # -- lifetime ------------------------------------------------------------------------------

    def start(self) -> Playback:
        """Create the ring and spawn the worker (the index must exist: RecordingIndex.open)."""
        if self._child is not None:
            raise RuntimeError("this Playback is already started")
        if not (self.root / INDEX_NAME).is_file():
            raise RecordError(
                f"{self.root} has no recordings index; open it once with "
                "RecordingIndex.open(folder) (which builds it from the segment files)"
            )
        self._ring = FrameRing.create(
            FrameRing.capacity_for(*self._frame_size()), slots=self._slots, prefix=self._prefix
        )
        events_r, events_w = CTX.Pipe(duplex=False)
        control_r, control_w = CTX.Pipe(duplex=False)
        try:
            child = spawn_child(
                process_main,
                (self._spec, self._ring.name, events_w, control_r, self._notify),
                name=f"camwall-playback-{self.camera}",
                label=f"{self.camera}: playback worker",
                child_ends=(events_w, control_r),
            )
        except (OSError, RuntimeError, TypeError, ValueError) as exc:
            events_r.close()
            control_w.close()
            self._release_ring()
            raise RecordError(f"cannot start a playback process for {self.camera}: {exc}") from exc
        self._child, self._control = child, control_w
        self._reader = threading.Thread(
            target=self._read_events, args=(events_r,), name=f"camwall-playback-{self.camera}"
        )
        self._reader.start()
        return self

    def stop(self, timeout: float = STOP_DEADLINE_S) -> None:
        """Ask the worker to stop; never blocks (then :meth:`close`). Stopping many
        playbacks: call stop() on all first, so they wind down together."""
        if self._child is not None:
            self._child.stop(timeout)

    def close(self, timeout: float = STOP_DEADLINE_S) -> None:
        """Stop the worker (terminate, then kill, past ``timeout``), unlink the ring.
        Idempotent; blocks until the worker has exited (typically well under 0.1 s; at most
        ``timeout`` plus a second): call it off the UI thread."""
        child, self._child = self._child, None
        if child is not None:
            child.stop(timeout)  # EOF on the worker's stop pipe
            while child.is_alive():
                child.join(0.05)
                child.enforce_stop()
            how = child.close()
            log.debug("%s: playback worker %s", self.camera, how)
        if self._control is not None:
            self._control.close()
            self._control = None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.join(timeout)
        self._release_ring()
        with self._cond:
            self._state = PlaybackState.STOPPED
            self._cond.notify_all()

    def __enter__(self) -> Playback:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands (never block) ----------------------------------------------------------------

    def seek(self, t: float) -> int:
        """Show the frame recorded at ``t`` (epoch s) and pause; returns the command id."""
        return self._send(lambda i: Seek(i, float(t)))

    def play(
        self, speed: float = 1.0, *, at: float | None = None, anchor_ns: int | None = None
    ) -> int:
        """Play at ``speed`` (0.25-16); ``at``/``anchor_ns``: see :class:`~.messages.Play`."""
        speed = clamp_speed(speed)
        return self._send(lambda i: Play(i, speed, at, anchor_ns))

    def pause(self, at: float | None = None) -> int:
        """Pause (at instant ``at`` if given); returns the command id."""
        return self._send(lambda i: Pause(i, at))

    def step(self, frames: int = 1) -> int:
        """Pause and move ``frames`` frames forward (negative: back); returns the command id."""
        return self._send(lambda i: Step(i, int(frames)))

    def wait(self, command_id: int, timeout: float = 10.0) -> PlaybackPosition | None:
        """The position once command ``command_id`` took effect; None after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while command_id not in self._done:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._state in (PlaybackState.STOPPED, PlaybackState.FAILED):
                    return None
                self._cond.wait(remaining)
            return self._done.pop(command_id)

    # -- what it shows -------------------------------------------------------------------------

    @property
    def ring_name(self) -> str:
        """The ring the worker publishes into (attach a view to it)."""
        if self._ring is None:
            raise RuntimeError("this Playback is not started")
        return self._ring.name

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        return None if self._child is None else self._child.pid

    @property
    def position(self) -> PlaybackPosition | None:
        """The last position the worker reported."""
        with self._cond:
            return self._position

    @property
    def state(self) -> PlaybackState:
        """The worker's last reported state."""
        with self._cond:
            return self._state

    # -- internals -----------------------------------------------------------------------------

    def _frame_size(self) -> tuple[int, int]:
        """The largest frame this camera recorded (a 4K ring if the index cannot say)."""
        try:
            with RecordingIndex.open_readonly(self.root) as index:
                sizes = [
                    (s.width, s.height) for s in index.segments(self.camera) if s.width * s.height
                ]
        except RecordError:
            return DEFAULT_MAX_FRAME
        return max(sizes, key=lambda wh: wh[0] * wh[1], default=DEFAULT_MAX_FRAME)

    def _send(self, make: Callable[[int], Command]) -> int:
        with self._send_lock:
            command = make(next(self._ids))
            if self._control is None:
                raise RuntimeError("this Playback is not started (or already closed)")
            try:
                self._control.send(command)
            except OSError as exc:
                log.warning("%s: playback worker is gone: %s", self.camera, exc)
            return command.id

    def _read_events(self, events: Connection) -> None:
        try:
            while True:
                try:
                    event = events.recv()
                except (EOFError, OSError):
                    break
                self._dispatch(event)
        finally:
            events.close()
        if self.state not in (PlaybackState.STOPPED, PlaybackState.FAILED):
            # The worker is gone without saying goodbye (crashed, killed): waiters must not
            # wait for answers that will never come, and the face should say so.
            log.warning("%s: the playback worker exited unexpectedly", self.camera)
            self._dispatch(
                PlaybackStateChanged(
                    self.camera, PlaybackState.FAILED, None, "playback worker exited unexpectedly"
                )
            )

    def _dispatch(self, event: PlaybackEvent | LogRecordMessage) -> None:
        if isinstance(event, LogRecordMessage):
            log_forwarded(event, camera=self.camera)
            return
        with self._cond:
            if isinstance(event, PlaybackPosition):
                self._position = event
                if event.done:
                    self._done[event.done] = event
            elif isinstance(event, PlaybackStateChanged):
                self._state = event.state
            self._cond.notify_all()
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # the callback is the caller's code; it must not end playback
                log.exception("playback event callback failed on %s", type(event).__name__)

    def _release_ring(self) -> None:
        ring, self._ring = self._ring, None
        if ring is not None:
            ring.unlink()
            ring.close()
