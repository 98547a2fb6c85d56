"""The detection worker process and its owner, on real rings with real frames being published."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import psutil
import pytest

from camwall.backoff import BackoffPolicy
from camwall.childproc import Outbox
from camwall.detect import (
    CameraStatus,
    DetectionResult,
    Detections,
    DetectionService,
    DetectionStats,
    DetectorSpec,
    JpegSnapshots,
    Mask,
    Message,
    TrackEvent,
    WorkerStatus,
)
from camwall.detect.spec import PipelineConfig
from camwall.detect.worker import AddCamera, _Worker
from camwall.frames import FrameRing
from support.onnx_models import constant_model, letterbox_params, to_model_space, yolov8_output

W, H = 320, 240
BOX = np.array([[40, 30, 140, 200]], np.float64)  # a person in a 320×240 frame


class Publisher:
    """Publish BGRA frames into a ring from a thread, remembering each frame's capture time."""

    def __init__(self, ring: FrameRing, fps: float = 50.0, size: tuple[int, int] = (W, H)) -> None:
        self.ring = ring
        self.fps = fps
        self.size = size
        self.capture: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-publisher", daemon=True)

    def _run(self) -> None:
        w, h = self.size
        frame = np.full((h, w, 4), 90, np.uint8)
        while not self._stop.is_set():
            now = time.monotonic_ns()
            frame[0, 0, 0] = len(self.capture) % 256
            seq = self.ring.publish(frame, capture_ns=now)
            self.capture[seq] = now
            self._stop.wait(1.0 / self.fps)

    def __enter__(self) -> Publisher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@contextmanager
def ring_of(width: int = W, height: int = H) -> Iterator[FrameRing]:
    ring = FrameRing.create(FrameRing.capacity_for(width, height), slots=4)
    try:
        yield ring
    finally:
        ring.unlink()
        ring.close()


