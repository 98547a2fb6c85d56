"""ReviewController: the wall's cameras at one recorded instant, through a PlaybackGroup.

It owns the :class:`~camwall.playback.PlaybackGroup` of a review and one worker thread
("camwall-review") that does everything that may block: starting and closing the playback
processes, sending commands, asking the recordings index. The UI thread only posts work and
gets answers back as queued signals, so it never waits on a process, a pipe or SQLite.

Entering review hands every tile its camera's playback ring (``tile.set_ring``) and a
"REVIEW" badge; the wall's live events leave those tiles alone
(``WallCameras.reviewing``). Spans without recording put the tile's "No recording"
placeholder up. Back to live gives every tile its live ring and state again, then closes the
playback workers on the worker thread.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from qtpy.QtCore import QObject

from camwall.childproc import CTX
from camwall.config.names import safe_name
from camwall.errors import CamwallError, RecordError, RingError
from camwall.playback import (
    NoRecording,
    PlaybackEvent,
    PlaybackGroup,
    PlaybackPosition,
    PlaybackState,
    PlaybackStateChanged,
)
from camwall.record.index import RecordingIndex
from camwall.record.records import RecordedEvent
from camwall.runtime import Runtime
from camwall.ui.qt_compat import Signal, connect_queued
from camwall.ui.review.recorded_boxes import RecordedBoxes
from camwall.ui.view.frame_clock import FrameClock
from camwall.ui.view.view_painting import Placeholder
from camwall.ui.wall.tile import CameraTile
from camwall.ui.wall.wall_cameras import WallCameras

log = logging.getLogger(__name__)

#: The corner badge of a tile showing recordings.
REVIEW_BADGE = ("REVIEW", (255, 210, 60))
#: Playback frames are scaled to fit this (a wall tile never needs more).
MAX_FRAME = (1920, 1080)
_REASONS = {
    "gap": "nothing recorded here",
    "before": "before the first recording",
    "after": "after the last recording",
    "missing": "the segment file is missing",
    "corrupt": "the segment file cannot be read",
}

TimelineData = tuple[dict[str, list[tuple[float, float]]], list[RecordedEvent]]


class ReviewController(QObject):
    """Review of the wall's cameras; see the module docstring."""

    #: Review started (True) or ended (False).
    active_changed = Signal(bool)
    #: Something for the viewer's status line (never a dialog).
    message = Signal(str)
    #: New data for the timeline: (spans per camera, events).
    data_ready = Signal(object)
    #: The review's cursor was put somewhere by the review itself (start, a jump): epoch s.
    cursor_set = Signal(float)
    #: A playback event, on the UI thread.
    _event = Signal(object)
    #: (what, payload) from the worker thread, on the UI thread.
    _done = Signal(object, object)

    def __init__(self, runtime: Runtime, cameras: WallCameras, parent: QObject | None = None):
        """Nothing runs until :meth:`enter`."""
        super().__init__(parent)
        self.runtime = runtime
        self.wall_cameras = cameras
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._group: PlaybackGroup | None = None
        self._index: RecordingIndex | None = None
        self._names: list[str] = []  # the wall's names of the cameras in review
        self._saved_badges: dict[str, str] = {}
        self._boxes: dict[str, RecordedBoxes] = {}
        self._pending_seek: float | None = None
        self._seek_lock = threading.Lock()
        self._notify: tuple[Connection, Connection] | None = None
        self._active = False
        self._watching = False
        self._closing = False
        self.speed = 1.0
        #: What each tile shows: a PlaybackState per camera (wall name).
        self.states: dict[str, PlaybackState] = {}
        #: Other parts' result handlers (see :meth:`submit`): what → callback(result).
        self.on_result: dict[str, Callable[[Any], None]] = {}
        self._started_group: PlaybackGroup | None = None  # set on the worker thread
        connect_queued(self._event, self._on_event)
        connect_queued(self._done, self._on_done)

    # -- properties ------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """True from :meth:`enter` until :meth:`leave`."""
        return self._active

    @property
    def ready(self) -> bool:
        """True once the playback workers run and the tiles show their rings."""
        return self._group is not None

    @property
    def group(self) -> PlaybackGroup | None:
        """The playback group while in review."""
        return self._group

    @property
    def cameras(self) -> list[str]:
        """The wall's names of the cameras in review."""
        return list(self._names)

    @property
    def position(self) -> float | None:
        """The review cursor (epoch s), advancing while playing."""
        return None if self._group is None else self._group.position

    @property
    def playing(self) -> bool:
        """True while playing."""
        return self._group is not None and self._group.playing

    @property
    def index(self) -> RecordingIndex | None:
        """The recordings index being reviewed (the runtime's)."""
        return self._index

    # -- entering and leaving --------------------------------------------------------------------

    def enter(self, at: float | None = None) -> None:
        """Start reviewing the wall's cameras; the tiles show the instant ``at`` (None: the
        end of the recordings) once the workers run (:attr:`active_changed`)."""
        if self._active or self._closing:
            return
        names = self.wall_cameras.names()
        if not names:
            self.message.emit("No cameras on the wall to review.")
            return
        self._active = True
        self._watch(True)
        self._names = names
        self.states = {}
        self.wall_cameras.reviewing.update(names)
        for name in names:
            tile = self.wall_cameras.tile(name)
            self._saved_badges[name] = tile.decode_badge
            tile.set_decode_badge("")
            tile.close_ring()
            tile.set_state(None)
            tile.set_badge_override(REVIEW_BADGE)
            # Live detections do not belong on recordings; the recorded ones do.
            boxes = RecordedBoxes(self, name, tile)
            self._boxes[name] = boxes
            tile.set_overlays_hidden(True, instead=[boxes])
            tile.set_forced_placeholder(Placeholder.WAITING, ["Opening recordings…"])
        if self._notify is None:
            r, w = CTX.Pipe(duplex=False)
            os.set_blocking(r.fileno(), False)
            os.set_blocking(w.fileno(), False)
            self._notify = (r, w)
            FrameClock.shared().watch(r.fileno(), self._drain)
        notify_w = self._notify[1]
        future = self.runtime.recording_index()
        self.message.emit("Opening the recordings…")
        self._submit("started", lambda: self._start_group(future, names, notify_w, at))

    def leave(self) -> None:
        """Back to live: every tile gets its live ring and state; the playback workers are
        closed on the worker thread."""
        if not self._active:
            return
        self._active = False
        self._watch(False)
        group, self._group = self._group, None
        for name in self._names:
            self.wall_cameras.reviewing.discard(name)
            if name not in self.wall_cameras.names():
                continue
            self._show_live(self.wall_cameras.tile(name), name)
        self._names = []
        if group is not None:
            self._submit("closed", group.close)
        self.active_changed.emit(False)

    def close(self, timeout: float = 10.0) -> None:
        """Stop for good: close the playback workers, stop the thread (blocks: call it off
        the UI thread, after :meth:`begin_close`)."""
        self._closing = True
        group, self._group = self._group, None
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        for g in (group, self._started_group):
            if g is not None:
                g.close()  # idempotent
        self._started_group = None
        if self._notify is not None:
            for conn in self._notify:
                conn.close()
            self._notify = None

    def begin_close(self) -> None:
        """UI thread, the window closing: let go of the playback rings, stop listening."""
        self._closing = True
        for name in self._names:
            if name in self.wall_cameras.names():
                self.wall_cameras.tile(name).close_ring()
        if self._notify is not None:
            FrameClock.shared().unwatch(self._notify[0].fileno())

    # -- commands (UI thread; never block) -------------------------------------------------------

    def seek(self, t: float) -> None:
        """Show every camera at instant ``t`` (pauses); seeks while one is on its way are
        merged into the newest."""
        if self._group is None:
            return
        with self._seek_lock:
            queued = self._pending_seek is not None
            self._pending_seek = t
        if not queued:
            self._submit("seeked", self._seek_latest)

    def seek_to(self, t: float) -> None:
        """Seek, and put the timeline's cursor there too (an event clicked, a jump)."""
        self.seek(t)
        self.cursor_set.emit(t)

    def play(self, speed: float | None = None) -> None:
        """Play from the cursor at ``speed`` (None: the speed last chosen)."""
        if speed is not None:
            self.speed = speed
        group, speed = self._group, self.speed
        if group is not None:
            self._submit("played", lambda: group.play(speed))

    def pause(self) -> None:
        """Pause every camera at one instant."""
        group = self._group
        if group is not None:
            self._submit("paused", group.pause)

    def set_speed(self, speed: float) -> None:
        """Change the speed (plays on at it if playing)."""
        self.speed = speed
        if self.playing:
            self.play(speed)

    def step(self, frames: int) -> None:
        """Pause and move ``frames`` frames."""
        group = self._group
        if group is not None:
            self._submit("stepped", lambda: group.step(frames))

    def jump_event(self, forward: bool) -> None:
        """Seek to the next (previous) event of the cameras in review."""
        index, at = self._index, self.position
        if index is None or at is None:
            return
        cameras = [safe_name(n) for n in self._names]

        def find() -> float | None:
            if forward:
                after = [e for e in index.events(None, at + 0.001) if e.start > at + 0.001]
                events = [e for e in after if e.camera in cameras]
                return events[0].start if events else None
            before = [e for e in index.events(None, None, at - 0.001) if e.camera in cameras]
            return before[-1].start if before else None

        self._submit("jump", find)

    def request_data(self, start: float, end: float) -> None:
        """Ask the index for the timeline's data of [start, end) (answer: data_ready)."""
        index = self._index
        if index is None:
            return
        names = list(self._names)

        def fetch() -> TimelineData:
            spans = {name: index.spans(name, start, end) for name in names}
            cams = {safe_name(n): n for n in names}
            events = [
                _renamed(e, cams[e.camera])
                for e in index.events(None, start, end)
                if e.camera in cams
            ]
            return spans, events

        self._submit("data", fetch)

    def submit(self, what: str, job: Callable[[], Any]) -> None:
        """Run ``job`` on the review's worker thread; its result comes back as (what, result)
        to ``on_result[what]`` on the UI thread (the event list and export use this)."""
        self._submit(what, job)

    # -- the worker thread -----------------------------------------------------------------------

    def _submit(self, what: str, job: Callable[[], Any]) -> None:
        if self._closing:
            return
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="camwall-review"
            )

        def run() -> None:
            try:
                result = job()
            except (CamwallError, OSError, RuntimeError, ValueError) as exc:
                log.warning("review: %s failed: %s", what, exc)
                self._done.emit("error", f"{what}: {exc}")
                return
            self._done.emit(what, result)

        try:
            self._executor.submit(run)
        except RuntimeError:  # shut down meanwhile (the window closing)
            pass

    def _start_group(
        self,
        future: concurrent.futures.Future[RecordingIndex],
        names: Sequence[str],
        notify: Connection,
        at: float | None,
    ) -> tuple[PlaybackGroup, RecordingIndex, float]:
        while True:  # the index may be being rebuilt: minutes; the window may close meanwhile
            if self._closing:
                raise RecordError("the review was closed before the recordings index opened")
            try:
                index = future.result(timeout=0.2)
                break
            except concurrent.futures.TimeoutError:
                continue
        group = PlaybackGroup(
            index.root, names, on_event=self._event.emit, max_size=MAX_FRAME, notify=notify
        )
        self._started_group = group  # close() finds it even before the UI thread does
        group.start()
        if at is None:
            ends = [s[-1][1] for s in (index.spans(n) for n in names) if s]
            at = max(ends) - 1.0 if ends else 0.0
        group.seek(at)
        return group, index, at

    def _seek_latest(self) -> float | None:
        with self._seek_lock:
            t, self._pending_seek = self._pending_seek, None
        group = self._group
        if t is None or group is None:
            return None
        group.seek(t)
        return t

    # -- answers (UI thread) ---------------------------------------------------------------------

    def _on_done(self, what: str, result: Any) -> None:
        if what == "started":
            group, index, at = result
            if not self._active or self._closing:
                self._submit("closed", group.close)  # left before it was ready
                return
            self._group, self._index = group, index
            for name in self._names:
                tile = self.wall_cameras.tile(name)
                try:
                    tile.set_ring(group.players[name].ring_name)
                except RingError as exc:
                    tile.set_forced_placeholder(Placeholder.FAILED, ["Failed", str(exc)])
            self.message.emit("Review: drag the cursor, or play.")
            self.active_changed.emit(True)
            self.cursor_set.emit(at)
        elif what == "data":
            self.data_ready.emit(result)
        elif what == "jump" and result is not None:
            self.seek_to(result)
        elif what == "jump":
            self.message.emit("No more events that way.")
        elif what == "error":
            self.message.emit(str(result))
            if self._active and self._group is None:
                self._abort(str(result))
        handler = self.on_result.get(what)
        if handler is not None:
            handler(result)

    def _watch(self, on: bool) -> None:
        # The runtime re-reads segments being written only while someone reviews.
        if on != self._watching:
            self._watching = on
            self.runtime.watch_recordings(on)

    def _abort(self, reason: str) -> None:
        """Starting the review failed: say so on the tiles, stay out of review."""
        for name in self._names:
            self.wall_cameras.reviewing.discard(name)
            if name in self.wall_cameras.names():
                self._show_live(self.wall_cameras.tile(name), name)
        self._names = []
        self._active = False
        self._watch(False)
        self.message.emit(f"Cannot review: {reason}")
        self.active_changed.emit(False)

    def _on_event(self, event: PlaybackEvent) -> None:
        name = self._wall_name(event.camera)
        if name is None or not self._active or name not in self.wall_cameras.names():
            return  # (a camera removed from the wall during review keeps no tile)
        tile = self.wall_cameras.tile(name)
        if isinstance(event, NoRecording):
            reason = _REASONS.get(event.reason, event.reason)
            tile.set_forced_placeholder(Placeholder.NO_RECORDING, ["No recording", reason])
            self.states[name] = PlaybackState.NO_RECORDING
            return
        if isinstance(event, PlaybackStateChanged):
            state = event.state
            if state is PlaybackState.FAILED:
                tile.set_forced_placeholder(Placeholder.FAILED, ["Failed", event.reason])
            elif state is PlaybackState.ENDED:
                tile.set_forced_placeholder(
                    Placeholder.NO_RECORDING, ["No recording", "after the last recording"]
                )
        elif isinstance(event, PlaybackPosition):
            state = event.state
            if state in (PlaybackState.PAUSED, PlaybackState.PLAYING) and event.t is not None:
                tile.set_forced_placeholder(None)
            elif (
                state is PlaybackState.NO_RECORDING
                and self.states.get(name) is not PlaybackState.NO_RECORDING
            ):
                tile.set_forced_placeholder(Placeholder.NO_RECORDING, ["No recording"])
        self.states[name] = state

    # -- helpers ---------------------------------------------------------------------------------

    def _wall_name(self, camera: str) -> str | None:
        for name in self._names:
            if safe_name(name) == camera or name == camera:
                return name
        return None

    def _show_live(self, tile: CameraTile, name: str) -> None:
        tile.set_forced_placeholder(None)
        tile.set_badge_override(None)
        tile.set_overlays_hidden(False)
        boxes = self._boxes.pop(name, None)
        if boxes is not None:
            boxes.close()
        tile.set_decode_badge(self._saved_badges.pop(name, ""))
        try:
            tile.set_ring(self.runtime.ring_name(name))
        except (RingError, KeyError) as exc:
            log.debug("%s: no live ring to go back to: %s", name, exc)
            tile.close_ring()
        tile.set_state(self.runtime.state(name))

    def _drain(self) -> None:
        if self._notify is None:
            return
        try:
            while os.read(self._notify[0].fileno(), 65536):
                pass
        except BlockingIOError:
            pass


def _renamed(event: RecordedEvent, camera: str) -> RecordedEvent:
    return dataclasses.replace(event, camera=camera)
