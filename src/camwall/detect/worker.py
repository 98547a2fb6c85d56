"""The detection worker process: one process serving every camera, newest frame first.

It round-robins the cameras, each at its own target fps (earliest due first). For a camera
that is due it reads the ring's newest frame through a zero-copy view, runs the part of the
pipeline that reads pixels on it, then asks the view whether the writer overwrote the slot
meanwhile; if so it re-reads a private copy once. Capture and display never wait for it:
it only reads rings. When the detector is slower than the cameras ask, due detections are
skipped (and counted), never queued. Results, track events, stats, status and log records
go to the parent as small messages over one pipe (see :mod:`camwall.childproc`).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import cast

import cv2

from camwall.childproc import Child, Outbox
from camwall.detect.base import Detector
from camwall.detect.detections import Detections, Image
from camwall.detect.masks import Mask
from camwall.detect.messages import (
    CameraStatus,
    DetectionResult,
    DetectionStats,
    TrackEvent,
    WorkerStatus,
)
from camwall.detect.pipeline import CameraPipeline
from camwall.detect.spec import DetectorSpec, PipelineConfig, build_detector
from camwall.detect.tracker import IoUTracker
from camwall.detect.yolo_onnx import default_threads
from camwall.detect.zones import Zone, ZoneTracker
from camwall.errors import (
    CamwallError,
    DetectError,
    RingClosedError,
    RingFormatError,
    RingNotFoundError,
)
from camwall.frames import FrameRing, PixelFormat
from camwall.redact import redact

log = logging.getLogger(__name__)

SnapshotFn = Callable[[TrackEvent, Image], "str | None"]
STATS_INTERVAL_S = 1.0
NO_FRAME_POLL_S = 0.02
ATTACH_RETRY_S = 1.0
STALL_S = 3.0
MAX_WAIT_S = 0.5


# -- commands (parent → worker) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddCamera:
    """Start detecting on ``name`` (replaces a camera of that name); ``zones`` send ZoneEvents."""

    name: str
    ring_name: str
    fps: float
    mask: Mask | None = None
    snapshot: SnapshotFn | None = None
    zones: tuple[Zone, ...] = ()
    #: Skip the model (see SkipModel) from the start.
    skip: bool = False


@dataclass(frozen=True, slots=True)
class SkipModel:
    """Skip (or run again) the model on ``name``, e.g. while the camera itself reports no
    motion. Skipped turns still age the tracks, so objects leave as they would unseen."""

    name: str
    skip: bool


@dataclass(frozen=True, slots=True)
class RemoveCamera:
    """Stop detecting on ``name``."""

    name: str


@dataclass(frozen=True, slots=True)
class UpdateRing:
    """Camera ``name``'s ring was re-created under ``ring_name``."""

    name: str
    ring_name: str


Command = AddCamera | RemoveCamera | UpdateRing | SkipModel


# -- per camera ------------------------------------------------------------------------------


class _Camera:
    def __init__(
        self, cmd: AddCamera, detector: Detector, config: PipelineConfig, ids: Iterator[int]
    ) -> None:
        if not cmd.fps > 0:
            raise ValueError(f"camera {cmd.name!r}: fps must be positive, not {cmd.fps}")
        self.name = cmd.name
        self.ring_name = cmd.ring_name
        self.fps = float(cmd.fps)
        self.interval = 1.0 / self.fps
        self.snapshot = cmd.snapshot
        self.pipeline = CameraPipeline(detector, config, cmd.mask)
        self.tracker = IoUTracker(cmd.name, config.tracker, ids=ids)
        self.zones = ZoneTracker(cmd.name, cmd.zones) if cmd.zones else None
        self.ring: FrameRing | None = None
        self.due = time.monotonic()
        self.last_seq = -1
        self.last_new = time.monotonic()
        self.state = ""
        self.reason = ""
        self.frames = self.skipped = self.torn = 0
        self.skip = cmd.skip
        #: Turns the model was skipped on purpose (SkipModel), since the camera was added.
        self.gated = 0
        self.win_start = time.monotonic()
        self.win_frames = 0
        self.win_ms = 0.0
        self.win_max = 0.0

    def close_ring(self) -> None:
        if self.ring is not None:
            self.ring.close()
            self.ring = None


