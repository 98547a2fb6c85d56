"""Runtime: the one core object that runs a config's cameras — capture, recording, detection.

The headless mode and the Qt wall both build one from a :class:`~camwall.config.Config`::

    rt = Runtime(cfg, on_event=handle)      # handle(RuntimeEvent), called from worker threads
    rt.start()                              # every camera of the config
    rt.add_camera(camera); rt.remove_camera("door")
    rt.close(timeout=10)                    # nothing left: no process, thread, ring or open segment

It owns the :class:`~camwall.capture.CaptureSupervisor` (one capture worker per camera, which
also records), the :class:`~camwall.detect.DetectionService` (only while a camera detects)
and one :class:`~camwall.record.RetentionService` per recording folder. Every event of every
part reaches ``on_event`` as a :class:`~camwall.runtime.events.RuntimeEvent`, one at a time
(calls never overlap); keep the callback quick and never call :meth:`Runtime.close` from it.
No Qt here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from camwall.capture.events import CameraState, CaptureEvent, RecordingEvent, RingEvent
from camwall.capture.spec import BackoffPolicy
from camwall.capture.supervisor import CaptureSupervisor, Mode
from camwall.config import Camera, Config
from camwall.detect.messages import DetectionStats, Message
from camwall.detect.service import DetectionService
from camwall.detect.snapshots import JpegSnapshots
from camwall.errors import CaptureError, StorageError
from camwall.record.events import RecordingFailed, SegmentClosed
from camwall.record.retention import RetentionPolicy, RetentionResult, RetentionService
from camwall.record.storage import ensure_writable
from camwall.runtime.events import Payload, RetentionEvent, RuntimeEvent, RuntimeNotice
from camwall.runtime.specs import (
    CameraDetection,
    StreamChoice,
    camera_detection,
    camera_spec,
    choose_stream,
    detector_spec,
    pipeline_config,
)

log = logging.getLogger(__name__)

EventCallback = Callable[[RuntimeEvent], None]


@dataclass(eq=False)
class _Entry:
    camera: Camera
    detection: CameraDetection | None
    #: The camera's current ring, once the supervisor announced it.
    ring: str | None = None
    #: True once the camera was handed to the detection service.
    detecting: bool = False


class Runtime:
    """Runs cameras from a config; see the module docstring."""

    def __init__(
        self,
        config: Config,
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

        ``stream`` picks main stream or substream (see :func:`choose_stream`);
        ``snapshot_dir`` saves a JPEG when a tracked object appears; ``stats_interval_s``
        paces capture and detection stats; ``env`` replaces ``os.environ`` for passwords.
        """
        if not stats_interval_s > 0:
            raise ValueError(f"stats_interval_s must be positive, not {stats_interval_s}")
        self.config = config
        self._on_event = on_event
        self._stream: StreamChoice = stream
        self._snapshot_dir = snapshot_dir
        self._stats_interval_s = stats_interval_s
        self._retention_interval_s = retention_interval_s
        self._backoff = backoff
        self._env = env
        self._lock = threading.Lock()  # the camera table and the parts' lifetimes
        self._emit_lock = threading.Lock()  # one callback at a time
        self._entries: dict[str, _Entry] = {}
        self._retention: dict[Path, RetentionService] = {}
        self._detection: DetectionService | None = None
        #: Services stopped when their last camera went; joined by close().
        self._retired: list[DetectionService] = []
        self._detect_stats_at: dict[str, float] = {}
        self._started = False
        self._closed = False
        self.supervisor = CaptureSupervisor(self._on_capture, mode=mode)

    # -- public API --------------------------------------------------------------------------

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
            self.add_camera(camera)

    def add_camera(self, camera: Camera) -> None:
        """Start capturing ``camera`` (and recording/detecting, as it says).

        Raises ConfigError if its password variable is unset, ValueError if a camera of that
        name runs already.
        """
        stream = choose_stream(camera, self._stream)
        spec = camera_spec(
            self.config,
            camera,
            stream=stream,
            env=self._env,
            stats_interval_s=self._stats_interval_s,
            backoff=self._backoff,
        )
        detection = camera_detection(self.config, camera, stream)
        problem = None
        if spec.recording is not None:
            problem = self._check_folder(spec.recording.directory)
        with self._lock:
            if self._closed:
                raise RuntimeError("the runtime is closed")
            if camera.name in self._entries:
                raise ValueError(f"a camera named {camera.name!r} is already running")
            self._entries[camera.name] = _Entry(camera, detection)
            if spec.recording is not None:
                self._ensure_retention(spec.recording.directory)
            if detection is not None:
                self._ensure_detection()
        if problem is not None:
            self._emit(RuntimeNotice("error", problem, camera.name))
        try:
            self.supervisor.start(spec)
        except (ValueError, CaptureError):
            with self._lock:
                self._entries.pop(camera.name, None)
            raise
        log.info("%s: started (%s stream, %s)", camera.name, stream, _features(camera))

    def remove_camera(self, name: str) -> None:
        """Stop camera ``name`` (returns at once; a STOPPED state event follows)."""
        with self._lock:
            entry = self._entries.pop(name, None)
            if entry is None:
                return
            if entry.detecting and self._detection is not None:
                self._detection.remove_camera(name)
            if self._detection is not None and not any(
                e.detection is not None for e in self._entries.values()
            ):
                # The last camera that detects is gone: so is the detection process.
                self._detection.stop()
                self._retired.append(self._detection)
                self._detection = None
        self.supervisor.stop(name)
        self._detect_stats_at.pop(name, None)

    def cameras(self) -> list[str]:
        """The names of the running cameras."""
        with self._lock:
            return list(self._entries)

    def state(self, name: str) -> CameraState | None:
        """The last capture state camera ``name`` reported."""
        return self.supervisor.state(name)

    def ring_name(self, name: str) -> str | None:
        """The ring camera ``name`` publishes into now, once created."""
        return self.supervisor.ring_name(name)

    @property
    def detection(self) -> DetectionService | None:
        """The detection service, while a camera detects."""
        return self._detection

    def close(self, timeout: float = 10.0) -> bool:
        """Stop everything and wait up to ``timeout`` s; True if everything has ended.

        Capture workers finish their open segments on the way out; no process, thread or
        shared-memory segment is left behind.
        """
        with self._lock:
            if self._closed:
                return True
            self._closed = True
            self._entries.clear()
            detections = [*self._retired, *([self._detection] if self._detection else [])]
            retention = list(self._retention.values())
        self._emit(RuntimeNotice("stopping"))
        deadline = time.monotonic() + timeout
        for detection in detections:
            detection.stop()  # returns at once; joined below, after capture has stopped
        ok = self.supervisor.close(timeout=timeout)
        for detection in detections:
            ok = detection.join(max(0.5, deadline - time.monotonic())) and ok
        for service in retention:
            service.stop(max(0.5, deadline - time.monotonic()))
        if not ok:
            log.warning("runtime: some workers were still running after %.1f s", timeout)
        self._emit(RuntimeNotice("stopped", "" if ok else "some workers did not stop in time"))
        return ok

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- parts (called with self._lock held) -----------------------------------------------

    def _check_folder(self, directory: Path) -> str | None:
        """Why recordings cannot be written into ``directory`` now, or None."""
        with self._lock:
            if directory in self._retention:
                return None  # checked when the first camera recording there started
        try:
            ensure_writable(directory)
        except StorageError as exc:
            # Not fatal: the recorders report it too, retry, and resume once it is fixed.
            log.error("cannot record: %s", exc)
            return str(exc)
        return None

    def _ensure_retention(self, directory: Path) -> None:
        if directory in self._retention:
            return
        service = RetentionService(
            directory,
            RetentionPolicy.from_config(self.config.recording),
            interval_s=self._retention_interval_s,
            on_result=lambda result: self._on_retention(directory, result),
        )
        self._retention[directory] = service.start()

    def _ensure_detection(self) -> None:
        if self._detection is not None:
            return
        service = DetectionService(
            detector_spec(self.config),
            pipeline=pipeline_config(self.config),
            on_message=self._on_detection,
        )
        self._detection = service
        service.start()

    # -- events ------------------------------------------------------------------------------

    def _emit(self, payload: Payload) -> None:
        if self._on_event is None:
            return
        event = RuntimeEvent(payload)
        with self._emit_lock:
            self._on_event(event)

    def _on_capture(self, event: CaptureEvent) -> None:
        """Supervisor thread: route the event, then hand it on."""
        if isinstance(event, RingEvent):
            self._ring_changed(event)
        elif isinstance(event, RecordingEvent):
            self._recording_event(event)
        self._emit(event)

    def _ring_changed(self, event: RingEvent) -> None:
        # Under the lock, so that a remove_camera racing with this cannot leave the camera
        # behind in the detection service. The service only queues these commands.
        with self._lock:
            entry = self._entries.get(event.camera)
            detection = self._detection
            if entry is None or self._closed:
                return
            entry.ring = event.ring_name
            if entry.detection is None or detection is None:
                return
            if entry.detecting:
                detection.update_ring(event.camera, event.ring_name)
                return
            entry.detecting = True
            snapshot = None if self._snapshot_dir is None else JpegSnapshots(self._snapshot_dir)
            detection.add_camera(
                event.camera,
                event.ring_name,
                fps=entry.detection.fps,
                mask=entry.detection.mask,
                snapshot=snapshot,
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
        if isinstance(message, DetectionStats):
            now = time.monotonic()
            last = self._detect_stats_at.get(message.camera)
            # The worker reports about once a second; the caller asked for its own interval.
            if last is not None and now - last < self._stats_interval_s - 0.05:
                return
            self._detect_stats_at[message.camera] = now
        self._emit(message)

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


def _features(camera: Camera) -> str:
    parts = [
        name for name, on in (("recording", camera.record), ("detection", camera.detect)) if on
    ]
    return ", ".join(parts) or "view only"
