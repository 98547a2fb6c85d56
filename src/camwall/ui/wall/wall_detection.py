"""Detection on the wall: one DetectionService for every camera that has detection on.

:class:`WallDetection` follows each tile's ring (``VideoView.ring_changed``: a camera that
starts, stops, switches between substream and main stream, or has its ring re-created at
tile size) and keeps the service's camera table in step with it (``add_camera``,
``update_ring``, ``remove_camera``). The service runs only while at least one camera has
detection on, and is replaced by a new one when another detector is chosen; a replaced
service is stopped at once and joined in the background.

Messages come back through a :class:`~camwall.ui.wall.detection_bridge.DetectionBridge` (queued
signals). Results go to the tile's :class:`~camwall.ui.view.detection_overlay.DetectionOverlay`,
track events to the log (so the log panel shows "[door] person appeared"), stats to a line
in the tile's stats overlay. Nothing here blocks the UI thread: commands to the worker are
pipe writes, stopping returns at once, joining happens on the wall's shutdown thread.

The ``camwall.runtime`` core (used headless) owns a capture supervisor of its own, while the
wall's capture lives in :class:`~camwall.ui.wall.wall_cameras.WallCameras` (substream switching,
tile-sized frames); so the wall drives a DetectionService itself and shares only the
config → detector mapping with the runtime (:mod:`camwall.runtime.specs`).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import QObject, QTimer

from camwall.detect.masks import Mask
from camwall.detect.messages import (
    CameraStatus,
    DetectionResult,
    DetectionStats,
    Message,
    TrackEvent,
    WorkerStatus,
)
from camwall.detect.service import DetectionService
from camwall.detect.snapshots import JpegSnapshots
from camwall.detect.spec import DetectorSpec, PipelineConfig
from camwall.ui.qt_compat import Signal, connect_queued
from camwall.ui.view.detection_overlay import STALE_S, DetectionOverlay
from camwall.ui.wall.detection_bridge import DetectionBridge

if TYPE_CHECKING:
    from camwall.config import Config
    from camwall.ui.wall.tile import CameraTile

log = logging.getLogger(__name__)

Polygon = tuple[tuple[float, float], ...]
#: Detections per second per camera when neither the config nor the caller says.
DEFAULT_FPS = 5.0
#: Housekeeping period: fading boxes on a still picture, joining replaced services.
TICK_MS = 100


@dataclass(frozen=True, slots=True)
class DetectorChoice:
    """A detector the user can pick: its menu text and its spec."""

    text: str
    spec: DetectorSpec


BUILTIN_CHOICES: tuple[DetectorChoice, ...] = (
    DetectorChoice("People (built-in)", DetectorSpec(kind="people")),
    DetectorChoice("Faces (built-in)", DetectorSpec(kind="face")),
    DetectorChoice("Motion", DetectorSpec(kind="motion")),
)


@dataclass(frozen=True, slots=True)
class CameraDetectionSettings:
    """How one camera is detected on when detection is on: rate and masks (main-stream pixels)."""

    enabled: bool = False
    fps: float = DEFAULT_FPS
    masks: tuple[Polygon, ...] = ()


@dataclass(eq=False)
class _Camera:
    name: str
    tile: CameraTile
    overlay: DetectionOverlay
    settings: CameraDetectionSettings
    #: The ring the service reads for this camera (None: not in the service).
    ring: str | None = None
    mask: Mask | None = None
    main_size: tuple[int, int] | None = None
    stats: DetectionStats | None = None
    status: CameraStatus | None = None
    #: Tracks that appeared and have not left: (service generation, track id) → time.
    open_tracks: dict[tuple[int, int], float] = field(default_factory=dict)
    warned_mask: bool = False


class WallDetection(QObject):
    """Runs detection for the wall's tiles; see the module docstring."""

    #: A result was handed to its tile's overlay (a DetectionResult), UI thread.
    result_received = Signal(object)
    #: A track appeared or left (a TrackEvent), after it was logged.
    track_received = Signal(object)
    #: The worker's state changed (a WorkerStatus).
    worker_status_changed = Signal(object)
    #: The detector or the cameras with detection on changed (for menus).
    settings_changed = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        stream_of: Callable[[str], str] | None = None,
        restart_backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        """Detection with the built-in people detector until :meth:`configure` says otherwise.

        ``stream_of(camera)`` says whether a camera shows its "main" stream or its "sub"
        stream (masks are drawn in main-stream pixels).
        """
        super().__init__(parent)
        self._stream_of = stream_of
        self.restart_backoff = restart_backoff
        self._spec = BUILTIN_CHOICES[0].spec
        self._pipeline = PipelineConfig()
        self._model_choice: DetectorChoice | None = None
        self._default_fps = DEFAULT_FPS
        self._configured: dict[str, CameraDetectionSettings] = {}
        self._snapshot_dir: Path | None = None
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.Lock()  # the services: stop() may come from the shutdown thread
        self._service: DetectionService | None = None
        self._retired: list[DetectionService] = []
        self._generation = 0
        self._worker: WorkerStatus | None = None
        self._closing = False
        self._bridge = DetectionBridge(self)
        connect_queued(self._bridge.message_received, self._on_message)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    # -- settings ---------------------------------------------------------------------------

    def configure(self, config: Config) -> None:
        """Take the detector, thresholds and per-camera ``detect`` settings from ``config``."""
        from camwall.runtime.specs import detector_spec, pipeline_config

        spec = detector_spec(config)
        self._pipeline = pipeline_config(config)
        model = config.model_path()
        self._model_choice = (
            DetectorChoice(f"Model: {model.name}", spec) if model is not None else None
        )
        self._default_fps = config.detection.fps
        self._configured = {
            cam.name: CameraDetectionSettings(cam.detect, config.detect_fps(cam), cam.masks)
            for cam in config.cameras
        }
        for cam in self._cameras.values():
            wanted = self._configured.get(cam.name)
            if wanted is not None:
                cam.settings = wanted
                cam.mask = None
                self._apply_tile(cam)
        self.set_detector(spec, force=True)

    def choices(self) -> list[DetectorChoice]:
        """The detectors the user can pick: the built-in ones and the config's model, if any."""
        return [*BUILTIN_CHOICES, *([self._model_choice] if self._model_choice else [])]

    @property
    def detector(self) -> DetectorSpec:
        """The detector every camera uses."""
        return self._spec

    def set_detector(self, spec: DetectorSpec | str, *, force: bool = False) -> None:
        """Use ``spec`` (``people``, ``face``, ``motion`` or an ONNX path) on every camera.

        A running service is replaced: the new one loads the detector while the old one
        stops in the background; boxes of the old detector disappear at once.
        """
        spec = DetectorSpec.parse(spec) if isinstance(spec, str) else spec
        if spec == self._spec and not force:
            return
        self._spec = spec
        self._restart(f"switching to the {describe(spec)} detector")

    @property
    def motion_gate(self) -> bool:
        """True if the object detector runs only where something moves."""
        return self._pipeline.gate

    def set_motion_gate(self, on: bool) -> None:
        """Run the object detector only where something moves (far cheaper on a busy wall)."""
        if on == self._pipeline.gate:
            return
        self._pipeline = dataclasses.replace(self._pipeline, gate=on)
        self._restart(f"motion gate {'on' if on else 'off'}")

    def _restart(self, why: str) -> None:
        """Replace a running service by one with the current detector and pipeline."""
        with self._lock:
            old, self._service = self._service, None
            if old is not None:
                old.stop()
                self._retired.append(old)
        if old is not None:
            log.info("detection: %s", why)
        self._worker = None
        for cam in self._cameras.values():
            cam.ring = None
            cam.stats = cam.status = None
            cam.overlay.clear()
        self._sync_all()
        self.settings_changed.emit()

    @property
    def snapshot_dir(self) -> Path | None:
        """Where a JPEG is saved when a tracked object appears (None: no snapshots)."""
        return self._snapshot_dir

    def set_snapshot_dir(self, directory: Path | None) -> None:
        """Save a JPEG of the frame into ``directory`` whenever an object appears (None: don't)."""
        if directory == self._snapshot_dir:
            return
        self._snapshot_dir = directory
        for cam in self._cameras.values():
            if cam.ring is not None:
                self._remove_from_service(cam)  # re-added below with the new callback
        self._sync_all()
        self.settings_changed.emit()

    # -- cameras ----------------------------------------------------------------------------

    def attach(self, tile: CameraTile) -> DetectionOverlay:
        """Follow ``tile``'s camera: draw its boxes, detect when its settings say so."""
        name = tile.camera
        settings = self._configured.get(name, CameraDetectionSettings(fps=self._default_fps))
        overlay = DetectionOverlay()
        cam = _Camera(name, tile, overlay, settings)
        self._cameras[name] = cam
        tile.add_overlay(overlay)
        tile.add_stats_line(lambda: self.stats_text(name))
        tile.ring_changed.connect(lambda _ring: self._schedule_sync(name))
        tile.detect_toggled.connect(self.set_enabled)
        self._apply_tile(cam)
        self._sync(cam)
        return overlay

    def detach(self, name: str) -> None:
        """Stop detecting on camera ``name`` and forget it (the tile goes away)."""
        cam = self._cameras.pop(name, None)
        if cam is None:
            return
        self._remove_from_service(cam)
        cam.tile.remove_overlay(cam.overlay)
        self._retire_if_idle()

    def camera_names(self) -> list[str]:
        """The cameras followed, in order of :meth:`attach`."""
        return list(self._cameras)

    def is_enabled(self, name: str) -> bool:
        """True if detection is on for camera ``name``."""
        return self._camera(name).settings.enabled

    def enabled_cameras(self) -> list[str]:
        """The cameras with detection on."""
        return [n for n, c in self._cameras.items() if c.settings.enabled]

    def set_enabled(self, name: str, enabled: bool, fps: float | None = None) -> None:
        """Switch detection on camera ``name`` on or off (``fps``: detections per second)."""
        cam = self._camera(name)
        if fps is not None and not fps > 0:
            raise ValueError(f"detection fps must be positive, not {fps}")
        rate = cam.settings.fps if fps is None else float(fps)
        if (enabled, rate) == (cam.settings.enabled, cam.settings.fps):
            return
        if cam.ring is not None:
            self._remove_from_service(cam)
        cam.settings = CameraDetectionSettings(enabled, rate, cam.settings.masks)
        self._apply_tile(cam)
        if enabled:
            log.info(
                "detection on (%s, %g per second)",
                describe(self._spec),
                rate,
                extra={"camera": name},
            )
        else:
            log.info("detection off", extra={"camera": name})
        self._sync(cam)
        self.settings_changed.emit()

    def overlay(self, name: str) -> DetectionOverlay:
        """Camera ``name``'s overlay."""
        return self._camera(name).overlay

    def stats(self, name: str) -> DetectionStats | None:
        """Camera ``name``'s newest detection stats."""
        return self._camera(name).stats

    @property
    def service(self) -> DetectionService | None:
        """The running detection service (None while no camera detects)."""
        return self._service

    @property
    def worker_status(self) -> WorkerStatus | None:
        """The newest status of the current service's worker."""
        return self._worker

    def _camera(self, name: str) -> _Camera:
        try:
            return self._cameras[name]
        except KeyError:
            raise KeyError(f"no camera named {name!r} on the wall") from None

    def _apply_tile(self, cam: _Camera) -> None:
        cam.tile.set_detecting(cam.settings.enabled)
        # At low rates a result must outlive the gap to the next one, or the boxes blink.
        cam.overlay.stale_s = max(STALE_S, 2.5 / cam.settings.fps)
        if not cam.settings.enabled:
            cam.overlay.clear()
            cam.stats = cam.status = None

    # -- the service's camera table ---------------------------------------------------------

    def _schedule_sync(self, name: str) -> None:
        # Later, not inside the tile's event handling: the tile may be in the middle of a
        # stream switch (its ring changes before its stream info does).
        QTimer.singleShot(0, lambda: self._sync_name(name))

    def _sync_name(self, name: str) -> None:
        cam = self._cameras.get(name)
        if cam is not None:
            self._sync(cam)

    def _sync_all(self) -> None:
        for cam in list(self._cameras.values()):
            self._sync(cam)
        self._retire_if_idle()

    def _sync(self, cam: _Camera) -> None:
        """Bring the service's view of ``cam`` in line with its settings and its tile's ring."""
        if self._closing:
            return
        ring = cam.tile.ring_name
        if not cam.settings.enabled or not ring:
            if cam.ring is not None:
                self._remove_from_service(cam)
            if not ring:
                cam.overlay.clear()
            if cam.settings.enabled:
                self._ensure_service()  # load the model now, not when the first frame is in
            self._retire_if_idle()
            return
        service = self._ensure_service()
        if cam.ring == ring:
            return
        if cam.ring is not None:
            service.update_ring(cam.name, ring)
            cam.ring = ring
            return
        mask = self._mask(cam)
        if cam.settings.masks and mask is None:
            return  # waiting for the stream's size; the next tick tries again
        snapshot = JpegSnapshots(self._snapshot_dir) if self._snapshot_dir is not None else None
        service.add_camera(cam.name, ring, fps=cam.settings.fps, mask=mask, snapshot=snapshot)
        cam.ring = ring

    def _remove_from_service(self, cam: _Camera) -> None:
        if cam.ring is None:
            return
        cam.ring = None
        cam.stats = cam.status = None
        cam.overlay.clear()
        with self._lock:
            service = self._service
        if service is not None:
            service.remove_camera(cam.name)

    def _mask(self, cam: _Camera) -> Mask | None:
        """The camera's masks, scaled from main-stream pixels (None until its size is known)."""
        if not cam.settings.masks:
            return None
        if cam.mask is not None:
            return cam.mask
        info = cam.tile.stream_info
        if info is None or not info.width or not info.height:
            return None
        stream = self._stream_of(cam.name) if self._stream_of is not None else "main"
        if stream == "main":
            cam.main_size = (info.width, info.height)
        elif cam.main_size is None and not cam.warned_mask:
            cam.warned_mask = True
            log.warning(
                "masks are in main-stream pixels but only the substream has been seen; "
                "they are scaled from the substream's size and may cover the wrong areas",
                extra={"camera": cam.name},
            )
        cam.mask = Mask.of(cam.settings.masks, cam.main_size or (info.width, info.height))
        return cam.mask

    def _ensure_service(self) -> DetectionService:
        with self._lock:
            if self._service is not None:
                return self._service
            self._generation += 1
            generation = self._generation
            bridge = self._bridge

            def deliver(message: Message) -> None:
                """Service thread: hand the message to the UI thread, tagged."""
                bridge.post(generation, message)

            service = DetectionService(
                self._spec,
                pipeline=self._pipeline,
                on_message=deliver,
                restart_backoff=self.restart_backoff,
            )
            self._service = service
        service.start()
        log.info("detection: starting the %s detector", describe(self._spec))
        return service

    def _retire_if_idle(self) -> None:
        """Stop the service once no camera has detection on (it restarts when one does)."""
        if any(c.settings.enabled for c in self._cameras.values()):
            return
        with self._lock:
            service, self._service = self._service, None
            if service is not None:
                service.stop()
                self._retired.append(service)
        if service is not None:
            self._worker = None
            log.info("detection: stopped (no camera detects)")

    # -- messages (UI thread) -----------------------------------------------------------------

    def _on_message(self, generation: int, message: Message) -> None:
        if self._closing:
            return
        if isinstance(message, TrackEvent) and message.kind == "left":
            # Also from a replaced service, or for a camera that left detection: whoever saw
            # the object appear should hear that it is gone.
            cam = self._cameras.get(message.camera)
            if cam is not None and (generation, message.track_id) in cam.open_tracks:
                self._on_track(cam, generation, message)
            return
        if generation != self._generation:
            return  # from a service that was replaced meanwhile
        if isinstance(message, WorkerStatus):
            self._worker = message
            if message.state == "ready":
                log.info(
                    "detection ready: %s detector (worker pid %s)",
                    message.detector or describe(self._spec),
                    message.pid,
                )
            self.worker_status_changed.emit(message)
            return
        cam = self._cameras.get(message.camera)
        if cam is None or cam.ring is None:
            return  # the camera left detection after the worker sent this
        if isinstance(message, DetectionResult):
            cam.overlay.set_result(message)
            self.result_received.emit(message)
        elif isinstance(message, TrackEvent):
            self._on_track(cam, generation, message)
        elif isinstance(message, DetectionStats):
            cam.stats = message
        elif isinstance(message, CameraStatus):
            if message.state == "error" and (cam.status is None or cam.status != message):
                log.warning("detection: %s", message.reason, extra={"camera": cam.name})
            cam.status = message

    def _on_track(self, cam: _Camera, generation: int, event: TrackEvent) -> None:
        key = (generation, event.track_id)
        if event.kind == "appeared":
            cam.open_tracks[key] = event.time
            saved = f"; snapshot {event.snapshot}" if event.snapshot else ""
            log.info(
                "%s appeared (score %.2f%s)",
                event.label,
                event.best_score,
                saved,
                extra={"camera": cam.name},
            )
        else:
            since = cam.open_tracks.pop(key, None)
            stayed = f" after {event.time - since:.0f} s" if since is not None else ""
            log.info("%s left%s", event.label, stayed, extra={"camera": cam.name})
        self.track_received.emit(event)

    def stats_text(self, name: str) -> str:
        """Camera ``name``'s line in the stats overlay ("" while detection is off)."""
        cam = self._cameras.get(name)
        if cam is None or not cam.settings.enabled:
            return ""
        worker = self._worker
        if worker is not None and worker.state in ("died", "failed", "starting"):
            words = {"died": "worker restarting…", "starting": "starting…", "failed": "failed"}
            reason = f": {worker.reason}" if worker.state == "failed" and worker.reason else ""
            return f"detect: {words[worker.state]}{reason}"
        if cam.status is not None and cam.status.state != "detecting":
            reason = f": {cam.status.reason}" if cam.status.reason else ""
            return f"detect: {cam.status.state}{reason}"
        stats = cam.stats
        if stats is None:
            return "detect: starting…" if cam.ring is not None else "detect: waiting for video"
        return (
            f"detect {stats.fps:.1f}/{stats.target_fps:g} fps · {stats.inference_ms:.0f} ms"
            f" (max {stats.inference_ms_max:.0f}) · skipped {stats.skipped}"
        )

    # -- housekeeping -------------------------------------------------------------------------

    def _tick(self) -> None:
        now = time.monotonic()
        for cam in self._cameras.values():
            if cam.overlay.needs_repaint(now):
                cam.tile.update()
            if cam.settings.enabled and cam.ring is None and cam.tile.ring_name:
                self._sync(cam)  # was waiting for the stream's size (masks)
        with self._lock:
            self._retired = [s for s in self._retired if not s.join(0)]

    # -- closing ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every detection worker; returns at once (any thread). Then :meth:`join`."""
        self._closing = True
        self._bridge.close()
        with self._lock:
            services = [*self._retired, *([self._service] if self._service else [])]
            self._retired, self._service = services, None
        for service in services:
            service.stop()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for every worker to end (any thread); True if all did."""
        deadline = time.monotonic() + timeout
        with self._lock:
            services = list(self._retired)
        ok = all([s.join(max(0.0, deadline - time.monotonic())) for s in services])
        if not ok:
            log.warning("the detection worker was still running after %.1f s", timeout)
        return ok


def describe(spec: DetectorSpec) -> str:
    """A detector as people call it: ``people``, ``face``, ``motion`` or the model's file name."""
    if spec.kind == "onnx" and spec.model:
        return Path(spec.model).name
    return spec.kind