def _as_bgr(array: Image, fmt: PixelFormat) -> Image:
    if fmt in (PixelFormat.BGRA, PixelFormat.BGR):
        return array
    if fmt == PixelFormat.RGB:
        return cast(Image, cv2.cvtColor(array, cv2.COLOR_RGB2BGR))
    flat = array.reshape(array.shape[0], array.shape[1])
    return cast(Image, cv2.cvtColor(flat, cv2.COLOR_GRAY2BGR))


class _Worker:
    def __init__(
        self,
        detector: Detector,
        config: PipelineConfig,
        cmd: Connection,
        sender: Outbox,
        first_track_id: int = 1,
        stopping: threading.Event | None = None,
        wake: Connection | None = None,
    ) -> None:
        self.detector = detector
        self.ids = itertools.count(first_track_id)
        self.config = config
        self.cmd = cmd
        self.sender = sender
        #: Set (by the child's stop watcher) when the owner wants the worker to end.
        self.stopping = stopping or threading.Event()
        #: The stop pipe: it wakes the idle loop at once when the owner asks it to stop.
        self.wake = wake
        self.cameras: dict[str, _Camera] = {}
        self.next_stats = time.monotonic() + STATS_INTERVAL_S

    # -- loop --

    def run(self) -> None:
        waitables = [self.cmd] if self.wake is None else [self.cmd, self.wake]
        while not self.stopping.is_set():
            now = time.monotonic()
            due = min((c.due for c in self.cameras.values()), default=now + MAX_WAIT_S)
            timeout = min(max(0.0, due - now), MAX_WAIT_S, max(0.0, self.next_stats - now))
            try:
                ready = wait(waitables, timeout)
                if self.wake is not None and self.wake in ready:
                    return  # the owner asked us to stop, or died
                if self.cmd in ready:
                    self._commands()
            except (EOFError, OSError):
                return  # the parent closed the command pipe: it is gone or stopping us
            now = time.monotonic()
            if self.cameras:
                cam = min(self.cameras.values(), key=lambda c: c.due)
                if cam.due <= now:
                    self._serve(cam, now)
            if time.monotonic() >= self.next_stats:
                self._send_stats()

    def _commands(self) -> None:
        """Handle every pending command."""
        while self.cmd.poll():
            cmd = self.cmd.recv()
            if isinstance(cmd, AddCamera):
                old = self.cameras.pop(cmd.name, None)
                if old is not None:
                    old.close_ring()
                try:
                    self.cameras[cmd.name] = _Camera(cmd, self.detector, self.config, self.ids)
                except ValueError as exc:
                    self._status_of(cmd.name, "error", str(exc))
                    continue
                log.info("detecting on %s at %.3g fps", cmd.name, cmd.fps)
            elif isinstance(cmd, RemoveCamera):
                cam = self.cameras.pop(cmd.name, None)
                if cam is not None:
                    cam.close_ring()
                    log.info("stopped detecting on %s", cmd.name)
            elif isinstance(cmd, SkipModel):
                cam = self.cameras.get(cmd.name)
                if cam is not None and cam.skip != cmd.skip:
                    cam.skip = cmd.skip
                    log.info("%s: model %s", cmd.name, "skipped" if cmd.skip else "runs again")
            elif isinstance(cmd, UpdateRing):
                cam = self.cameras.get(cmd.name)
                if cam is not None and cam.ring_name != cmd.ring_name:
                    cam.close_ring()
                    cam.ring_name = cmd.ring_name
                    cam.last_seq = -1
                    cam.due = time.monotonic()

    def _status_of(self, name: str, state: str, reason: str = "") -> None:
        self.sender.send(CameraStatus(name, state, reason))  # type: ignore[arg-type]

    def _status(self, cam: _Camera, state: str, reason: str = "") -> None:
        if (state, reason) != (cam.state, cam.reason):
            cam.state, cam.reason = state, reason
            self._status_of(cam.name, state, reason)
            if state == "error":
                log.warning("detection on %s: %s", cam.name, reason)

    # -- one camera --

    def _attach(self, cam: _Camera, now: float) -> FrameRing | None:
        if cam.ring is not None:
            return cam.ring
        try:
            cam.ring = FrameRing.attach(cam.ring_name)
        except (RingNotFoundError, RingFormatError) as exc:
            self._status(cam, "error", str(exc))
            cam.due = now + ATTACH_RETRY_S
            return None
        cam.last_new = now
        return cam.ring

    def _serve(self, cam: _Camera, now: float) -> None:
        late = now - cam.due
        if late >= cam.interval:
            missed = int(late // cam.interval)
            cam.skipped += missed
            cam.due += missed * cam.interval
        if cam.skip:
            self._skip(cam)
            cam.due += cam.interval
            return
        ring = self._attach(cam, now)
        if ring is None:
            return
        try:
            seq = ring.latest_seq
            if seq in (0, cam.last_seq):
                successor = ring.successor
                if successor and successor != cam.ring_name:
                    log.info("%s: following re-created ring %s", cam.name, successor)
                    cam.close_ring()
                    cam.ring_name = successor
                    cam.due = now
                    return
                if now - cam.last_new > STALL_S:
                    self._status(cam, "waiting", "no new frames")
                cam.due = max(cam.due, now + min(cam.interval, NO_FRAME_POLL_S))
                return
            cam.last_new = now
            self._detect(cam, ring)
        except RingClosedError:
            cam.close_ring()
            return
        except (DetectError, cv2.error, ValueError) as exc:
            self._status(cam, "error", f"detection failed: {exc}")
        cam.due += cam.interval

    def _skip(self, cam: _Camera) -> None:
        """A turn without the model: open tracks age as if nothing was seen, and leave."""
        cam.gated += 1
        if not cam.tracker.tracks:
            return
        for ev in cam.tracker.update(Detections.empty(), seq=max(0, cam.last_seq)):
            self.sender.send(ev)

    def _detect(self, cam: _Camera, ring: FrameRing) -> None:
        t0 = time.perf_counter()
        with ring.view_latest() as view:
            if view is None:
                return
            info = view.info
            staged = cam.pipeline.stage(_as_bgr(view.array, info.fmt))
            private: Image | None = None
            if not view.intact():
                cam.torn += 1
                frame = ring.read_latest()
                if frame is None:
                    return
                private = _as_bgr(frame.array, frame.fmt)
                seq, capture_ns, width, height = (
                    frame.seq,
                    frame.capture_ns,
                    frame.width,
                    frame.height,
                )
                staged = cam.pipeline.stage(private)
            else:
                seq, capture_ns, width, height = info.seq, info.capture_ns, info.width, info.height
            out = cam.pipeline.finish(staged)
            ms = (time.perf_counter() - t0) * 1000.0
            snapshot = None
            if cam.snapshot is not None:
                snapshot = self._snapshotter(cam, ring, view.array, view.intact, private, info.fmt)
            events = cam.tracker.update(
                out.detections,
                seq=seq,
                capture_ns=capture_ns,
                region="full" if out.full_frame else out.region,
                snapshot=snapshot,
            )
        cam.last_seq = seq
        cam.frames += 1
        cam.win_frames += 1
        cam.win_ms += ms
        cam.win_max = max(cam.win_max, ms)
        self._status(cam, "detecting")
        self.sender.send(
            DetectionResult(
                cam.name,
                seq,
                capture_ns,
                width,
                height,
                out.detections.to_dicts(),
                round(ms, 2),
                cam.pipeline.name,
                None if out.motion is None else out.motion.to_dicts(),
                out.region,
            )
        )
        for ev in events:
            log.debug("%s: %s %s #%d", cam.name, ev.kind, ev.label, ev.track_id)
            self.sender.send(ev)
        if cam.zones is not None:
            # After tracking, on confirmed tracks; zones are normalised, so any frame size fits.
            for zev in cam.zones.update(
                cam.tracker.confirmed,
                width,
                height,
                now=time.time(),
                capture_ns=capture_ns,
                seq=seq,
            ):
                log.debug("%s: #%d %s %s", cam.name, zev.track_id, zev.kind, zev.zone)
                self.sender.send(zev)

    @staticmethod
    def _snapshotter(
        cam: _Camera,
        ring: FrameRing,
        view: Image,
        intact: Callable[[], bool],
        private: Image | None,
        fmt: PixelFormat,
    ) -> Callable[[TrackEvent], str | None]:
        fn = cam.snapshot
        assert fn is not None

        def take(event: TrackEvent) -> str | None:
            pixels = private
            if pixels is None:
                pixels = _as_bgr(view, fmt).copy()
                if not intact():
                    # Overwritten while copying: the newest frame is the next best picture.
                    frame = ring.read_latest()
                    if frame is None:
                        return None
                    pixels = _as_bgr(frame.array, frame.fmt)
            return fn(event, pixels)

        return take

    def _send_stats(self) -> None:
        now = time.monotonic()
        self.next_stats = now + STATS_INTERVAL_S
        for cam in self.cameras.values():
            span = max(1e-6, now - cam.win_start)
            n = cam.win_frames
            self.sender.send(
                DetectionStats(
                    cam.name,
                    round(n / span, 2),
                    cam.fps,
                    round(cam.win_ms / n, 2) if n else 0.0,
                    round(cam.win_max, 2),
                    cam.frames,
                    cam.skipped,
                    cam.torn,
                    cam.gated,
                )
            )
            cam.win_start, cam.win_frames, cam.win_ms, cam.win_max = now, 0, 0.0, 0.0

    def close(self) -> None:
        for cam in self.cameras.values():
            cam.close_ring()
        self.cameras.clear()


# -- entry point -----------------------------------------------------------------------------


def worker_main(
    spec: DetectorSpec,
    config: PipelineConfig,
    cmd: Connection,
    out: Connection,
    log_level: int,
    first_track_id: int = 1,
    *,
    stop: Connection,
) -> None:
    """Entry point of the detection process (started by ``spawn_child``)."""
    child = Child.bootstrap(out, stop, label="detection worker", log_level=log_level)
    stopping = threading.Event()
    child.run(
        lambda: _serve(spec, config, cmd, child, first_track_id, stopping),
        on_stop=stopping.set,
    )


def _serve(
    spec: DetectorSpec,
    config: PipelineConfig,
    cmd: Connection,
    child: Child,
    first_track_id: int,
    stopping: threading.Event,
) -> None:
    """Load the detector, say whether that worked, then detect until asked to stop."""
    outbox = child.outbox
    pid = os.getpid()
    # OpenCV (letterbox, NMS, the built-in detectors) gets the model's thread budget, not a
    # pool of one thread per core: it runs between inferences, never beside them, and more
    # threads would only compete with capture and display for the cores left free.
    cv2.setNumThreads(spec.threads or default_threads())
    try:
        detector = build_detector(spec)
        detector.warm_up()
    except (CamwallError, ValueError, OSError, cv2.error) as exc:
        outbox.send(WorkerStatus("failed", pid, reason=redact(str(exc))))
        return
    outbox.send(WorkerStatus("ready", pid, detector.name))
    worker = _Worker(detector, config, cmd, outbox, first_track_id, stopping, child.stop_pipe)
    try:
        worker.run()
    finally:
        worker.close()
