#!/usr/bin/env python3
"""The wall's other screenshots, run by scripts/screenshot.py on its Xvfb display.

Usage: screenshot_scenes.py OUTPUT_DIR [review|zones]

Opens the wall over the synthetic demo cameras (dark theme, motion detection on two of
them), then saves: ``events-panel.png`` (the Events panel once real tracks have arrived),
``camera-dialog.png`` (the Add camera dialog, filled in) and ``wall-mode.png`` (only the
tiles, in the 1+5 layout, one camera failing). Everything shown is real: real capture workers, the real detector.
``review.png`` (alone with ``review``, else last): the demo cameras recorded for half a
minute, one of them paused for a while, motion events, then review mode at an instant in
the recording with the timeline under the grid and the recorded events listed.
``zones.png`` (alone with ``zones``): two demo cameras, one with its zones drawn (one lit
by the moving square's track), the other in the zone edit mode with a zone being drawn.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qtpy.QtWidgets import QApplication, QWidget

from camwall.capture import CameraState
from camwall.config import Camera, Config, RecordingConfig
from camwall.demo import demo_cameras
from camwall.runtime import Runtime
from camwall.ui.wall.main_window import CameraWall


def say(message: str) -> None:
    """Report to the terminal (this is a command-line script)."""
    sys.stderr.write(f"screenshot: {message}\n")


def wait(app: QApplication, done: Callable[[], bool], timeout: float) -> bool:
    """Run the event loop until ``done()`` or ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if done():
            return True
        time.sleep(0.02)
    return done()


def save(widget: QWidget, path: Path) -> bool:
    """Grab ``widget`` into ``path``."""
    ok = bool(widget.grab().save(str(path)))
    say(f"{'saved' if ok else 'could not save'} {path}")
    return ok


def review_scene(app: QApplication, out: Path) -> bool:
    """Record the demo cameras a while, then show review mode: ``review.png``."""
    from camwall.testing.rtsp import RtspServer, gst_missing

    reason = gst_missing()
    if reason:
        say(f"no review scene: recordings need the RTSP test server ({reason})")
        return False
    mounts = ("lobby", "garage", "yard", "gate")
    server = RtspServer(mounts, None).start()  # recordings need compressed video: RTSP
    cameras = [Camera(name=m, url=server.url(m)) for m in mounts]
    with tempfile.TemporaryDirectory(prefix="camwall-review-") as tmp:
        config = Config(recording=RecordingConfig(dir=Path(tmp) / "rec", segment_seconds=2.0))
        wall = CameraWall(runtime=Runtime(config), snapshot_dir=Path(tmp) / "snapshots")
        wall.set_theme("dark")
        wall.resize(1440, 900)
        wall.add_cameras([dataclasses.replace(c, record=True) for c in cameras])
        wall.show()
        names = wall.camera_names()
        wall.detection.set_detector("motion")
        wall.detection.set_snapshot_dir(Path(tmp) / "detections")
        for name in names[:2]:
            wall.detection.set_enabled(name, True)
        started = time.time()
        wait(app, lambda: False, 10)
        wall.set_recording(names[-1], False)  # a gap on the last camera's row
        wait(app, lambda: False, 8)
        wall.set_recording(names[-1], True)
        wait(app, lambda: False, 14)
        review = wall.review
        review.set_active(True)
        ok = wait(app, lambda: review.controller.ready, 60)
        timeline = review.panel.timeline
        timeline.set_range(started - 8, 60)
        review.controller.seek_to(started + 14)  # inside the last camera's gap
        timeline.set_selection((started + 4, started + 9))
        review.events.windowBox.setCurrentIndex(3)
        wait(app, lambda: False, 4)
        if not ok:
            say("review did not start in time")
        ok = save(wall, out / "review.png") and ok
        review.set_active(False)
        wall.close()
        wait(app, lambda: wall.is_shut_down, 20)
        wall.shutdown_now()
    server.stop()
    return ok


