"""Detection on the wall: overlays, track log lines and menus over the runtime's detection.

The runtime (:mod:`camwall.runtime.detection`) runs the detection service for every camera
with detection on and follows each camera's ring as it changes. :class:`WallDetection` is
the face of it: results go to the tile's
:class:`~camwall.ui.view.detection_overlay.DetectionOverlay`, track events to the log (so
the log panel shows "[door] person appeared"), stats to a line in the tile's stats overlay;
the tile menu and the Detection menu send commands to the runtime. Nothing here blocks the
UI thread and nothing here owns a worker.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import QObject, QTimer

from camwall.detect.messages import (
    CameraStatus,
    DetectionResult,
    DetectionStats,
    TrackEvent,
    WorkerStatus,
    ZoneEvent,
)
from camwall.detect.service import DetectionService
from camwall.detect.spec import DetectorSpec
from camwall.detect.zones import Zone
from camwall.errors import CamwallError
from camwall.runtime import CameraChanged, Runtime, RuntimeEvent
from camwall.runtime.detection import describe
from camwall.ui.qt_compat import Signal
from camwall.ui.view.detection_overlay import STALE_S, DetectionOverlay
from camwall.ui.view.zone_overlay import ZoneOverlay
from camwall.ui.wall.zone_editor import ZoneEditor

if TYPE_CHECKING:
    from camwall.config import Config
    from camwall.ui.wall.tile import CameraTile

log = logging.getLogger(__name__)

#: Housekeeping period: fading boxes on a still picture.
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


@dataclass(eq=False)
class _TileDetection:
    name: str
    tile: CameraTile
    overlay: DetectionOverlay
    zones: ZoneOverlay
    stats: DetectionStats | None = None
    status: CameraStatus | None = None
    #: Tracks that appeared and have not left: track id → time.
    open_tracks: dict[int, float] = field(default_factory=dict)
    #: The zone editor while the tile is in its edit mode.
    editor: ZoneEditor | None = None


class WallDetection(QObject):
    """The wall's face of the runtime's detection; see the module docstring."""

    #: A result was handed to its tile's overlay (a DetectionResult), UI thread.
    result_received = Signal(object)
    #: A track appeared or left (a TrackEvent), after it was logged.
    track_received = Signal(object)
    #: The worker's state changed (a WorkerStatus).
    worker_status_changed = Signal(object)
    #: The detector or the cameras with detection on changed (for menus).
    settings_changed = Signal()
    #: A camera's zones were edited and the runtime uses them (its name): save the config.
    zones_saved = Signal(str)
    #: A zone's highlight changed (a ZoneEvent), after the tile was asked to repaint.
    zone_received = Signal(object)

    def __init__(self, runtime: Runtime, parent: QObject | None = None) -> None:
        """Follow ``runtime``'s detection (events come from :meth:`on_event`)."""
        super().__init__(parent)
        self._runtime = runtime
        self._model_choice: DetectorChoice | None = None
        self._cameras: dict[str, _TileDetection] = {}
        self._worker: WorkerStatus | None = None
        self._closing = False
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.configure(runtime.config)

    # -- settings ---------------------------------------------------------------------------

    def configure(self, config: Config) -> None:
        """Offer the config's model (if any) beside the built-in detectors."""
        model = config.model_path()
        spec = self._runtime.detection.spec
        self._model_choice = (
            DetectorChoice(f"Model: {model.name}", spec)
            if model is not None and spec.kind == "onnx"
            else None
        )

    def choices(self) -> list[DetectorChoice]:
        """The detectors the user can pick: the built-in ones and the config's model, if any."""
        return [*BUILTIN_CHOICES, *([self._model_choice] if self._model_choice else [])]

    @property
    def detector(self) -> DetectorSpec:
        """The detector every camera uses."""
        return self._runtime.detection.spec

    def set_detector(self, spec: DetectorSpec | str) -> None:
        """Use ``spec`` (``people``, ``face``, ``motion`` or an ONNX path) on every camera."""
        before = self._runtime.detection.spec
        self._runtime.set_detector(spec)
        if self._runtime.detection.spec != before:
            self._restarted()

    @property
    def motion_gate(self) -> bool:
        """True if the object detector runs only where something moves."""
        return self._runtime.detection.pipeline.gate

    def set_motion_gate(self, on: bool) -> None:
        """Run the object detector only where something moves (far cheaper on a busy wall)."""
        if on != self.motion_gate:
            self._runtime.detection.set_motion_gate(on)
            self._restarted()

    def _restarted(self) -> None:
        self._worker = None
        for cam in self._cameras.values():
            cam.stats = cam.status = None
            cam.overlay.clear()
            cam.zones.clear_occupancy()
        self.settings_changed.emit()

    @property
    def snapshot_dir(self) -> Path | None:
        """Where a JPEG is saved when a tracked object appears (None: no snapshots)."""
        return self._runtime.detection.snapshot_dir

    def set_snapshot_dir(self, directory: Path | None) -> None:
        """Save a JPEG of the frame into ``directory`` whenever an object appears (None: don't)."""
        self._runtime.detection.set_snapshot_dir(directory)
        self.settings_changed.emit()

    # -- cameras ----------------------------------------------------------------------------

    def attach(self, tile: CameraTile) -> DetectionOverlay:
        """Draw camera ``tile.camera``'s boxes on ``tile``."""
        name = tile.camera
        zones = ZoneOverlay(self._zones_of(name))
        cam = _TileDetection(name, tile, DetectionOverlay(), zones)
        self._cameras[name] = cam
        tile.add_overlay(zones)  # under the boxes
        tile.add_overlay(cam.overlay)
        tile.add_stats_line(lambda: self.stats_text(name))
        tile.detect_toggled.connect(self.set_enabled)
        tile.zones_edit_requested.connect(self._on_edit_zones)
        self._apply_tile(cam)
        return cam.overlay

    def detach(self, name: str) -> None:
        """Forget camera ``name`` (the tile goes away; the runtime stops detecting on it)."""
        cam = self._cameras.pop(name, None)
        if cam is not None:
            if cam.editor is not None:
                cam.editor.close()
            cam.tile.remove_overlay(cam.zones)
            cam.tile.remove_overlay(cam.overlay)

    def camera_names(self) -> list[str]:
        """The cameras followed, in order of :meth:`attach`."""
        return list(self._cameras)

    def is_enabled(self, name: str) -> bool:
        """True if detection is on for camera ``name``."""
        return self._runtime.detection.is_enabled(name)

    def enabled_cameras(self) -> list[str]:
        """The cameras with detection on."""
        return [n for n in self._cameras if self.is_enabled(n)]

    def set_enabled(self, name: str, enabled: bool, fps: float | None = None) -> None:
        """Switch detection on camera ``name`` on or off (``fps``: detections per second)."""
        cam = self._camera(name)
        self._runtime.set_detection(name, enabled, fps)
        self._apply_tile(cam)
        self.settings_changed.emit()

    def overlay(self, name: str) -> DetectionOverlay:
        """Camera ``name``'s overlay."""
        return self._camera(name).overlay

    def zone_overlay(self, name: str) -> ZoneOverlay:
        """Camera ``name``'s zones as drawn on its tile."""
        return self._camera(name).zones

    # -- zones ------------------------------------------------------------------------------

    def _zones_of(self, name: str) -> tuple[Zone, ...]:
        try:
            return self._runtime.camera(name).zones
        except KeyError:
            return ()

    def zone_editor(self, name: str) -> ZoneEditor | None:
        """Camera ``name``'s zone editor while its tile is in the edit mode."""
        return self._camera(name).editor

    def _on_edit_zones(self, name: str) -> None:
        self.edit_zones(name)

    def edit_zones(self, name: str) -> ZoneEditor:
        """Put camera ``name``'s tile in the zone edit mode (see camwall.ui.wall.zone_editor)."""
        cam = self._camera(name)
        if cam.editor is not None and not cam.editor.closed:
            return cam.editor
        editor = ZoneEditor(cam.tile, name, self._zones_of(name))
        cam.editor = editor
        cam.zones.visible = False  # the editor draws the zones meanwhile
        editor.saved.connect(self.set_zones)
        editor.finished.connect(self._editing_ended)
        return editor

    def _editing_ended(self, name: str) -> None:
        cam = self._cameras.get(name)
        if cam is not None:
            cam.editor = None
            self._apply_tile(cam)
            cam.tile.update()

    def set_zones(self, name: str, zones: tuple[Zone, ...]) -> None:
        """Camera ``name`` uses ``zones`` from now on: runtime, tile, then the config file."""
        cam = self._camera(name)
        try:
            self._runtime.set_zones(name, zones)
        except (CamwallError, KeyError) as exc:
            log.error("the zones could not be used: %s", exc, extra={"camera": name})
            return
        cam.zones.set_zones(zones)
        cam.tile.update()
        log.info(
            "zones saved: %s%s",
            ", ".join(z.name for z in zones) or "none",
            "" if self.is_enabled(name) else " (they count while detection is on)",
            extra={"camera": name},
        )
        self.zones_saved.emit(name)

    def _on_zone(self, cam: _TileDetection, event: ZoneEvent) -> None:
        if cam.zones.on_zone_event(event):
            cam.tile.update()
        log.info("%s %s zone %s", event.label, event.kind, event.zone, extra={"camera": cam.name})
        self.zone_received.emit(event)

    def stats(self, name: str) -> DetectionStats | None:
        """Camera ``name``'s newest detection stats."""
        return self._camera(name).stats

    @property
    def service(self) -> DetectionService | None:
        """The runtime's detection service (None while no camera detects)."""
        return self._runtime.detection_service

    @property
    def worker_status(self) -> WorkerStatus | None:
        """The newest status of the current service's worker."""
        return self._worker

    def _camera(self, name: str) -> _TileDetection:
        try:
            return self._cameras[name]
        except KeyError:
            raise KeyError(f"no camera named {name!r} on the wall") from None

    def _apply_tile(self, cam: _TileDetection) -> None:
        enabled = self.is_enabled(cam.name)
        cam.tile.set_detecting(enabled)
        cam.zones.visible = enabled and cam.editor is None
        if not enabled:
            cam.zones.clear_occupancy()
        if enabled:
            # At low rates a result must outlive the gap to the next one, or the boxes blink.
            cam.overlay.stale_s = max(STALE_S, 2.5 / self._runtime.detection.fps(cam.name))
        else:
            cam.overlay.clear()
            cam.stats = cam.status = None

    # -- events (UI thread) -------------------------------------------------------------------

    def on_event(self, event: RuntimeEvent) -> None:
        """A runtime event on the UI thread: results, tracks, stats, worker status."""
        if self._closing:
            return
        message = event.payload
        if isinstance(message, WorkerStatus):
            self._worker = message
            if message.state == "ready":
                log.info(
                    "detection ready: %s detector (worker pid %s)",
                    message.detector or describe(self.detector),
                    message.pid,
                )
            self.worker_status_changed.emit(message)
            return
        if isinstance(message, CameraChanged):
            gone = self._cameras.get(message.camera)
            if gone is not None and not message.running:
                gone.overlay.clear()  # stopped: its boxes go with its picture
                gone.zones.clear_occupancy()
                gone.stats = gone.status = None
            if gone is not None:
                self._follow_zones(gone)
            return
        if not isinstance(
            message, (DetectionResult, TrackEvent, DetectionStats, CameraStatus, ZoneEvent)
        ):
            return
        cam = self._cameras.get(message.camera)
        if cam is None:
            return
        if isinstance(message, TrackEvent):
            if message.kind == "left" and cam.zones.track_left(message.track_id):
                cam.tile.update()
            self._on_track(cam, message)
            return
        if isinstance(message, ZoneEvent):
            if self.is_enabled(cam.name):  # not a late one of a camera that left detection
                self._on_zone(cam, message)
            return
        if not self.is_enabled(cam.name) or not cam.tile.ring_name:
            return  # the camera left detection, or stopped, after the worker sent this
        if isinstance(message, DetectionResult):
            cam.overlay.set_result(message)
            self.result_received.emit(message)
        elif isinstance(message, DetectionStats):
            cam.stats = message
        elif isinstance(message, CameraStatus):
            if message.state == "error" and (cam.status is None or cam.status != message):
                log.warning("detection: %s", message.reason, extra={"camera": cam.name})
            cam.status = message

    def _follow_zones(self, cam: _TileDetection) -> None:
        """Zones changed by another face (a command over MQTT): show the runtime's."""
        zones = self._zones_of(cam.name)
        shown = cam.zones.zones
        if [z.to_table() for z in zones] != [z.to_table() for z in shown]:
            cam.zones.set_zones(zones)
            cam.tile.update()

    def _on_track(self, cam: _TileDetection, event: TrackEvent) -> None:
        if event.kind == "appeared":
            cam.open_tracks[event.track_id] = event.time
            saved = f"; snapshot {event.snapshot}" if event.snapshot else ""
            log.info(
                "%s appeared (score %.2f%s)",
                event.label,
                event.best_score,
                saved,
                extra={"camera": cam.name},
            )
        else:
            since = cam.open_tracks.pop(event.track_id, None)
            if since is None:
                return  # never announced (from before a restart of the wall's view)
            log.info(
                "%s left after %.0f s", event.label, event.time - since, extra={"camera": cam.name}
            )
        self.track_received.emit(event)

    def stats_text(self, name: str) -> str:
        """Camera ``name``'s line in the stats overlay ("" while detection is off)."""
        cam = self._cameras.get(name)
        if cam is None or not self.is_enabled(name):
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
            return "detect: starting…" if cam.tile.ring_name else "detect: waiting for video"
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
        self._runtime.detection.reap()

    def begin_close(self) -> None:
        """Ignore further events (UI thread)."""
        self._closing = True
        self._timer.stop()


__all__ = ["BUILTIN_CHOICES", "DetectorChoice", "WallDetection", "describe"]
