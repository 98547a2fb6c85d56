"""Detection inside the runtime: one DetectionService for every camera with detection on.

:class:`DetectionHub` keeps the service's camera table in step with the runtime's cameras:
which cameras detect (and how often), which ring each one publishes into now (it changes
when a camera switches between substream and main stream, or its ring is re-created), and
its masks scaled to the stream's size. The service runs only while a camera detects and is
replaced when the detector or the pipeline changes; a replaced service stops at once and is
joined when the runtime closes.

Messages of a replaced service are dropped — except a track's ``left``, so that whoever saw
an object appear also hears that it is gone.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from camwall.backoff import BackoffPolicy
from camwall.detect.masks import Mask
from camwall.detect.messages import Message, TrackEvent
from camwall.detect.service import DetectionService
from camwall.detect.snapshots import JpegSnapshots
from camwall.detect.spec import DetectorSpec, PipelineConfig
from camwall.detect.zones import Zone

log = logging.getLogger(__name__)

Polygon = tuple[tuple[float, float], ...]


@dataclass(eq=False)
class _Detecting:
    name: str
    enabled: bool
    fps: float
    masks: tuple[Polygon, ...]
    zones: tuple[Zone, ...] = ()
    #: The ring the service reads (None: not in the service).
    ring: str | None = None
    #: The ring the camera publishes into now, and the native size of the shown stream.
    current_ring: str | None = None
    size: tuple[int, int] | None = None
    stream: str = "main"
    main_size: tuple[int, int] | None = None
    warned_mask: bool = False
    #: Skip the model (the camera reports no motion; issue 18's detection gate).
    skip: bool = False


class DetectionHub:
    """The runtime's detection; see the module docstring. Thread-safe."""

    def __init__(
        self,
        spec: DetectorSpec,
        pipeline: PipelineConfig,
        deliver: Callable[[Message], None],
    ) -> None:
        """``deliver`` receives every message of the current service (any thread)."""
        self._spec = spec
        self._pipeline = pipeline
        self._deliver = deliver
        self._lock = threading.Lock()
        self._cameras: dict[str, _Detecting] = {}
        self._service: DetectionService | None = None
        self._retired: list[DetectionService] = []
        self._generation = 0
        self._snapshot_dir: Path | None = None
        self._closed = False
        #: How a crashed worker is restarted (None: the service's own policy).
        self.restart_backoff: BackoffPolicy | None = None

    # -- settings --------------------------------------------------------------------------

    @property
    def spec(self) -> DetectorSpec:
        """The detector every camera uses."""
        return self._spec

    @property
    def pipeline(self) -> PipelineConfig:
        """Filtering, tracking and the motion gate."""
        return self._pipeline

    @property
    def snapshot_dir(self) -> Path | None:
        """Where a JPEG is saved when a tracked object appears (None: nowhere)."""
        return self._snapshot_dir

    @property
    def service(self) -> DetectionService | None:
        """The running service (None while no camera detects)."""
        return self._service

    def set_detector(self, spec: DetectorSpec, pipeline: PipelineConfig | None = None) -> None:
        """Use ``spec`` (and ``pipeline``) from now on: a running service is replaced."""
        with self._lock:
            changed = spec != self._spec or (pipeline is not None and pipeline != self._pipeline)
            self._spec = spec
            if pipeline is not None:
                self._pipeline = pipeline
            if changed:
                self._replace_locked()

    def set_motion_gate(self, on: bool) -> None:
        """Run the object detector only where something moves."""
        self.set_detector(self._spec, dataclasses.replace(self._pipeline, gate=on))

    def set_snapshot_dir(self, directory: Path | None) -> None:
        """Save a JPEG into ``directory`` whenever an object appears (None: don't)."""
        with self._lock:
            if directory == self._snapshot_dir:
                return
            self._snapshot_dir = directory
            for cam in self._cameras.values():
                self._remove_locked(cam)  # re-added with the new snapshot callback
            self._sync_all_locked()

    # -- cameras ---------------------------------------------------------------------------

    def add_camera(
        self,
        name: str,
        enabled: bool,
        fps: float,
        masks: tuple[Polygon, ...],
        zones: tuple[Zone, ...] = (),
    ) -> None:
        """Follow camera ``name`` (detecting if ``enabled``)."""
        with self._lock:
            self._cameras[name] = _Detecting(name, enabled, fps, masks, zones)

    def remove_camera(self, name: str) -> None:
        """Forget camera ``name``."""
        with self._lock:
            cam = self._cameras.pop(name, None)
            if cam is not None:
                self._remove_locked(cam)
            self._retire_if_idle_locked()

    def set_enabled(self, name: str, enabled: bool, fps: float | None = None) -> bool:
        """Detection on camera ``name`` on or off; returns True if anything changed."""
        if fps is not None and not fps > 0:
            raise ValueError(f"detection fps must be positive, not {fps}")
        with self._lock:
            cam = self._cameras[name]
            rate = cam.fps if fps is None else float(fps)
            if (enabled, rate) == (cam.enabled, cam.fps):
                return False
            self._remove_locked(cam)
            cam.enabled, cam.fps = enabled, rate
            self._sync_locked(cam)
            self._retire_if_idle_locked()
            return True

    def set_zones(self, name: str, zones: tuple[Zone, ...]) -> None:
        """Camera ``name`` watches ``zones`` from now on; its capture is not touched.

        A detecting camera is re-added to the service: its tracks end ("left") and the
        objects still there appear again, now evaluated against the new zones.
        """
        with self._lock:
            cam = self._cameras[name]
            cam.zones = tuple(zones)
            if cam.ring is not None:
                self._remove_locked(cam)
                self._sync_locked(cam)

    def zones(self, name: str) -> tuple[Zone, ...]:
        """The zones camera ``name`` watches."""
        with self._lock:
            return self._cameras[name].zones

    def set_skip(self, name: str, skip: bool) -> None:
        """Skip the model on camera ``name`` (its tracks age and leave) or run it again."""
        with self._lock:
            cam = self._cameras.get(name)
            if cam is None or cam.skip == skip:
                return
            cam.skip = skip
            if cam.ring is not None and self._service is not None:
                self._service.set_skip(name, skip)

    def is_enabled(self, name: str) -> bool:
        """True if camera ``name`` detects."""
        with self._lock:
            cam = self._cameras.get(name)
            return cam is not None and cam.enabled

    def fps(self, name: str) -> float:
        """Detections per second asked for camera ``name``."""
        with self._lock:
            return self._cameras[name].fps

    def enabled_cameras(self) -> list[str]:
        """The cameras with detection on."""
        with self._lock:
            return [n for n, c in self._cameras.items() if c.enabled]

    def ring_changed(
        self,
        name: str,
        ring: str | None,
        size: tuple[int, int] | None,
        stream: str,
        *,
        main_size: tuple[int, int] | None = None,
    ) -> None:
        """Camera ``name``'s detect frames come from ``ring`` now (None: none), made from
        ``stream`` of native ``size``; ``main_size``: the main stream's, if known otherwise
        (masks are drawn in main-stream pixels)."""
        with self._lock:
            cam = self._cameras.get(name)
            if cam is None:
                return
            cam.current_ring, cam.stream = ring, stream
            if size is not None:
                cam.size = size
                if stream == "main":
                    cam.main_size = size
            if main_size is not None:
                cam.main_size = main_size
            self._sync_locked(cam)

    # -- the service's table (with self._lock held) -----------------------------------------

    def _sync_all_locked(self) -> None:
        for cam in self._cameras.values():
            self._sync_locked(cam)
        self._retire_if_idle_locked()

    def _sync_locked(self, cam: _Detecting) -> None:
        if self._closed:
            return
        ring = cam.current_ring
        if not cam.enabled or not ring:
            self._remove_locked(cam)
            if cam.enabled:
                self._ensure_locked()  # load the model now, not when the first frame is in
            return
        service = self._ensure_locked()
        if cam.ring == ring:
            return
        if cam.ring is not None:
            service.update_ring(cam.name, ring)
            cam.ring = ring
            return
        mask = self._mask(cam)
        if cam.masks and mask is None:
            return  # waiting for the stream's size (the next ring/info event brings it)
        snapshot = JpegSnapshots(self._snapshot_dir) if self._snapshot_dir is not None else None
        service.add_camera(
            cam.name,
            ring,
            fps=cam.fps,
            mask=mask,
            snapshot=snapshot,
            zones=cam.zones,
            skip=cam.skip,
        )
        cam.ring = ring

    def _remove_locked(self, cam: _Detecting) -> None:
        if cam.ring is None:
            return
        cam.ring = None
        if self._service is not None:
            self._service.remove_camera(cam.name)

    def _mask(self, cam: _Detecting) -> Mask | None:
        """The camera's masks, in main-stream pixels, for frames of any size."""
        if not cam.masks:
            return None
        reference = cam.main_size or cam.size
        if reference is None:
            return None
        if cam.main_size is None and not cam.warned_mask:
            cam.warned_mask = True
            log.warning(
                "masks are in main-stream pixels but only the substream has been seen; "
                "they are scaled from the substream's size and may cover the wrong areas",
                extra={"camera": cam.name},
            )
        return Mask.of(cam.masks, reference)

    def _ensure_locked(self) -> DetectionService:
        if self._service is not None:
            return self._service
        self._generation += 1
        generation = self._generation

        def deliver(message: Message) -> None:
            """Service thread: hand on messages of the current service (see module doc)."""
            current = generation == self._generation
            if current or (isinstance(message, TrackEvent) and message.kind == "left"):
                self._deliver(message)

        if self.restart_backoff is not None:
            service = DetectionService(
                self._spec,
                pipeline=self._pipeline,
                on_message=deliver,
                restart_backoff=self.restart_backoff,
            )
        else:
            service = DetectionService(self._spec, pipeline=self._pipeline, on_message=deliver)
        self._service = service
        service.start()
        log.info("detection: starting the %s detector", describe(self._spec))
        return service

    def _replace_locked(self) -> None:
        old, self._service = self._service, None
        if old is None:
            return
        old.stop()
        self._retired.append(old)
        self._generation += 1  # late messages of the old service are dropped
        log.info("detection: switching to the %s detector", describe(self._spec))
        for cam in self._cameras.values():
            cam.ring = None
        self._sync_all_locked()

    def _retire_if_idle_locked(self) -> None:
        if any(c.enabled for c in self._cameras.values()) or self._service is None:
            return
        service, self._service = self._service, None
        service.stop()
        self._retired.append(service)
        log.info("detection: stopped (no camera detects)")

    def reap(self) -> None:
        """Forget replaced services that have ended (any thread, never blocks)."""
        with self._lock:
            self._retired = [s for s in self._retired if not s.join(0)]

    # -- closing -----------------------------------------------------------------------------

    def stop(self) -> list[DetectionService]:
        """Stop every service (returns at once); the caller joins the returned services."""
        with self._lock:
            self._closed = True
            services = [*self._retired, *([self._service] if self._service else [])]
            self._retired, self._service = [], None
        for service in services:
            service.stop()
        return services


def describe(spec: DetectorSpec) -> str:
    """A detector as people call it: ``people``, ``face``, ``motion`` or the model's file name."""
    if spec.kind == "onnx" and spec.model:
        return Path(spec.model).name
    return spec.kind