def zones_scene(app: QApplication, out: Path) -> bool:
    """Zones on a detecting camera (one lit) and the edit mode on another: ``zones.png``."""
    from camwall.detect.zones import Zone
    from camwall.ui.wall.zone_editor import Draft

    ok = True
    with (
        tempfile.TemporaryDirectory(prefix="camwall-zones-") as tmp,
        demo_cameras(rtsp=False) as cameras,
    ):
        wall = CameraWall(runtime=Runtime(Config()), snapshot_dir=Path(tmp) / "snapshots")
        wall.set_theme("dark")
        wall.resize(1440, 640)
        wall.add_cameras(cameras[:2])
        wall.show()
        names = wall.camera_names()
        tiles = [wall.tile(n) for n in names]
        if not wait(
            app, lambda: all(t.state is CameraState.STREAMING and t.shown_seq for t in tiles), 60
        ):
            say("the cameras did not all show video in time")
            ok = False
        wall.detection.set_detector("motion")
        driveway = Zone("driveway", ((0.02, 0.62), (0.98, 0.6), (0.98, 0.98), (0.02, 0.98)))
        door = Zone(
            "door", ((0.62, 0.12), (0.86, 0.1), (0.88, 0.5), (0.6, 0.52)), frozenset({"person"})
        )
        wall.detection.set_zones(names[0], (driveway, door))
        wall.detection.set_enabled(names[0], True)
        overlay = wall.detection.zone_overlay(names[0])
        if not wait(app, lambda: bool(overlay.occupied()), 45):
            say("no track entered a zone in time; no zone is lit")
            ok = False
        editor = wall.detection.edit_zones(names[1])
        # One zone closed and named already, a second one being drawn (three clicks so far).
        editor.drafts.append(Draft("gate", [(0.55, 0.08), (0.9, 0.08), (0.9, 0.45), (0.55, 0.45)]))
        for point in ((0.08, 0.58), (0.45, 0.55), (0.6, 0.95)):
            editor.add_point(point)
        wait(app, lambda: False, 1.0)
        ok = save(wall, out / "zones.png") and ok
        editor.cancel()
        wall.close()
        wait(app, lambda: wall.is_shut_down, 20)
        wall.shutdown_now()
    return ok


def main() -> int:
    """Take the scenes into the folder given on the command line."""
    out = Path(sys.argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    if sys.argv[2:] == ["review"]:
        return 0 if review_scene(app, out) else 1
    if sys.argv[2:] == ["zones"]:
        return 0 if zones_scene(app, out) else 1
    ok = True
    with (
        tempfile.TemporaryDirectory(prefix="camwall-shots-") as tmp,
        demo_cameras(rtsp=False) as cameras,
    ):
        wall = CameraWall(runtime=Runtime(Config()), snapshot_dir=Path(tmp) / "snapshots")
        wall.set_theme("dark")
        wall.resize(1440, 900)
        wall.add_cameras(cameras)
        wall.show()
        tiles = [wall.tile(n) for n in wall.camera_names()]
        live = wait(
            app, lambda: all(t.state is CameraState.STREAMING and t.shown_seq for t in tiles), 60
        )
        if not live:
            say("the cameras did not all show video in time")
            ok = False
        # Real detections: motion on two cameras (their boxes move), snapshots for thumbnails.
        wall.detection.set_detector("motion")
        wall.detection.set_snapshot_dir(Path(tmp) / "detections")
        for name in wall.camera_names()[:2]:
            wall.detection.set_enabled(name, True)
        wall.events_panel.show()
        wall.select_camera(wall.camera_names()[0])
        got = wait(app, lambda: wall.events_panel.list.count() >= 3, 45)
        wait(app, lambda: wall.events_panel.has_thumbnail(0), 5)
        if not got:
            say("no detections arrived in time; the events panel is empty")
        ok = save(wall, out / "events-panel.png") and ok
        wall.events_panel.hide()

        dialog = wall.open_camera_dialog(url="rtsp://admin@192.0.2.10:554/Streaming/Channels/101")
        dialog.name_edit.setText("Front door")
        dialog.sub_edit.setText("rtsp://admin@192.0.2.10:554/Streaming/Channels/102")
        dialog.password_edit.setText("not-a-real-one")
        dialog.record_box.setChecked(True)
        dialog.onvif_group.setChecked(True)
        dialog.main_edit.setFocus()
        wait(app, dialog.isVisible, 5)
        wait(app, lambda: False, 0.3)
        ok = save(dialog, out / "camera-dialog.png") and ok
        dialog.reject()

        # Wall mode in the 1+5 layout, with a camera that cannot connect (nothing on port 9).
        wall.add_camera(Camera(name="porch", url="rtsp://viewer:secret@127.0.0.1:9/live"))
        porch = wall.tile("porch")
        wait(app, lambda: porch.state in (CameraState.BACKOFF, CameraState.FAILED), 20)
        wall.set_grid_mode("1+5")
        wall.select_camera(None)
        wall.set_wall_mode(True)
        wall.resize(1600, 1000)
        wait(app, lambda: False, 2.0)
        ok = save(wall, out / "wall-mode.png") and ok
        wall.set_wall_mode(False)

        wall.close()
        wait(app, lambda: wall.is_shut_down, 20)
        wall.shutdown_now()
    ok = zones_scene(app, out) and ok
    ok = review_scene(app, out) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
