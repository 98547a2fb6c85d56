"""Detection on the wall, end to end with real processes.

A synthetic camera (capture supervisor) → the detection worker (motion detector: the
synthetic box moves) → results through the bridge → boxes drawn on the tile, checked pixel
by pixel where the moving square was in the very frame the result names; the worker killed
with SIGKILL while capture and display carry on; rings re-created under the detector.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QRectF
from qtpy.QtWidgets import QMenu

from camwall.backoff import BackoffPolicy
from camwall.capture import CameraState
from camwall.config import Camera, Config, DetectionConfig
from camwall.detect.messages import DetectionResult, TrackEvent, WorkerStatus
from camwall.frames import FrameRing
from camwall.sources.synthetic import box_rect
from camwall.ui.view.detection_overlay import label_color, map_box
from camwall.ui.view.view_painting import fit_rect
from camwall.ui.wall.main_window import CameraWall
from camwall.ui.wall.tile import CameraTile
from support.pixels import close, rgb_at

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

#: Wide enough that the square moves 3 px a frame (15 px between two 5 fps detections).
CAMERA = "synthetic://yard?width=640&height=360&fps=25"
Box = tuple[float, float, float, float]


class SeqRecorder:
    """Notes the synthetic frame index (pts) of every seq published into a ring.

    A result names its frame by seq; the source skips frame indices when it falls behind,
    so the index of a seq has to be seen, not computed.
    """

    def __init__(self, ring_name: str) -> None:
        self.pts: dict[int, int] = {}
        self._ring = FrameRing.attach(ring_name)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-seq-recorder")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            info = self._ring.latest_info()
            if info is not None and info.pts is not None:
                self.pts[info.seq] = info.pts

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._ring.close()


def wait_streaming(qtbot: QtBot, tile: CameraTile, timeout: int = 30000) -> None:
    qtbot.waitUntil(
        lambda: tile.state is CameraState.STREAMING and tile.shown_seq > 0, timeout=timeout
    )


def menu_action(menu: object, name: str) -> object:
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}  # type: ignore[attr-defined]
    assert name in actions, sorted(actions)
    return actions[name]


def square_box(result: DetectionResult, pts: int) -> Box | None:
    """The detection box around the synthetic square of frame ``pts``, if the result has one."""
    x0, y0, x1, y1 = box_rect(result.width, result.height, pts)
    cx, cy, area = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * (y1 - y0)
    for det in result.detections:
        bx0, by0, bx1, by1 = det["box"]
        # Around the square (motion boxes are dilated), not a merge with far-away motion.
        if bx0 <= cx <= bx1 and by0 <= cy <= by1 and (bx1 - bx0) * (by1 - by0) < 6 * area:
            return (bx0, by0, bx1, by1)
    return None


def rgb(color: object) -> tuple[int, int, int]:
    return color.red(), color.green(), color.blue()  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_motion_boxes_are_drawn_over_the_moving_square(
    qtbot: QtBot, make_wall: Callable[..., CameraWall], tmp_path: Path
) -> None:
    wall = make_wall("process")
    wall.connect_url(CAMERA, name="yard")
    tile = wall.tile("yard")
    wait_streaming(qtbot, tile)
    recorder = SeqRecorder(tile.ring_name or "")
    try:
        # The Detection menu picks the detector and switches snapshots on; the tile's menu
        # switches detection on for this camera.
        menu = wall.findChild(QMenu, "menuDetection")
        assert menu is not None
        menu.refresh()
        motion = next(a for a in menu.actions() if a.text() == "Motion")
        motion.trigger()
        assert wall.detection.detector.kind == "motion"
        menu_action(menu, "detectSnapshotAction").trigger()
        assert wall.detection.snapshot_dir == tmp_path / "snapshots" / "detections"
        tile_menu = tile.context_menu()
        menu_action(tile_menu, "detectAction").trigger()
        tile_menu.deleteLater()
        assert wall.detection.is_enabled("yard") and tile.detecting

        caught: list[tuple[DetectionResult, Box, int, object]] = []

        def on_result(result: DetectionResult) -> None:
            if caught or result.camera != "yard" or result.seq not in recorder.pts:
                return
            box = square_box(result, recorder.pts[result.seq])
            if box is not None:
                # Grab now: the overlay holds this very result.
                caught.append((result, box, recorder.pts[result.seq], tile.grab().toImage()))

        wall.detection.result_received.connect(on_result)
        qtbot.waitUntil(lambda: bool(caught), timeout=60000)
    finally:
        recorder.close()
    result, box, pts, image = caught[0]
    overlay = wall.detection.overlay("yard")
    assert overlay.drawn_seq == result.seq and overlay.drawn_boxes >= 1
    # Where the box is on screen: the result's frame → the painted frame → the tile.
    info = tile.ring.latest_info() if tile.ring is not None else None
    assert info is not None
    target = fit_rect(info.width, info.height, tile.rect())
    full = QRectF(0, 0, info.width, info.height)
    rect = map_box(box, (result.width, result.height), (info.width, info.height), full, target)
    pink = rgb(label_color("motion"))
    on_screen = rect.toRect()  # the outline is its first and last pixel columns
    rows = range(on_screen.top() + 3, on_screen.bottom() - 3)
    edge = [(on_screen.left(), y) for y in rows] + [(on_screen.right(), y) for y in rows]
    hits = sum(close(rgb_at(image, x, y), pink, 16) for x, y in edge)
    assert hits >= 0.9 * len(edge), f"{hits}/{len(edge)} box pixels at {rect} (frame {pts})"
    # ... and nowhere far from it: the only pink is the box (and its label) around the square.
    far_y = int(target.top() + target.height() * 0.2)  # the colour bars: nothing moves there
    assert not any(
        close(rgb_at(image, x, far_y), pink, 16) for x in range(target.left(), target.right())
    )

    # The motion was tracked: the log panel says so, with the snapshot taken in the worker.
    qtbot.waitUntil(lambda: "[yard] motion appeared" in wall.log_panel.shown_text(), timeout=20000)
    shots = tmp_path / "snapshots" / "detections"
    qtbot.waitUntil(lambda: any(shots.glob("yard-motion-*.jpg")), timeout=10000)
    # The stats overlay has the detector's line.
    qtbot.waitUntil(lambda: wall.detection.stats("yard") is not None, timeout=10000)
    assert "detect" in tile.stats_text().splitlines()[-1]
    assert "/5 fps" in tile.stats_text()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_killed_worker_restarts_while_capture_and_display_carry_on(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    # Detection switched on by the config, as `camwall --config` does.
    camera = Camera(name="yard", url=CAMERA, detect=True, detect_fps=5.0)
    wall = make_wall("process", config=Config(detection=DetectionConfig(fps=2.0)))
    wall.detection.set_detector("motion")
    # A visible outage: the boxes must fade in it.
    wall.runtime.detection.restart_backoff = BackoffPolicy(initial_s=2.0, max_s=30.0, jitter=0)
    statuses: list[WorkerStatus] = []
    wall.detection.worker_status_changed.connect(statuses.append)
    wall.add_camera(camera)
    tile = wall.tile("yard")
    assert wall.detection.is_enabled("yard") and tile.detecting
    overlay = wall.detection.overlay("yard")
    qtbot.waitUntil(lambda: overlay.drawn_boxes > 0, timeout=60000)
    service = wall.detection.service
    assert service is not None and service.pid is not None
    first_seq = overlay.drawn_seq

    os.kill(service.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: any(s.state == "died" for s in statuses), timeout=10000)
    died = [s.state for s in statuses].index("died")
    died_at = time.monotonic()
    shown = [tile.shown_seq]
    restarting = False
    seen: list[tuple[float, float, bool]] = []  # (age of the result shown, its alpha, boxes?)
    # While the worker is dead, the picture goes on and the last boxes fade away.
    while not any(s.state == "ready" for s in statuses[died + 1 :]):
        restarting |= "detect: worker restarting" in tile.stats_text()
        tile.repaint()  # paint now, so what the overlay drew is what it draws at this age
        age = time.monotonic() - overlay.received_at
        seen.append((age, overlay.drawn_alpha, overlay.drawn_boxes > 0))
        qtbot.wait(20)
        shown.append(tile.shown_seq)
        assert time.monotonic() - died_at < 60, "the worker was not restarted"
    outage = time.monotonic() - died_at
    assert outage > 1.6, "the restart backoff was not honoured"
    assert shown[-1] > shown[0] + 25 * outage / 2, f"the view stopped painting: {shown}"
    assert all(b >= a for a, b in itertools.pairwise(shown))
    # Full strength for a second, then fading over half a second, then gone.
    stale, fade = overlay.stale_s, overlay.stale_s + overlay.fade_s
    assert all(alpha == 1 and boxes for age, alpha, boxes in seen if age < stale - 0.05), seen
    fading = [(alpha, boxes) for age, alpha, boxes in seen if stale + 0.05 < age < fade - 0.05]
    assert fading and all(0 < alpha < 1 and boxes for alpha, boxes in fading), seen
    late = [boxes for age, _, boxes in seen if age > fade + 0.05]
    assert late and not any(late), f"stale boxes stayed on the live picture: {seen}"
    assert restarting, "the stats overlay did not say the detector is restarting"
    assert [s.state for s in statuses[died:]][:3] == ["died", "starting", "ready"]
    assert wall.detection.service is service and service.restarts == 1

    # Results with new frames come back, drawn again.
    qtbot.waitUntil(
        lambda: overlay.drawn_seq > first_seq and overlay.drawn_boxes > 0, timeout=30000
    )
    assert "detection worker exited unexpectedly" in wall.log_panel.shown_text()
    assert tile.state is CameraState.STREAMING


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_detection_follows_ring_changes_and_stops_when_no_camera_detects(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    wall = make_wall("thread")
    wall.detection.set_detector("motion")
    # In the grid the camera shows its substream; alone, its main stream: another ring. The
    # detector keeps reading the substream (detect_stream "auto"), from whichever worker.
    wall.add_camera(
        Camera(
            name="gate",
            url="synthetic://gate-main?width=640&height=360&fps=25",
            substream_url="synthetic://gate-sub?width=320&height=180&fps=25",
        )
    )
    wall.connect_url("synthetic://other?width=64&height=36&fps=5", name="other")
    wall.detection.set_enabled("gate", True, fps=5)
    tile = wall.tile("gate")
    sizes: list[tuple[int, int]] = []
    events: list[TrackEvent] = []
    wall.detection.result_received.connect(lambda r: sizes.append((r.width, r.height)))
    wall.detection.track_received.connect(events.append)
    qtbot.waitUntil(lambda: (320, 180) in sizes, timeout=60000)
    first_ring = tile.ring_name
    wall.grid.set_focused("gate")
    qtbot.waitUntil(
        lambda: tile.ring_name != first_ring and wall.cameras.stream("gate") == "main",
        timeout=30000,
    )
    mark = len(sizes)
    qtbot.waitUntil(lambda: len(sizes) > mark + 2, timeout=30000)
    assert set(sizes) == {(320, 180)}  # enlarging changed the picture, not what is detected
    service = wall.detection.service
    assert service is not None and service.cameras == ["gate"] and service.restarts == 0

    # Stopping the camera takes it out of detection (its tracks end) but keeps the switch on.
    qtbot.waitUntil(lambda: any(e.kind == "appeared" for e in events), timeout=20000)
    wall.stop_camera("gate")
    qtbot.waitUntil(lambda: service.cameras == [], timeout=5000)
    appeared = {e.track_id for e in events if e.kind == "appeared"}
    qtbot.waitUntil(
        lambda: appeared <= {e.track_id for e in events if e.kind == "left"}, timeout=5000
    )
    qtbot.waitUntil(lambda: "[gate] motion left" in wall.log_panel.shown_text(), timeout=5000)
    assert wall.detection.is_enabled("gate") and wall.detection.overlay("gate").result is None
    assert wall.detection.stats_text("gate") == "detect: waiting for video"
    wall.start_camera("gate")
    qtbot.waitUntil(lambda: service.cameras == ["gate"], timeout=30000)

    # Switching detection off everywhere stops the worker; nothing is left running.
    wall.detection.set_enabled("gate", False)
    assert wall.detection.service is None and wall.detection.stats_text("gate") == ""
    qtbot.waitUntil(lambda: service.join(0), timeout=15000)
    assert service.pid is None


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_config_masks_follow_tile_sized_frames(
    qtbot: QtBot, make_wall: Callable[..., CameraWall]
) -> None:
    """Masks are drawn in main-stream pixels; the detector sees tile-sized frames."""
    url = "synthetic://{}?width=1280&height=720&fps=25"
    # Everything below y=300 of the 1280×720 picture: the moving square and the frame counter
    # (drawn relatively larger in small frames, so it reaches higher up there).
    lower = ((0.0, 300.0), (1280.0, 300.0), (1280.0, 720.0), (0.0, 720.0))
    masked = Camera(name="masked", url=url.format("masked"), detect=True, masks=(lower,))
    plain = Camera(name="plain", url=url.format("plain"), detect=True)
    wall = make_wall("thread")
    wall.detection.set_detector("motion")
    results: dict[str, list[DetectionResult]] = {"masked": [], "plain": []}
    wall.detection.result_received.connect(lambda r: results[r.camera].append(r))
    for camera in (masked, plain):
        wall.add_camera(camera)

    def tile_sized(name: str) -> list[DetectionResult]:
        return [r for r in results[name] if r.width < 1280]

    qtbot.waitUntil(
        lambda: len(tile_sized("masked")) >= 10 and any(r.detections for r in tile_sized("plain")),
        timeout=60000,
    )
    found = [(r.width, r.height, r.detections) for r in tile_sized("masked") if r.detections]
    assert not found, found[:3]


def test_detection_menu_offers_the_configs_model_and_the_built_in_detectors(
    qtbot: QtBot, make_wall: Callable[..., CameraWall], tmp_path: Path
) -> None:
    model = tmp_path / "models" / "yolov8n.onnx"
    wall = make_wall("thread", config=Config(detection=DetectionConfig(model=model)))
    menu = wall.findChild(QMenu, "menuDetection")
    assert menu is not None
    menu.refresh()
    choices = [a for a in menu.actions() if a.objectName().startswith("detectorAction")]
    assert [a.text() for a in choices] == [
        "People (built-in)",
        "Faces (built-in)",
        "Motion",
        "Model: yolov8n.onnx",
    ]
    assert [a.isChecked() for a in choices] == [False, False, False, True]
    assert wall.detection.detector.model == str(model)
    assert not menu_action(menu, "detectNoneAction").isEnabled()  # no camera detects yet
    gate = menu_action(menu, "motionGateAction")
    assert gate.isEnabled() and not gate.isChecked()
    gate.trigger()
    assert wall.detection.motion_gate

    choices[1].trigger()
    assert wall.detection.detector.kind == "face"
    menu.refresh()
    motion = next(a for a in menu.actions() if a.text() == "Motion")
    motion.trigger()
    menu.refresh()
    assert not menu_action(menu, "motionGateAction").isEnabled()  # motion needs no gate
    # Nothing was switched on, so no worker was started for any of this.
    assert wall.detection.service is None