class Inbox:
    """Collects the service's messages; lets a test wait for one that matches."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()

    def __call__(self, msg: Message) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[Message], bool], timeout: float = 60.0) -> Message:
        deadline = time.monotonic() + timeout
        with self._cond:
            start = 0
            while True:
                for msg in self.messages[start:]:
                    if pred(msg):
                        return msg
                start = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = sorted({type(m).__name__ for m in self.messages})
                    raise AssertionError(f"no matching message within {timeout} s; got {kinds}")
                self._cond.wait(left)

    def of(self, kind: type) -> list:
        with self._cond:
            return [m for m in self.messages if isinstance(m, kind)]


@pytest.fixture
def person_model(tmp_path: Path) -> Path:
    """A YOLOv8-layout model that always sees one person at BOX in a 320×240 frame."""
    r, left, top = letterbox_params(W, H)
    out = yolov8_output(to_model_space(BOX, r, left, top), [0], [0.9])
    return constant_model(tmp_path / "person.onnx", out)


@contextmanager
def service(spec: DetectorSpec, inbox: Inbox, **kw: object) -> Iterator[DetectionService]:
    restarts = BackoffPolicy(initial_s=0.2, max_s=2.0, jitter=0.0, healthy_s=30.0)
    svc = DetectionService(spec, on_message=inbox, restart_backoff=restarts, **kw)  # type: ignore[arg-type]
    svc.start()
    try:
        yield svc
    finally:
        svc.stop()
        assert svc.join(30), "detection service did not shut down"


def result_of(camera: str, after_seq: int = 0) -> Callable[[Message], bool]:
    return lambda m: isinstance(m, DetectionResult) and m.camera == camera and m.seq > after_seq


@pytest.mark.slow
def test_results_carry_the_frame_they_were_made_from(person_model: Path, tmp_path: Path) -> None:
    inbox = Inbox()
    with (
        ring_of() as ring,
        Publisher(ring) as pub,
        service(DetectorSpec(model=str(person_model)), inbox) as svc,
    ):
        with pytest.raises(TypeError, match="picklable"):
            svc.add_camera("door", ring.name, snapshot=lambda ev, img: None)
        svc.add_camera("door", ring.name, fps=10, snapshot=JpegSnapshots(tmp_path / "snaps"))
        assert svc.wait_ready(60), svc.failed
        first = inbox.wait_for(result_of("door"))
        assert isinstance(first, DetectionResult)
        results = [first]
        for _ in range(4):
            nxt = inbox.wait_for(result_of("door", results[-1].seq))
            assert isinstance(nxt, DetectionResult)
            results.append(nxt)
        for res in results:
            assert res.capture_ns == pub.capture[res.seq]  # the very frame with that seq
            assert (res.width, res.height) == (W, H)
            dets = res.to_detections()
            assert dets.labels == ("person",)
            np.testing.assert_allclose(dets.boxes[0], BOX[0], atol=1.0)
            assert res.inference_ms > 0 and res.detector == "person"
        appeared = inbox.wait_for(lambda m: isinstance(m, TrackEvent))
        assert isinstance(appeared, TrackEvent)
        assert (appeared.kind, appeared.camera, appeared.label) == ("appeared", "door", "person")
        # The snapshot was taken in the worker from the frame the person appeared in.
        assert appeared.snapshot is not None and appeared.snapshot.endswith(".jpg")
        snap = cv2.imread(appeared.snapshot)
        assert snap is not None and snap.shape == (H, W, 3)
        stats = inbox.wait_for(lambda m: isinstance(m, DetectionStats) and m.frames >= 3)
        assert isinstance(stats, DetectionStats) and stats.target_fps == 10
        assert 0 < stats.fps <= 15  # paced at the camera's target, not flat out
        assert svc.stats()["door"].camera == "door"


@pytest.mark.slow
def test_worker_killed_is_restarted_and_results_resume(person_model: Path) -> None:
    inbox = Inbox()
    with (
        ring_of() as ring,
        Publisher(ring),
        service(DetectorSpec(model=str(person_model)), inbox) as svc,
    ):
        svc.add_camera("yard", ring.name, fps=20)
        seen = inbox.wait_for(lambda m: isinstance(m, TrackEvent) and m.kind == "appeared")
        assert isinstance(seen, TrackEvent)
        pid = svc.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        died = inbox.wait_for(lambda m: isinstance(m, WorkerStatus) and m.state == "died")
        assert isinstance(died, WorkerStatus) and "-9" in died.reason
        before = max(m.seq for m in inbox.of(DetectionResult))
        # The camera table is replayed to the new worker: results come back by themselves.
        inbox.wait_for(result_of("yard", before), timeout=90)
        assert svc.restarts == 1 and svc.pid not in (None, pid)
        # The person the dead worker was tracking is reported gone; the new worker's track of
        # the same person gets a new id.
        left = [m for m in inbox.of(TrackEvent) if m.kind == "left"]
        assert [(m.track_id, m.label) for m in left] == [(seen.track_id, "person")]
        again = inbox.wait_for(
            lambda m: isinstance(m, TrackEvent) and m.kind == "appeared" and m is not seen
        )
        assert isinstance(again, TrackEvent) and again.track_id != seen.track_id
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow
def test_stop_returns_at_once_and_leaves_nothing(person_model: Path) -> None:
    inbox = Inbox()
    with ring_of() as ring, Publisher(ring):
        svc = DetectionService(DetectorSpec(model=str(person_model)), on_message=inbox)
        svc.start()
        svc.add_camera("gate", ring.name, fps=10)
        inbox.wait_for(lambda m: isinstance(m, TrackEvent))
        pid = svc.pid
        t0 = time.monotonic()
        svc.stop()
        assert time.monotonic() - t0 < 1.0  # never blocks the caller (the UI thread)
        assert svc.join(30)
        assert not psutil.pid_exists(pid) if pid else True
        assert not [t for t in threading.enumerate() if t.name.startswith("camwall-detect")]
        stopped = inbox.of(WorkerStatus)[-1]
        assert stopped.state == "stopped"
        # Consumers pairing appeared/left (JSON lines) get a left for every open track.
        events = inbox.of(TrackEvent)
        assert [e.kind for e in events] == ["appeared", "left"]


@pytest.mark.slow
def test_two_cameras_mask_ring_update_and_successor(person_model: Path) -> None:
    inbox = Inbox()
    spec = DetectorSpec(model=str(person_model))
    with (
        ring_of() as r1,
        ring_of() as r2,
        ring_of(640, 480) as r3,
        ring_of(640, 480) as r4,
        Publisher(r1),
        service(spec, inbox) as svc,
    ):
        with Publisher(r2):
            svc.add_camera("a", r1.name, fps=10)
            # Camera b masks the person's centre (90, 115) out.
            square = [(60, 60), (120, 60), (120, 160), (60, 160)]
            svc.add_camera("b", r2.name, fps=10, mask=Mask.of([square]))
            a = inbox.wait_for(result_of("a"))
            b = inbox.wait_for(result_of("b"))
            assert isinstance(a, DetectionResult) and isinstance(b, DetectionResult)
            assert len(a.detections) == 1 and b.detections == []
            inbox.wait_for(lambda m: isinstance(m, TrackEvent) and m.camera == "a")
        # The parent says a's ring was re-created (bigger frames).
        with Publisher(r3, size=(640, 480)):
            svc.update_ring("a", r3.name)
            big = inbox.wait_for(lambda m: result_of("a")(m) and m.width == 640)  # type: ignore[attr-defined]
            assert isinstance(big, DetectionResult) and big.height == 480
        # b's old ring, now silent, names its successor: the worker follows on its own.
        with Publisher(r4, size=(640, 480)):
            r2.set_successor(r4.name)
            moved = inbox.wait_for(lambda m: result_of("b")(m) and m.width == 640)  # type: ignore[attr-defined]
            assert isinstance(moved, DetectionResult)
        svc.remove_camera("a")
        assert svc.cameras == ["b"]
        gone = inbox.wait_for(
            lambda m: isinstance(m, TrackEvent) and m.camera == "a" and m.kind == "left"
        )
        assert isinstance(gone, TrackEvent) and gone.label == "person"
        with pytest.raises(KeyError, match="nobody"):
            svc.update_ring("nobody", r1.name)


@pytest.mark.slow
def test_missing_ring_logs_and_model_failure(
    person_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="camwall")
    inbox = Inbox()
    with service(DetectorSpec(model=str(person_model)), inbox) as svc:
        svc.add_camera("ghost", "camwall-1-deadbeef", fps=5)
        status = inbox.wait_for(lambda m: isinstance(m, CameraStatus) and m.state == "error")
        assert isinstance(status, CameraStatus) and "camwall-1-deadbeef" in status.reason
        # The worker's own log lines arrive in this process's logging.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            "detecting on ghost" in r.getMessage() for r in caplog.records
        ):
            time.sleep(0.05)
        rec = next(r for r in caplog.records if "detecting on ghost" in r.getMessage())
        assert rec.name == "camwall.detect.worker" and rec.processName == "camwall-detect"
    missing = tmp_path / "gone.onnx"
    inbox2 = Inbox()
    with service(DetectorSpec(model=str(missing)), inbox2) as svc:
        failed = inbox2.wait_for(lambda m: isinstance(m, WorkerStatus) and m.state == "failed")
        assert isinstance(failed, WorkerStatus) and str(missing) in failed.reason
        assert not svc.wait_ready(5) and svc.failed and str(missing) in svc.failed
        inbox2.wait_for(lambda m: isinstance(m, WorkerStatus) and m.state == "stopped")
        assert svc.restarts == 0  # a model that cannot load is not retried forever


@pytest.mark.slow
def test_slower_than_asked_skips_and_counts() -> None:
    inbox = Inbox()
    with (
        ring_of() as ring,
        Publisher(ring, fps=100),
        service(DetectorSpec(kind="face"), inbox) as svc,
    ):
        svc.add_camera("busy", ring.name, fps=1000)
        stats = inbox.wait_for(
            lambda m: isinstance(m, DetectionStats) and m.frames > 5 and m.skipped > 0
        )
        assert isinstance(stats, DetectionStats) and stats.fps < 1000


class LappingDetector:
    """A staged detector during whose first ``prepare`` the writer laps the whole ring."""

    name = "lapping"

    def __init__(self, ring: FrameRing) -> None:
        self.ring = ring
        self.prepared: list[int] = []

    def warm_up(self) -> None:
        pass

    def prepare(self, image: np.ndarray) -> int:
        self.prepared.append(int(image[0, 0, 0]))
        if len(self.prepared) == 1:
            for v in range(10, 10 + self.ring.slots):
                self.ring.publish(np.full((H, W, 4), v, np.uint8))
        return int(image[0, 0, 0])

    def infer(self, prepared: int) -> Detections:
        return Detections.build([[0, 0, 10, 10]], [0.9], [0], [f"value {prepared}"])

    def detect(self, image: np.ndarray) -> Detections:
        return self.infer(self.prepare(image))


def test_torn_view_is_re_read_once_as_a_copy() -> None:
    """The worker loop in this process: a frame overwritten mid-prepare is re-read, not used."""
    cmd_r, cmd_w = mp.Pipe(duplex=False)
    out_r, out_w = mp.Pipe(duplex=False)
    with ring_of() as ring:
        ring.publish(np.full((H, W, 4), 1, np.uint8))
        det = LappingDetector(ring)
        worker = _Worker(det, PipelineConfig(), cmd_r, Outbox(out_w))
        try:
            cmd_w.send(AddCamera("cam", ring.name, 5.0))
            worker._commands()
            cam = worker.cameras["cam"]
            worker._serve(cam, time.monotonic())
            newest = ring.latest_seq
            msgs = []
            while out_r.poll():
                msgs.append(out_r.recv())
            (res,) = [m for m in msgs if isinstance(m, DetectionResult)]
            # The first prepare saw frame 1, which was then overwritten: the result is the
            # re-read newest frame (value 10 + slots - 1), never the torn one.
            assert det.prepared == [1, 9 + ring.slots]
            assert res.seq == newest and res.detections[0]["label"] == f"value {9 + ring.slots}"
            assert cam.torn == 1
        finally:
            worker.close()
            for c in (cmd_r, cmd_w, out_r, out_w):
                c.close()


def test_zones_send_entered_after_tracking(person_model: Path) -> None:
    """The worker loop in this process: a confirmed person whose feet are in a zone enters it."""
    from camwall.detect.messages import ZoneEvent
    from camwall.detect.yolo_onnx import OnnxDetector
    from camwall.detect.zones import Zone

    # The person's feet are at (90, 200) of 320×240: (0.28, 0.83). Only "door" holds them.
    door = Zone("door", ((0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (0.0, 1.0)))
    road = Zone("road", ((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)))
    cars = Zone("cars", door.points, labels=frozenset({"car"}))
    cmd_r, cmd_w = mp.Pipe(duplex=False)
    out_r, out_w = mp.Pipe(duplex=False)
    with ring_of() as ring:
        worker = _Worker(OnnxDetector(person_model), PipelineConfig(), cmd_r, Outbox(out_w))
        try:
            cmd_w.send(AddCamera("cam", ring.name, 5.0, zones=(door, road, cars)))
            worker._commands()
            cam = worker.cameras["cam"]
            msgs = []
            for i in range(3):
                ring.publish(np.full((H, W, 4), i, np.uint8))
                worker._serve(cam, time.monotonic())
                while out_r.poll():
                    msgs.append(out_r.recv())
            zone_events = [m for m in msgs if isinstance(m, ZoneEvent)]
            (appeared,) = [m for m in msgs if isinstance(m, TrackEvent)]
            assert [(z.kind, z.zone, z.label) for z in zone_events] == [
                ("entered", "door", "person")
            ]
            assert zone_events[0].track_id == appeared.track_id
            assert zone_events[0].seq == appeared.seq  # entered as soon as it was confirmed
        finally:
            worker.close()
            for c in (cmd_r, cmd_w, out_r, out_w):
                c.close()
