"""Runtime: the one owner of cameras — capture, streams, recording, detection, control.

Every face builds one from a :class:`~camwall.config.Config` and talks to it only through
commands (methods) and one ordered event stream::

    rt = Runtime(cfg)
    unsubscribe = rt.subscribe(handle)      # handle(RuntimeEvent), called from worker threads
    rt.start()                              # every camera of the config
    rt.add_camera(camera); rt.set_recording("door", True); rt.snapshot("door")
    rt.close(timeout=10)                    # nothing left: no process, thread, ring or segment

The headless mode subscribes a JSON-lines writer, the wall a Qt bridge, a node an MQTT sink;
none of them owns a worker or repeats a policy. The runtime owns the
:class:`~camwall.capture.CaptureSupervisor` (one capture worker per camera stream, which
also records), the detection service (:mod:`camwall.runtime.detection`), the control
sessions (:mod:`camwall.runtime.control`), one retention service per recording folder and
the snapshot thread.

**Streams.** A camera with a substream is captured on one of its two streams. What a face
would like (``set_view``: the substream for a small tile, the main stream when enlarged) is
a wish; the runtime decides: a camera that records stays on its main stream (recordings keep
full quality and one worker does both). A switch *overlaps*: the other stream starts, the
camera keeps publishing the current one until the new one streams, then the old one stops.
Faces never see the second worker: events carry the camera's name, a ``ring`` event tells
that frames now come from another ring, and the switch costs no black picture.

**Detection reads a fixed stream** (the camera's ``detect_stream``; see
:func:`~camwall.runtime.specs.detect_stream`), whatever the faces show: the worker of that
stream also publishes a detect-sized output (one decode, one more scale). A camera that
detects on its main stream is captured on the main stream while it detects (tiles get a
scaled copy of the same decode; no second connection). A camera that detects on its
substream while shown on its main stream (enlarged, or recording) gets a second,
detect-only worker on the substream: no picture painted, no recording, its events never
reach the faces; it stops when detection goes off, and paints again (becoming the shown
worker, no new connection) when the picture returns to the substream.

Events reach subscribers one at a time, in order (calls never overlap); keep callbacks quick
and never call :meth:`Runtime.close` from one. No Qt here.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil

from camwall.capture.events import (
    CameraState,
    CaptureEvent,
    InfoEvent,
    RecordingEvent,
    RingEvent,
    StateEvent,
    StatsEvent,
)
from camwall.capture.spec import BackoffPolicy, DetectOutput, RecordingSpec
from camwall.capture.supervisor import CaptureSupervisor, Mode
from camwall.config import Camera, Config
from camwall.control import RemoteCamera
from camwall.control.onvif.events import CameraEvent
from camwall.detect.messages import DetectionStats, Message, TrackEvent
from camwall.detect.service import DetectionService
from camwall.detect.spec import DetectorSpec
from camwall.detect.zones import Zone
from camwall.errors import (
    CamwallError,
    CaptureError,
    ConfigError,
    InvalidSourceError,
    RuntimeClosedError,
    StorageError,
)
from camwall.frames import Frame
from camwall.record.events import RecordingFailed, SegmentClosed, SegmentOpened
from camwall.record.index import RecordingIndex
from camwall.record.retention import RetentionPolicy, RetentionResult, RetentionService
from camwall.record.storage import ensure_writable
from camwall.runtime.control import ControlSessions
from camwall.runtime.decode import DecodeController, Demand, Load
from camwall.runtime.detection import DetectionHub
from camwall.runtime.event_actions import MotionGate, trigger_key
from camwall.runtime.events import (
    CameraAction,
    CameraChanged,
    ControlChanged,
    DecodeChanged,
    Payload,
    RetentionEvent,
    RuntimeEvent,
    RuntimeNotice,
)
from camwall.runtime.indexes import IndexKeeper
from camwall.runtime.snapshots import FrameGrabber, SnapshotKind
from camwall.runtime.specs import (
    Stream,
    StreamChoice,
    camera_spec,
    choose_stream,
    detect_stream,
    detector_spec,
    pipeline_config,
)
from camwall.sources.base import DecodeMode
from camwall.sources.factory import source_kind

log = logging.getLogger(__name__)

EventCallback = Callable[[RuntimeEvent], None]
#: How often the decode budget looks at the cameras (a view change asks at once).
DECODE_TICK_S = 1.0
#: A camera stays "active" (decoded first) this long after its last track event.
ACTIVE_AFTER_EVENT_S = 10.0
_E = TypeVar("_E", StateEvent, InfoEvent, RingEvent, RecordingEvent, StatsEvent, CaptureEvent)


@dataclass(frozen=True, slots=True)
class RecordingStats:
    """What a camera has recorded since it joined: for badges and stats overlays."""

    #: True while a segment is open.
    active: bool = False
    segments: int = 0
    bytes: int = 0
    #: The newest recording failure (cleared by the next segment that opens).
    error: str | None = None


@dataclass(eq=False)
class _Entry:
    """What the runtime knows about one camera."""

    camera: Camera
    running: bool = False
    recording: bool = False
    #: The supervisor key shown now ("door" for the main stream, "door (sub)").
    key: str | None = None
    stream: Stream = "main"
    #: The other stream while switching: started, not yet streaming.
    pending_key: str | None = None
    pending_stream: Stream = "main"
    pending_ring: str | None = None
    pending_info: InfoEvent | None = None
    #: What a face would like to see (None: the runtime's own choice).
    wanted_stream: Stream | None = None
    max_size: tuple[int, int] | None = None
    ring: str | None = None
    #: The detect-sized output's ring (of the shown stream's worker), while detecting.
    detect_ring: str | None = None
    pending_detect_ring: str | None = None
    #: The stream that feeds detection (fixed per camera, see ``detect_stream``).
    det_stream: Stream = "main"
    #: A detect-only worker on ``det_stream`` while the picture is on the other stream.
    extra_key: str | None = None
    extra_detect_ring: str | None = None
    extra_info: InfoEvent | None = None
    #: The newest capture stats of the shown worker and of the detect-only one.
    stats: StatsEvent | None = None
    extra_stats: StatsEvent | None = None
    info: InfoEvent | None = None
    state: CameraState | None = None
    rec: RecordingStats = dataclasses.field(default_factory=RecordingStats)
    #: What the viewer sees of it (set by faces with set_view; headless: nothing).
    visible: bool = False
    focused: bool = False
    #: Tracks on it that appeared and have not left; events keep it "active" a while longer.
    tracks: set[int] = dataclasses.field(default_factory=set)
    active_until: float = 0.0
    decode: DecodeMode = "full"
    load: Load | None = None


class Runtime:
    """Runs cameras; see the module docstring."""

    def __init__(
        self,
        config: Config | None = None,
        on_event: EventCallback | None = None,
        *,
        mode: Mode = "process",
        stream: StreamChoice = "auto",
        snapshot_dir: Path | None = None,
        stats_interval_s: float = 1.0,
        retention_interval_s: float = 60.0,
        backoff: BackoffPolicy | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Configure; nothing runs until :meth:`start` or :meth:`add_camera`.

        ``stream`` picks main stream or substream when no face says (see
        :func:`choose_stream`); ``snapshot_dir`` saves a JPEG when a tracked object appears;
        ``stats_interval_s`` paces capture and detection stats; ``env`` replaces
        ``os.environ`` for passwords. ``on_event`` is a first subscriber.
        """
        if not stats_interval_s > 0:
            raise ValueError(f"stats_interval_s must be positive, not {stats_interval_s}")
        self.config = config if config is not None else Config()
        self._stream: StreamChoice = stream
        self._stats_interval_s = stats_interval_s
        self._retention_interval_s = retention_interval_s
        self._backoff = backoff
        self._env = env
        self._lock = threading.RLock()  # the camera table and the parts' lifetimes
        self._emit_lock = threading.RLock()  # one callback at a time (a sink may unsubscribe)
        self._sinks: list[EventCallback] = [on_event] if on_event is not None else []
        self._entries: dict[str, _Entry] = {}
        #: Supervisor key → camera, for every worker running (shown, pending or retiring).
        self._by_key: dict[str, _Entry] = {}
        #: Keys being stopped: True if their STOPPED state is the camera's (a stop, not a
        #: switch away from that stream).
        self._retiring: dict[str, bool] = {}
        self._retention: dict[Path, RetentionService] = {}
        self._detect_stats_at: dict[str, float] = {}
        #: What each camera's own motion detector says (detect_when = "camera_motion").
        self._motion_gate = MotionGate()
        self._started = False
        self._closed = False
        self.supervisor = CaptureSupervisor(self._on_capture, mode=mode)
        self.detection = DetectionHub(
            detector_spec(self.config), pipeline_config(self.config), self._on_detection
        )
        if snapshot_dir is not None:
            self.detection.set_snapshot_dir(snapshot_dir)
        self.control = ControlSessions(self._on_control)
        self._grabber = FrameGrabber()
        #: The decode budget (camwall.runtime.decode), ticked by its own thread.
        self.decode = DecodeController(
            cores=float(os.cpu_count() or 1), enabled=self.config.wall.decode_budget
        )
        self._tick = threading.Event()
        self._closing = threading.Event()
        self._decoder: threading.Thread | None = None
        #: Recordings indexes (camwall.runtime.indexes), fed every event; own thread.
        self._indexes = IndexKeeper()

    # -- subscribers -------------------------------------------------------------------------

    def subscribe(self, sink: EventCallback) -> Callable[[], None]:
        """Call ``sink`` with every event from now on; returns a function that unsubscribes."""
        with self._emit_lock:
            self._sinks = [*self._sinks, sink]

        def unsubscribe() -> None:
            with self._emit_lock:
                self._sinks = [s for s in self._sinks if s is not sink]

        return unsubscribe

    # -- cameras -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start every camera of the config (returns at once; events report progress)."""
        with self._lock:
            if self._started:
                raise RuntimeError("Runtime.start() was already called")
            self._started = True
        self._emit(
            RuntimeNotice("started", f"{len(self.config.cameras)} camera(s) from the config")
        )
        for warning in self.config.warnings:
            self._emit(RuntimeNotice("warning", warning))
        for camera in self.config.cameras:
            try:
                self.add_camera(camera)
            except (CamwallError, ValueError) as exc:
                # One bad camera (an unset password variable, a bad URL) never stops the rest.
                log.error("%s: cannot start: %s", camera.name, exc, extra={"camera": camera.name})
                self._emit(RuntimeNotice("error", str(exc), camera.name))

    def add_camera(self, camera: Camera, *, start: bool = True) -> None:
        """Add ``camera`` and (with ``start``) start capturing, recording and detecting it.

        Raises ConfigError if its password variable is unset, InvalidSourceError for a bad
        URL, ValueError if a camera of that name exists already.
        """
        # Fails early, before anything is registered, for an unset password or a bad URL.
        camera_spec(self.config, camera, env=self._env)
        det_stream = detect_stream(camera)
        with self._lock:
            if self._closed:
                raise RuntimeClosedError("the runtime is closed; no cameras can be added")
            if camera.name in self._entries:
                raise ValueError(f"a camera named {camera.name!r} is already running")
            entry = _Entry(camera, recording=camera.record, det_stream=det_stream)
            self._entries[camera.name] = entry
            self.detection.add_camera(
                camera.name,
                camera.detect,
                self.config.detect_fps(camera),
                camera.masks,
                camera.zones,
            )
        settings = None
        try:
            settings = camera.onvif_settings(self._env)
        except ConfigError as exc:
            log.error("%s: no camera control: %s", camera.name, exc, extra={"camera": camera.name})
        if settings is not None:
            self.control.open(camera.name, settings)
        if camera.record or camera.record_on_events:
            problem = self._check_folder(self.config.recording_dir())
            if problem is not None:
                self._emit(RuntimeNotice("error", problem, camera.name))
        self._changed(entry, "added")
        if start:
            self.start_camera(camera.name)

    def remove_camera(self, name: str) -> None:
        """Stop camera ``name`` and forget it (returns at once; a STOPPED state follows)."""
        self.stop_camera(name)
        with self._lock:
            entry = self._entries.pop(name, None)
            if entry is None:
                return
            self.detection.remove_camera(name)
            self._motion_gate.forget(name)
        self.control.close_camera(name)
        self._detect_stats_at.pop(name, None)
        self._changed(entry, "removed")

    def start_camera(self, name: str) -> None:
        """Connect camera ``name`` (returns at once; state events report progress)."""
        with self._lock:
            entry = self._entry(name)
            if entry.running or self._closed:
                return
            entry.running = True
            stream = self._target_stream(entry)
            entry.stream = stream
            pinned = entry.focused or _is_file(entry.camera.url)
            entry.decode = "full" if pinned else self.decode.start_as(name).value
            entry.key = self._launch(entry, stream)
            self._update_extra(entry)
            self._start_decoder()
        self._changed(entry, "updated")

    def stop_camera(self, name: str) -> None:
        """Disconnect camera ``name``, keeping it (returns at once; its worker ends meanwhile)."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or not entry.running:
                return
            self._cancel_switch(entry)
            if entry.key is not None:
                self._retire(entry.key, own_state=True)
            entry.running, entry.key, entry.ring, entry.state = False, None, None, None
            entry.detect_ring = None
            self._update_extra(entry)
            self.detection.ring_changed(name, None, None, entry.stream)
        self._changed(entry, "updated")

    def reconnect(self, name: str) -> None:
        """Drop camera ``name``'s connection and connect again now (start it if stopped)."""
        with self._lock:
            entry = self._entry(name)
            key = entry.key if entry.running else None
            extra = entry.extra_key if entry.running else None
        if extra is not None:
            self.supervisor.reconnect(extra)
        if key is not None:
            self.supervisor.reconnect(key)
        else:
            self.start_camera(name)

    def cameras(self) -> list[str]:
        """The cameras' names, in the order they were added."""
        with self._lock:
            return list(self._entries)

    def camera(self, name: str) -> Camera:
        """Camera ``name``'s settings."""
        with self._lock:
            return self._entry(name).camera

    def is_running(self, name: str) -> bool:
        """True if camera ``name`` is started (connected or trying to)."""
        with self._lock:
            return self._entry(name).running

    def stream(self, name: str) -> Stream:
        """The stream camera ``name`` publishes now."""
        with self._lock:
            return self._entry(name).stream

    def detect_stream(self, name: str) -> Stream:
        """The stream that feeds camera ``name``'s detection (fixed, whatever is shown)."""
        with self._lock:
            return self._entry(name).det_stream

    def detect_capture_stats(self, name: str) -> StatsEvent | None:
        """The newest capture stats of the worker whose decode feeds camera ``name``'s
        detection (its ``detect_ms``/``fps_detect`` are the detect output's own cost): the
        shown worker's, or the detect-only worker's while there is one (whose whole decode is
        then detection's). None before the first stats or while it does not detect."""
        with self._lock:
            entry = self._entry(name)
            if not self.detection.is_enabled(name) or not entry.running:
                return None
            return entry.stats if entry.stream == entry.det_stream else entry.extra_stats

    def detect_worker(self, name: str) -> str | None:
        """The supervisor key of camera ``name``'s detect-only worker, while it has one."""
        with self._lock:
            return self._entry(name).extra_key

    def state(self, name: str) -> CameraState | None:
        """The last capture state camera ``name`` reported (None: stopped or not yet)."""
        with self._lock:
            entry = self._entries.get(name)
            return None if entry is None else entry.state

    def ring_name(self, name: str) -> str | None:
        """The ring camera ``name`` publishes into now, once created."""
        with self._lock:
            entry = self._entries.get(name)
            return None if entry is None else entry.ring

    def info(self, name: str) -> InfoEvent | None:
        """What the shown stream of camera ``name`` declared when it opened."""
        with self._lock:
            entry = self._entries.get(name)
            return None if entry is None else entry.info

    def recording_stats(self, name: str) -> RecordingStats:
        """What camera ``name`` recorded so far."""
        with self._lock:
            return self._entry(name).rec

    def is_recording(self, name: str) -> bool:
        """True if recording is on for camera ``name`` (asked for; see :meth:`recording_stats`)."""
        with self._lock:
            return self._entry(name).recording

    @property
    def frame_notify_fd(self) -> int:
        """A file descriptor that becomes readable when any camera publishes a frame."""
        return self.supervisor.frame_notify_fd

    def drain_frame_notifications(self) -> int:
        """Empty the frame-notification pipe; returns the number of frames announced."""
        return self.supervisor.drain_frame_notifications()

    # -- what faces would like ---------------------------------------------------------------

    def set_view(
        self,
        name: str,
        *,
        stream: Stream | None = None,
        max_size: tuple[int, int] | None = None,
        visible: bool = True,
        focused: bool = False,
    ) -> None:
        """A face shows camera ``name``: on which stream it would like it, at what size.

        ``max_size`` lets the worker publish frames scaled down to the tile (None: full
        size). The stream is a wish; see "Streams" in the module docstring. ``visible``
        and ``focused`` (enlarged, zoomed) feed the decode budget: a hidden camera stops
        decoding, the focused one always decodes every frame.
        """
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                return
            if (visible, focused) != (entry.visible, entry.focused):
                entry.visible, entry.focused = visible, focused
                self._tick.set()  # the viewer waits for this one: decide now
            if max_size != entry.max_size:
                entry.max_size = max_size
                for key in (entry.key, entry.pending_key):
                    if entry.running and key is not None:
                        self.supervisor.set_max_size(key, max_size)
            entry.wanted_stream = stream
            self._update_stream(entry)

    # -- recording ---------------------------------------------------------------------------

    def set_recording(self, name: str, on: bool) -> None:
        """Record camera ``name``'s main stream or stop (the open segment is finished cleanly).

        Raises CaptureError for a camera that cannot be recorded (no compressed stream).
        """
        with self._lock:
            entry = self._entry(name)
            if on == entry.recording:
                return
            entry.recording = on
            if on:
                self._ensure_retention(self.config.recording_dir())
            spec = self._recording_spec(entry)
            if entry.running and entry.key is not None and entry.stream == "main":
                self.supervisor.set_recording(entry.key, spec)
            self._update_stream(entry)
        log.info("recording %s", "on" if on else "off", extra={"camera": name})
        if on:
            problem = self._check_folder(self.config.recording_dir())
            if problem is not None:
                self._emit(RuntimeNotice("error", problem, name))
        self._changed(entry, "updated")

    # -- detection ---------------------------------------------------------------------------

    def set_detection(self, name: str, on: bool, fps: float | None = None) -> None:
        """Detect objects on camera ``name`` (``fps``: detections per second) or stop."""
        with self._lock:
            entry = self._entry(name)
        if self.detection.set_enabled(name, on, fps):
            with self._lock:
                output = self._detect_output(entry)
                # Only the worker of the detect stream makes the detect output (the ring
                # names stay known: the supervisor keeps a worker's detect ring).
                for key, stream in (
                    (entry.key, entry.stream),
                    (entry.pending_key, entry.pending_stream),
                    (entry.extra_key, entry.det_stream),
                ):
                    if entry.running and key is not None and stream == entry.det_stream:
                        self.supervisor.set_detect(key, output)
                self._update_stream(entry)
                self._update_extra(entry)
                self._follow_ring(entry)
            if on:
                log.info(
                    "detection on (%s, %g per second)",
                    self.detection.spec.kind,
                    self.detection.fps(name),
                    extra={"camera": name},
                )
            else:
                log.info("detection off", extra={"camera": name})
            self._changed(entry, "updated")

    def set_zones(self, name: str, zones: Sequence[Zone]) -> None:
        """Camera ``name``'s zones from now on (normalised polygons); capture keeps running.

        ConfigError if two zones share a name. The camera's settings (:meth:`camera`) carry
        the new zones, so a face that saves the config saves them.
        """
        zones = tuple(zones)
        names = [z.name for z in zones]
        if len(set(names)) != len(names):
            raise ConfigError(f"camera {name!r}: two zones have the same name", key="zones")
        with self._lock:
            entry = self._entry(name)
            entry.camera = dataclasses.replace(entry.camera, zones=zones)
            self.detection.set_zones(name, zones)
        log.info("zones: %s", ", ".join(names) or "none", extra={"camera": name})
        self._changed(entry, "updated")

    def set_detector(self, spec: DetectorSpec | str) -> None:
        """Use ``spec`` (``people``, ``face``, ``motion`` or an ONNX path) on every camera."""
        self.detection.set_detector(DetectorSpec.parse(spec) if isinstance(spec, str) else spec)

    @property
    def detection_service(self) -> DetectionService | None:
        """The running detection service, while a camera detects."""
        return self.detection.service

    # -- snapshots ---------------------------------------------------------------------------

    def full_frame(self, name: str) -> concurrent.futures.Future[Frame]:
        """A copy of camera ``name``'s newest frame at the stream's full resolution.

        Raises CamwallError at once if it has no picture yet.
        """
        with self._lock:
            entry = self._entry(name)
            native = entry.info.width if entry.info is not None else None

        def ring() -> str | None:
            with self._lock:
                return entry.ring

        def ask_full(full: bool) -> None:
            with self._lock:
                if entry.running and entry.key is not None:
                    self.supervisor.set_max_size(entry.key, None if full else entry.max_size)

        return self._grabber.full_frame(name, ring, native, ask_full)

    def snapshot(
        self, name: str, directory: Path | None = None, kind: SnapshotKind = "png"
    ) -> concurrent.futures.Future[Path]:
        """Save camera ``name``'s picture at full resolution; the future gives the file.

        ``directory`` defaults to ``<recording dir>/snapshots``. Raises CamwallError at once
        if the camera has no picture yet.
        """
        target = directory or self.config.recording_dir() / "snapshots"
        result = self._grabber.save(name, self.full_frame(name), target, kind)

        def report(done: concurrent.futures.Future[Path]) -> None:
            exc = done.exception()
            if exc is None:
                log.info("snapshot saved: %s", done.result(), extra={"camera": name})
            else:
                log.error("snapshot failed: %s", exc, extra={"camera": name})

        result.add_done_callback(report)
        return result

    # -- control -----------------------------------------------------------------------------

    def control_session(self, name: str) -> RemoteCamera | None:
        """Camera ``name``'s optical control (focus, zoom, PTZ), or None if it has none."""
        return self.control.session(name)

    def goto_preset(self, name: str, token: str) -> concurrent.futures.Future[None]:
        """Move camera ``name`` to PTZ preset ``token``."""
        return self.control.goto_preset(name, token)

    # -- closing -----------------------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> bool:
        """Stop everything and wait up to ``timeout`` s; True if everything has ended.

        Capture workers finish their open segments on the way out; no process, thread or
        shared-memory segment is left behind.
        """
        with self._lock:
            if self._closed:
                return True
            self._closed = True
            retention = list(self._retention.values())
            decoder, self._decoder = self._decoder, None
        self._closing.set()
        self._tick.set()
        if decoder is not None:
            decoder.join(timeout)
        self._emit(RuntimeNotice("stopping"))
        deadline = time.monotonic() + timeout
        services = self.detection.stop()  # returns at once; joined after capture has stopped
        ok = self.supervisor.close(timeout=timeout)
        for service in services:
            ok = service.join(max(0.5, deadline - time.monotonic())) and ok
        self.control.close(max(0.5, deadline - time.monotonic()))
        self._grabber.close()
        for folder in retention:
            folder.stop(max(0.5, deadline - time.monotonic()))
        self._indexes.close(max(0.5, deadline - time.monotonic()))
        with self._lock:
            self._entries.clear()
            self._by_key.clear()
        if not ok:
            log.warning("runtime: some workers were still running after %.1f s", timeout)
        self._emit(RuntimeNotice("stopped", "" if ok else "some workers did not stop in time"))
        return ok

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- streams (with self._lock held) ----------------------------------------------------

    def _entry(self, name: str) -> _Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"no camera named {name!r}") from None

    def _target_stream(self, entry: _Entry) -> Stream:
        camera = entry.camera
        if camera.substream_url is None or entry.recording or camera.record_on_events:
            return "main"  # what is recorded (also the pre-roll of event recording)
        if self.detection.is_enabled(camera.name):
            if entry.det_stream == "main":
                # One decode of the main stream feeds detection and (scaled) the tile,
                # rather than a second connection for the view.
                return "main"
            if entry.wanted_stream is None and self._stream == "auto":
                return entry.det_stream  # nobody asks: one connection serves detection
        if entry.wanted_stream is not None:
            return entry.wanted_stream
        return choose_stream(camera, self._stream)

    def _recording_spec(self, entry: _Entry) -> RecordingSpec | None:
        # Recording switched on records continuously; else a camera that records on its
        # events keeps a pre-roll in its worker until one comes (issue 18).
        if not entry.recording and not entry.camera.record_on_events:
            return None
        return RecordingSpec(
            directory=self.config.recording_dir(),
            segment_seconds=self.config.recording.segment_seconds,
            camera=entry.camera.name,
            pre_roll_s=None if entry.recording else entry.camera.pre_roll_s,
        )

    def _launch(self, entry: _Entry, stream: Stream, *, detect_only: bool = False) -> str:
        camera = entry.camera
        key = camera.name if stream == "main" else f"{camera.name} (sub)"
        if detect_only:
            key = f"{camera.name} (detect)"
        base, n = key, 2
        while key in self._by_key:
            # The previous worker of that stream is still stopping: its late events must not
            # be mistaken for the new one's.
            key, n = f"{base} #{n}", n + 1
        spec = camera_spec(
            self.config,
            camera,
            stream=stream,
            env=self._env,
            stats_interval_s=self._stats_interval_s,
            backoff=self._backoff,
            max_size=entry.max_size,
        )
        recording = self._recording_spec(entry) if stream == "main" and not detect_only else None
        spec = dataclasses.replace(
            spec,
            name=key,
            recording=recording,
            decode=entry.decode,
            detect=self._detect_output(entry) if stream == entry.det_stream else None,
            view=not detect_only,
            # Never painted: the smallest ring (pages are only allocated when written).
            initial_frame=(16, 16) if detect_only else spec.initial_frame,
            max_size=None if detect_only else spec.max_size,
        )
        if recording is not None:
            self._ensure_retention(recording.directory)
        self._by_key[key] = entry
        try:
            self.supervisor.start(spec)
        except (ValueError, CaptureError):
            self._by_key.pop(key, None)
            raise
        log.info(
            "%s: starting its %s stream (%s)",
            camera.name,
            stream,
            "detection only"
            if detect_only
            else _features(entry, self.detection.is_enabled(camera.name)),
            extra={"camera": camera.name},
        )
        return key

    def _wants_extra(self, entry: _Entry) -> bool:
        """True if detection needs a worker of its own (its stream is not the one shown)."""
        return (
            entry.running
            and entry.det_stream == "sub"
            and entry.stream == "main"
            and self.detection.is_enabled(entry.camera.name)
        )

    def _update_extra(self, entry: _Entry) -> None:
        """Start or stop the detect-only worker as detection and the shown stream say."""
        if self._wants_extra(entry):
            # A switch back to the detect stream brings the detect output with it.
            switching_back = entry.pending_key is not None and entry.pending_stream == "sub"
            if entry.extra_key is None and not switching_back and not self._closed:
                entry.extra_key = self._launch(entry, entry.det_stream, detect_only=True)
        elif entry.extra_key is not None:
            log.info(
                "%s: stopping its detect-only %s stream",
                entry.camera.name,
                entry.det_stream,
                extra={"camera": entry.camera.name},
            )
            self._retire(entry.extra_key, own_state=False)
            entry.extra_key = entry.extra_detect_ring = entry.extra_info = None
            entry.extra_stats = None

    def _update_stream(self, entry: _Entry) -> None:
        """Start a switch to the stream the camera should be on now, if it is not."""
        if not entry.running:
            return
        wanted = self._target_stream(entry)
        if entry.pending_key is not None and entry.pending_stream != wanted:
            self._cancel_switch(entry, keep_for_detection=True)
        if wanted != entry.stream and entry.pending_key is None:
            entry.pending_stream = wanted
            if wanted == entry.det_stream and entry.extra_key is not None:
                self._promote_extra(entry)
            else:
                entry.pending_key = self._launch(entry, wanted)
        self._update_extra(entry)

    def _promote_extra(self, entry: _Entry) -> None:
        """The picture returns to the detect stream: its detect-only worker paints again and
        becomes the pending switch (no new connection; it says STREAMING once its view
        ring holds a fresh frame)."""
        key = entry.extra_key
        assert key is not None
        entry.pending_key, entry.extra_key = key, None
        entry.pending_ring = self.supervisor.ring_name(key)
        entry.pending_detect_ring, entry.pending_info = entry.extra_detect_ring, entry.extra_info
        entry.extra_detect_ring = entry.extra_info = entry.extra_stats = None
        self.supervisor.set_max_size(key, entry.max_size)
        self.supervisor.set_decode(key, entry.decode)
        self.supervisor.set_view(key, True)
        log.info(
            "%s: its detect-only %s stream is shown again",
            entry.camera.name,
            entry.det_stream,
            extra={"camera": entry.camera.name},
        )

    def _cancel_switch(self, entry: _Entry, *, keep_for_detection: bool = False) -> None:
        key = entry.pending_key
        keep = (
            keep_for_detection
            and key is not None
            and entry.pending_stream == entry.det_stream
            and entry.extra_key is None
            and self._wants_extra(entry)
        )
        if keep:
            # Back to detect-only (the picture stays where it is): no gap, no reconnect.
            assert key is not None
            self.supervisor.set_view(key, False)
            entry.extra_key, entry.extra_detect_ring = key, entry.pending_detect_ring
            entry.extra_info = entry.pending_info
        elif key is not None:
            self._retire(key, own_state=False)
        entry.pending_key = entry.pending_ring = entry.pending_info = None
        entry.pending_detect_ring = None

    def _retire(self, key: str, *, own_state: bool) -> None:
        self._retiring[key] = own_state
        self.supervisor.stop(key)

    # -- events ------------------------------------------------------------------------------

    def _emit(self, payload: Payload) -> None:
        self._indexes.observe(payload)  # queued: indexed on the keeper's thread
        event = RuntimeEvent(payload)
        with self._emit_lock:
            for sink in self._sinks:
                try:
                    sink(event)
                except Exception:  # a subscriber's bug must not stop capture or the others
                    log.exception("runtime event subscriber failed on a %s event", event.type)

    def _changed(self, entry: _Entry, action: CameraAction) -> None:
        name = entry.camera.name
        self._emit(
            CameraChanged(
                name,
                action,
                running=entry.running,
                recording=entry.recording,
                detecting=self.detection.is_enabled(name),
                stream=entry.stream,
            )
        )

    def _on_capture(self, event: CaptureEvent) -> None:
        """Supervisor thread: translate worker keys to cameras, follow switches, hand on."""
        out: list[Payload] = []
        with self._lock:
            key = event.camera
            entry = self._by_key.get(key)
            if entry is None:
                return
            name = entry.camera.name
            if key in self._retiring:
                own_state = self._retiring[key]
                stopped = isinstance(event, StateEvent) and event.state is CameraState.STOPPED
                if stopped:
                    self._retiring.pop(key, None)
                    self._by_key.pop(key, None)
                # A retiring worker still finishes its segment; its other news is stale.
                if isinstance(event, RecordingEvent) or (stopped and own_state):
                    out.append(_renamed(event, name))
            elif key == entry.pending_key:
                out.extend(self._on_pending(entry, event))
            elif key == entry.key:
                out.extend(self._on_shown(entry, event))
            elif key == entry.extra_key:
                self._on_extra(entry, event)
        for payload in out:
            if isinstance(payload, RecordingEvent):
                self._recording_event(payload)
            self._emit(payload)

    def _on_shown(self, entry: _Entry, event: CaptureEvent) -> list[Payload]:
        name = entry.camera.name
        if isinstance(event, RingEvent) and event.role == "detect":
            entry.detect_ring = event.ring_name
            self._follow_ring(entry)
        elif isinstance(event, RingEvent):
            entry.ring = event.ring_name
            self._follow_ring(entry)
        elif isinstance(event, InfoEvent):
            entry.info = _renamed(event, name)
            self._follow_ring(entry)
        elif isinstance(event, StateEvent):
            entry.state = event.state
        elif isinstance(event, RecordingEvent):
            entry.rec = _count(entry.rec, event)
        elif isinstance(event, StatsEvent):
            # The camera's own rate, not what a starved worker managed to decode: arriving
            # packets, else what the stream declares, else what was decoded.
            declared = entry.info.fps if entry.info is not None else None
            rate = event.packet_rate or declared or event.fps_in
            entry.load = Load(event.decode_ms, rate)
            entry.stats = _renamed(event, name)
        return [_renamed(event, name)]

    def _on_extra(self, entry: _Entry, event: CaptureEvent) -> None:
        """The detect-only worker: its rings and size matter, the faces hear nothing of it."""
        name = entry.camera.name
        if isinstance(event, RingEvent) and event.role == "detect":
            entry.extra_detect_ring = event.ring_name
            self._follow_ring(entry)
        elif isinstance(event, InfoEvent):
            entry.extra_info = _renamed(event, name)
            self._follow_ring(entry)
        elif isinstance(event, StatsEvent):
            entry.extra_stats = _renamed(event, name)
        elif isinstance(event, StateEvent) and event.state is CameraState.FAILED:
            log.warning(
                "%s: detection's %s stream failed: %s",
                name,
                entry.det_stream,
                event.reason,
                extra={"camera": name},
            )

    def _on_pending(self, entry: _Entry, event: CaptureEvent) -> list[Payload]:
        name = entry.camera.name
        if isinstance(event, RingEvent) and event.role == "detect":
            entry.pending_detect_ring = event.ring_name
            self._follow_ring(entry)
        elif isinstance(event, RingEvent):
            entry.pending_ring = event.ring_name
        elif isinstance(event, InfoEvent):
            entry.pending_info = _renamed(event, name)
        elif isinstance(event, RecordingEvent):
            entry.rec = _count(entry.rec, event)
            return [_renamed(event, name)]
        elif isinstance(event, StateEvent) and event.state is CameraState.STREAMING:
            return self._complete_switch(entry, event)
        elif isinstance(event, StateEvent) and event.state is CameraState.FAILED:
            log.warning(
                "%s: the %s stream failed (%s); staying on the %s stream",
                name,
                entry.pending_stream,
                event.reason,
                entry.stream,
                extra={"camera": name},
            )
            self._cancel_switch(entry)
            self._update_extra(entry)  # detection may need its own worker after all
            self._follow_ring(entry)
        return []

    def _complete_switch(self, entry: _Entry, event: StateEvent) -> list[Payload]:
        name = entry.camera.name
        assert entry.pending_key is not None
        ring = entry.pending_ring or self.supervisor.ring_name(entry.pending_key)
        old, old_stream, old_info = entry.key, entry.stream, entry.info
        old_detect_ring = entry.detect_ring
        entry.key, entry.stream = entry.pending_key, entry.pending_stream
        entry.pending_key = entry.pending_ring = None
        entry.detect_ring, entry.pending_detect_ring = entry.pending_detect_ring, None
        out: list[Payload] = []
        if ring:
            entry.ring = ring
            out.append(RingEvent(name, ring, 0, 0))
        if entry.pending_info is not None:
            entry.info = entry.pending_info
            out.append(entry.pending_info)
            entry.pending_info = None
        entry.state = event.state
        out.append(_renamed(event, name))
        if (
            old is not None
            and old_stream == entry.det_stream
            and entry.extra_key is None
            and self._wants_extra(entry)
        ):
            # The old worker already decodes the detect stream: it stays, for detection only
            # (no gap in detection, no new connection), and paints no picture from now on.
            self.supervisor.set_view(old, False)
            entry.extra_key, entry.extra_detect_ring = old, old_detect_ring
            entry.extra_info, entry.extra_stats = old_info, entry.stats
        elif old is not None:
            self._retire(old, own_state=False)
        entry.stats = None
        self._update_extra(entry)
        self._follow_ring(entry)
        log.info("%s: now on its %s stream", name, entry.stream, extra={"camera": name})
        out.append(
            CameraChanged(
                name,
                "updated",
                running=entry.running,
                recording=entry.recording,
                detecting=self.detection.is_enabled(name),
                stream=entry.stream,
            )
        )
        return out

    def _follow_ring(self, entry: _Entry) -> None:
        # The detector reads the detect-sized output of the detect stream's worker only (the
        # same picture at any wall layout): the shown one, or the detect-only one.
        if entry.stream == entry.det_stream:
            ring, info = entry.detect_ring, entry.info
        elif entry.pending_key is not None and entry.pending_stream == entry.det_stream:
            # Switching to the detect stream (the detect-only worker, shown again, or a new
            # worker): its detect output is the right one already.
            ring, info = entry.pending_detect_ring, entry.pending_info
        else:
            ring, info = entry.extra_detect_ring, entry.extra_info
        if not entry.running or not self.detection.is_enabled(entry.camera.name):
            ring = None
        size = (info.width, info.height) if info is not None and info.width else None
        shown = entry.info
        main_size = (
            (shown.width, shown.height)
            if entry.stream == "main" and shown is not None and shown.width
            else None
        )
        self.detection.ring_changed(
            entry.camera.name, ring, size, entry.det_stream, main_size=main_size
        )

    def _detect_output(self, entry: _Entry) -> DetectOutput | None:
        """The detect-sized output camera ``entry`` needs now (None: not detecting)."""
        name = entry.camera.name
        if not self.detection.is_enabled(name):
            return None
        return DetectOutput(
            entry.camera.detect_width, entry.camera.detect_height, self.detection.fps(name)
        )

    def _recording_event(self, event: RecordingEvent) -> None:
        record = event.record
        retention_due = isinstance(record, SegmentClosed) or (
            isinstance(record, RecordingFailed) and record.storage
        )
        if not retention_due:
            return
        with self._lock:
            services = list(self._retention.values())
        # A finished segment or a full disk: the retention pass may be what frees space.
        for service in services:
            service.trigger()

    def _on_detection(self, message: Message) -> None:
        """Detection service thread: pace stats, hand everything else on."""
        if isinstance(message, TrackEvent):
            with self._lock:
                entry = self._entries.get(message.camera)
                if entry is not None:
                    if message.kind == "appeared":
                        entry.tracks.add(message.track_id)
                        key = entry.key if entry.stream == "main" else None
                        if "detection" in entry.camera.record_on_events and key is not None:
                            # Recording on event, triggered by camwall's own detector.
                            self.supervisor.trigger_recording(key, entry.camera.post_roll_s)
                    else:
                        entry.tracks.discard(message.track_id)
                    entry.active_until = time.monotonic() + ACTIVE_AFTER_EVENT_S
        if isinstance(message, DetectionStats):
            now = time.monotonic()
            last = self._detect_stats_at.get(message.camera)
            # The worker reports about once a second; the caller asked for its own interval.
            if last is not None and now - last < self._stats_interval_s - 0.05:
                return
            self._detect_stats_at[message.camera] = now
        self._emit(message)

    def _on_control(self, payload: Payload) -> None:
        """Control thread: a camera reporting motion (or any event) is decoded first a while."""
        if isinstance(payload, CameraEvent) and payload.active:
            with self._lock:
                entry = self._entries.get(payload.camera)
                if entry is not None:
                    entry.active_until = time.monotonic() + ACTIVE_AFTER_EVENT_S
                    trigger = trigger_key(entry.camera, payload, entry.key, entry.stream)
                    if trigger is not None and entry.running:
                        # Recording on event: the worker writes its pre-roll, then post-roll.
                        self.supervisor.trigger_recording(trigger, entry.camera.post_roll_s)
        with self._lock:
            changed = self._motion_gate.update(payload)
            entry = self._entries.get(changed) if changed is not None else None
            if entry is not None and entry.camera.detect_when == "camera_motion":
                # The model runs only while the camera itself reports motion.
                name = entry.camera.name
                self.detection.set_skip(name, not self._motion_gate.motion(name))
        self._emit(payload)

    def _on_retention(self, directory: Path, result: RetentionResult) -> None:
        if not result.deleted:
            return
        self._emit(
            RetentionEvent(
                directory,
                len(result.deleted),
                result.freed_bytes,
                result.kept_bytes,
                result.kept_segments,
                result.in_use,
            )
        )

    # -- the decode budget -------------------------------------------------------------------

    def _start_decoder(self) -> None:
        """Start the decode budget's thread with the first camera (self._lock held)."""
        if self._decoder is not None or self._closed:
            return
        self._decoder = threading.Thread(
            target=self._decode_loop, name="camwall-decode-budget", daemon=True
        )
        self._decoder.start()

    def _decode_loop(self) -> None:
        psutil.cpu_percent(None)  # the first call only starts the measurement
        while not self._closing.is_set():
            self._tick.wait(DECODE_TICK_S)
            self._tick.clear()
            if self._closing.is_set():
                return
            try:
                self._decode_step(psutil.cpu_percent(None) / 100.0)
            except Exception:  # a bug here must not stop the budget for good: log, go on
                log.exception("decode budget: a step failed")

    def _decode_step(self, cpu_busy: float) -> None:
        now = time.monotonic()
        with self._lock:
            running = {n: e for n, e in self._entries.items() if e.running}
            demands = {
                name: Demand(
                    visible=e.visible,
                    focused=e.focused,
                    active=bool(e.tracks) or now < e.active_until,
                    detecting=self.detection.is_enabled(name),
                    pinned=_is_file(e.camera.url),
                )
                for name, e in running.items()
            }
            loads = {n: e.load for n, e in running.items() if e.load is not None}
        decisions = self.decode.update(now, demands, loads, cpu_busy)
        for decision in decisions:
            with self._lock:
                entry = self._entries.get(decision.camera)
                if entry is None or not entry.running:
                    continue
                entry.decode = decision.policy.value
                for key in (entry.key, entry.pending_key, entry.extra_key):
                    if key is not None:
                        self.supervisor.set_decode(key, entry.decode)
            log.info(
                "decode budget: %s now %s (%s)",
                decision.camera,
                decision.policy.value,
                decision.reason,
                extra={"camera": decision.camera},
            )
            self._emit(
                DecodeChanged(
                    decision.camera, decision.policy.value, decision.reason, decision.badge
                )
            )

    def decode_policy(self, name: str) -> str:
        """What camera ``name``'s worker decodes now: "full", "keyframes" or "paused"."""
        with self._lock:
            return self._entry(name).decode

    # -- recording folders -------------------------------------------------------------------

    def _check_folder(self, directory: Path) -> str | None:
        """Why recordings cannot be written into ``directory`` now, or None."""
        try:
            ensure_writable(directory)
        except StorageError as exc:
            # Not fatal: the recorders report it too, retry, and resume once it is fixed.
            log.error("cannot record: %s", exc)
            return str(exc)
        return None

    def _ensure_retention(self, directory: Path) -> None:
        if directory in self._retention or self._closed:
            return
        service = RetentionService(
            directory,
            RetentionPolicy.from_config(self.config.recording),
            interval_s=self._retention_interval_s,
            on_result=lambda result: self._on_retention(directory, result),
            on_deleted=self._indexes.remover(directory),
        )
        self._retention[directory] = service.start()
        self._indexes.index(directory)  # opened (or rebuilt) off this thread

    def watch_recordings(self, on: bool) -> None:
        """A face starts (True) or stops (False) showing recordings: the segments being
        written are then kept indexed up to their last fragment (the live edge of review)."""
        self._indexes.watch_live_edge(on)

    def recording_index(
        self, directory: Path | None = None
    ) -> concurrent.futures.Future[RecordingIndex]:
        """The recordings index of ``directory`` (the config's recording folder), kept live
        by the runtime; opened (or rebuilt) on its own thread: wait on the future off the UI
        thread, or add a done callback. Do not close it: the runtime does."""
        return self._indexes.index(directory or self.config.recording_dir())


def _renamed(event: _E, name: str) -> _E:
    """``event`` as the camera's own (a substream worker's events carry its key)."""
    if event.camera == name:
        return event
    return dataclasses.replace(event, camera=name)


def _is_file(url: str) -> bool:
    try:
        return source_kind(url) == "file"
    except InvalidSourceError:
        return False


def _count(stats: RecordingStats, event: RecordingEvent) -> RecordingStats:
    record = event.record
    if isinstance(record, SegmentOpened):
        return dataclasses.replace(stats, active=True, error=None)
    if isinstance(record, SegmentClosed):
        return RecordingStats(False, stats.segments + 1, stats.bytes + record.bytes, stats.error)
    return dataclasses.replace(stats, active=False, error=record.message)


def _features(entry: _Entry, detecting: bool) -> str:
    parts = [name for name, on in (("recording", entry.recording), ("detection", detecting)) if on]
    return ", ".join(parts) or "view only"


__all__ = ["ControlChanged", "EventCallback", "RecordingStats", "Runtime"]
