"""Review mode in the wall: every tile shows its camera's recording at the timeline's instant.

Real parts: numbered clips recorded at test time through the real SegmentRecorder
(tests/support/numbered.py: frame n shows n and was recorded at T0 + n/25 s), the runtime's
recordings index, playback worker processes writing into rings the tiles paint, export
through PyAV; Qt offscreen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QPoint, Qt
from qtpy.QtGui import QColor, QImage, QKeySequence

from camwall.capture import CameraState
from camwall.config import Camera, Config, RecordingConfig
from camwall.playback import PlaybackState
from camwall.record.index import RecordingIndex
from camwall.record.records import RecordedEvent
from camwall.ui.view.view_painting import Placeholder
from camwall.ui.wall.main_window import CameraWall
from camwall.ui.wall.tile import CameraTile
from support.numbered import Recording, read_number, record_numbered
from support.stall import StallMeter

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

T0 = datetime(2026, 11, 26, 2, 14, 0, 100000, tzinfo=UTC).timestamp()


def shown_number(tile: CameraTile) -> int | None:
    """The frame number in the picture the tile paints now (None: no frame)."""
    ring = tile.ring
    frame = None if ring is None else ring.read_latest()
    return None if frame is None else read_number(frame.array)


def placeholder(tile: CameraTile) -> Placeholder | None:
    return tile._placeholder()[0]


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Recording, Recording]:
    """door and yard, 12 s each at 25 fps in 3 s segments; yard's second segment is gone."""
    root = tmp_path / "rec"
    door = record_numbered(root, "door", T0, seconds=12, segment_seconds=3)
    yard = record_numbered(root, "yard", T0, seconds=12, segment_seconds=3)
    RecordingIndex.open(root).close()
    yard.segments[1].path.unlink()  # behind the index's back
    return root, door, yard


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_review_seeks_plays_shows_gaps_exports_and_goes_back_to_live(
    qtbot: QtBot,
    make_wall: Callable[..., CameraWall],
    recorded: tuple[Path, Recording, Recording],
    tmp_path: Path,
) -> None:
    root, door, yard = recorded
    wall = make_wall("thread", size=(900, 700), config=Config(recording=RecordingConfig(dir=root)))
    for name in ("door", "yard"):
        wall.add_camera(Camera(name=name, url=f"synthetic://{name}?width=64&height=48&fps=5"))
    tiles = {name: wall.tile(name) for name in ("door", "yard")}
    qtbot.waitUntil(
        lambda: all(t.state is CameraState.STREAMING for t in tiles.values()), timeout=30000
    )
    live_rings = {name: wall.runtime.ring_name(name) for name in tiles}
    review = wall.review
    controller = review.controller

    # View → Review: the tiles show the playback rings, the timeline lists both cameras.
    review.action.trigger()
    qtbot.waitUntil(lambda: controller.ready, timeout=60000)
    group = controller.group
    assert group is not None
    for name, tile in tiles.items():
        assert tile.ring_name == group.players[name].ring_name != live_rings[name]
        assert tile._overlays_hidden  # live detection boxes stay off recordings
    assert review.panel.isVisible() and review.panel.timeline.cameras == ["door", "yard"]
    review.panel.timeline.set_range(T0 - 10, 60)
    qtbot.waitUntil(lambda: bool(review.panel.timeline._spans.get("door")), timeout=10000)
    door_spans = review.panel.timeline._spans["door"]
    assert door_spans[0][0] == pytest.approx(T0, abs=0.05)
    assert len(review.panel.timeline._spans["yard"]) == 2  # the missing segment is a gap

    # A segment file deleted behind the index's back while reviewing: "missing".
    yard.segments[0].path.unlink()
    controller.seek(yard.time_of(30) + 0.01)
    qtbot.waitUntil(lambda: placeholder(tiles["yard"]) is Placeholder.NO_RECORDING, timeout=15000)
    assert "the segment file is missing" in tiles["yard"].status_lines()
    qtbot.waitUntil(lambda: shown_number(tiles["door"]) == 30, timeout=15000)

    # Scrub like a drag: many seeks, the UI thread never stalls; the last one is shown.
    meter = StallMeter()
    meter.start()
    for i in range(20):
        controller.seek(door.time_of(10 + i * 9))
        qtbot.wait(15)
    target = 250
    controller.seek(door.time_of(target) + 0.01)
    qtbot.waitUntil(lambda: shown_number(tiles["door"]) == target, timeout=15000)
    qtbot.waitUntil(lambda: shown_number(tiles["yard"]) == target, timeout=15000)
    worst = meter.stop()
    assert worst < 50, f"the UI thread stalled {worst:.0f} ms during seeks"
    assert placeholder(tiles["door"]) is None

    # A span whose segment is missing: "No recording" on that tile only, never a dialog.
    controller.seek(yard.time_of(110) + 0.01)
    qtbot.waitUntil(lambda: placeholder(tiles["yard"]) is Placeholder.NO_RECORDING, timeout=15000)
    qtbot.waitUntil(lambda: shown_number(tiles["door"]) == 110, timeout=15000)
    assert "No recording" in tiles["yard"].status_lines()
    assert controller.states["yard"] is PlaybackState.NO_RECORDING

    # Play across the boundary at frame 150 (T0 + 6 s): the picture goes on, in order.
    controller.seek(door.time_of(140) + 0.01)
    qtbot.waitUntil(lambda: shown_number(tiles["door"]) == 140, timeout=15000)
    controller.play(2.0)
    seen: list[int] = []

    def past_boundary() -> bool:
        n = shown_number(tiles["door"])
        if n is not None and (not seen or seen[-1] != n):
            seen.append(n)
        return n is not None and n >= 175

    qtbot.waitUntil(past_boundary, timeout=20000)
    controller.pause()
    assert seen == sorted(seen) and seen[0] >= 140
    # The yard left its gap behind: from T0 + 6 s it shows pictures again.
    qtbot.waitUntil(lambda: placeholder(tiles["yard"]) is None, timeout=10000)

    # Export a selected span of both cameras into one folder.
    review.panel.timeline.set_selection((T0 + 2.0, T0 + 5.0))
    assert review.panel.exportButton.isEnabled()
    dialog = review.open_export()
    assert dialog is not None
    out = tmp_path / "clips"
    dialog.folderEdit.setText(str(out))
    dialog.export()
    qtbot.waitUntil(lambda: len(dialog.results) + len(dialog.errors) == 2, timeout=60000)
    qtbot.waitUntil(lambda: dialog.progress.value() == 1000, timeout=5000)
    door_clip = next(r for r in dialog.results if r.camera == "door")
    with av.open(str(door_clip.path)) as clip:
        stream = clip.streams.video[0]
        frames = [f for f in clip.decode(stream)]
    duration = len(frames) / 25
    assert 3.0 - 0.05 <= duration <= 3.0 + 1.0 + 0.05  # snapped back at most one GOP (1 s)
    assert door_clip.path.parent == out

    # Back to live: live rings and states again, playback workers gone.
    review.panel.liveButton.click()
    assert not controller.active and not review.panel.isVisible()
    for name, tile in tiles.items():
        assert tile.ring_name == wall.runtime.ring_name(name)
        assert placeholder(tile) is None
        assert not tile._overlays_hidden
    qtbot.waitUntil(lambda: all(p.pid is None for p in group.players.values()), timeout=10000)
    seq = tiles["door"].ring.latest_seq if tiles["door"].ring else 0
    qtbot.waitUntil(
        lambda: tiles["door"].ring is not None and tiles["door"].ring.latest_seq > seq,
        timeout=10000,
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_timeline_mouse_event_list_jumps_and_steps(
    qtbot: QtBot,
    make_wall: Callable[..., CameraWall],
    recorded: tuple[Path, Recording, Recording],
    tmp_path: Path,
) -> None:
    root, door, _ = recorded
    snapshot = tmp_path / "person.jpg"
    picture = QImage(320, 180, QImage.Format.Format_RGB32)
    picture.fill(QColor(200, 40, 40))
    assert picture.save(str(snapshot), "JPG")
    with RecordingIndex.open(root) as index:
        index.add_event(
            RecordedEvent("door", "detection", "person", T0 + 4.0, T0 + 5.0, 0.9, str(snapshot))
        )
        index.add_event(RecordedEvent("yard", "detection", "car", T0 + 8.0, T0 + 9.0, 0.8))
    wall = make_wall("thread", size=(900, 700), config=Config(recording=RecordingConfig(dir=root)))
    for name in ("door", "yard"):
        wall.add_camera(Camera(name=name, url=f"synthetic://{name}?width=64&height=48&fps=5"))
    door_tile = wall.tile("door")
    review = wall.review
    controller, timeline = review.controller, review.panel.timeline
    assert review.action.shortcut() == QKeySequence("F5")
    assert review.action in wall.menuView.actions()
    review.action.trigger()  # View → Review (F5)
    qtbot.waitUntil(lambda: controller.ready, timeout=60000)
    assert review.action.isChecked()

    # The timeline: a click puts the cursor there and every tile follows.
    timeline.set_range(T0 - 3, 60)
    x = round(timeline.x_of(door.time_of(100) + 0.01))
    y = round(timeline.row_of("door").center().y())
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert timeline.cursor_at == pytest.approx(door.time_of(100), abs=60 / timeline.width())
    qtbot.waitUntil(lambda: abs((shown_number(door_tile) or 0) - 100) <= 2, timeout=15000)
    # The wheel zooms around the pointer, never past 1 min … 24 h.
    for _ in range(10):
        timeline.zoom(1.25, T0)
    start, end = timeline.visible_range
    assert end - start == pytest.approx(60.0)
    timeline.zoom(1e-9)
    start, end = timeline.visible_range
    assert end - start == pytest.approx(24 * 3600.0)
    timeline.set_range(T0 - 3, 60)
    # Shift-drag selects a span for export.
    x0, x1 = round(timeline.x_of(T0 + 1)), round(timeline.x_of(T0 + 6))
    qtbot.mousePress(
        timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(x0, y)
    )
    qtbot.mouseMove(timeline, QPoint(x1, y))
    qtbot.mouseRelease(
        timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(x1, y)
    )
    selection = timeline.selection
    assert selection is not None
    assert selection[0] == pytest.approx(T0 + 1, abs=0.5) and selection[1] == pytest.approx(
        T0 + 6, abs=0.5
    )
    assert review.panel.exportButton.isEnabled()

    # Events are drawn on the timeline and listed with their thumbnail; a click seeks.
    qtbot.waitUntil(lambda: len(timeline.events) == 2, timeout=10000)
    events = review.events
    events.windowBox.setCurrentIndex(3)  # all
    # (The runtime's index also holds the live cameras' state changes: "streaming" now.)
    qtbot.waitUntil(lambda: len(events.rows()) >= 2, timeout=10000)
    rows = events.rows()
    assert "car · yard" in rows[-2] and "person · door" in rows[-1]  # newest first
    qtbot.waitUntil(lambda: events.has_thumbnail(len(rows) - 1), timeout=10000)
    assert not events.has_thumbnail(len(rows) - 2)  # no snapshot
    events.labelEdit.setText("person")
    events.labelEdit.editingFinished.emit()
    qtbot.waitUntil(lambda: len(events.rows()) == 1, timeout=10000)
    item = events.list.item(0)
    assert item is not None
    events.list.itemClicked.emit(item)
    qtbot.waitUntil(lambda: shown_number(door_tile) == 100, timeout=15000)  # T0 + 4 s
    assert timeline.cursor_at == pytest.approx(T0 + 4.0)

    # Next / previous event; one frame forward and back.
    review.panel.nextEventButton.click()
    qtbot.waitUntil(lambda: timeline.cursor_at == pytest.approx(T0 + 8.0), timeout=10000)
    qtbot.waitUntil(lambda: shown_number(door_tile) == 200, timeout=15000)
    review.panel.prevEventButton.click()
    qtbot.waitUntil(lambda: timeline.cursor_at == pytest.approx(T0 + 4.0), timeout=10000)
    qtbot.waitUntil(lambda: shown_number(door_tile) == 100, timeout=15000)
    review.panel.forwardButton.click()
    qtbot.waitUntil(lambda: shown_number(door_tile) == 101, timeout=15000)
    review.panel.backButton.click()
    review.panel.backButton.click()
    qtbot.waitUntil(lambda: shown_number(door_tile) == 99, timeout=15000)

    review.action.trigger()  # F5 again: back to live
    assert not controller.active and not review.action.isChecked()
    assert door_tile.ring_name == wall.runtime.ring_name("door")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_closing_the_wall_in_review_leaves_nothing_behind(
    qtbot: QtBot,
    make_wall: Callable[..., CameraWall],
    recorded: tuple[Path, Recording, Recording],
) -> None:
    """The window closes while its tiles show recordings: playback workers, rings, threads
    all end (the autouse fixture fails the test otherwise)."""
    root, door, _ = recorded
    wall = make_wall("thread", config=Config(recording=RecordingConfig(dir=root)))
    wall.add_camera(Camera(name="door", url="synthetic://door?width=64&height=48&fps=5"))
    wall.review.set_active(True)
    qtbot.waitUntil(lambda: wall.review.controller.ready, timeout=60000)
    wall.review.controller.seek(door.time_of(30) + 0.01)
    qtbot.waitUntil(lambda: shown_number(wall.tile("door")) == 30, timeout=15000)
    group = wall.review.controller.group
    assert group is not None
    wall.close()
    qtbot.waitUntil(lambda: wall.is_shut_down, timeout=20000)
    assert all(p.pid is None for p in group.players.values())


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_recorded_detections_are_drawn_at_their_times(
    qtbot: QtBot,
    make_wall: Callable[..., CameraWall],
    recorded: tuple[Path, Recording, Recording],
) -> None:
    """What the detector found in frame 100 is drawn on frame 100, and not on frame 200."""
    from camwall.detect.messages import DetectionResult

    root, door, _ = recorded
    person = {"box": [40.0, 30.0, 120.0, 200.0], "score": 0.9, "class_id": 0, "label": "person"}
    with RecordingIndex.open(root) as index:
        index.detection_result(
            DetectionResult("door", 100, 0, 320, 240, [person], 1.0, "test", None, None),
            at=door.time_of(100),
        )
    wall = make_wall("thread", size=(900, 700), config=Config(recording=RecordingConfig(dir=root)))
    wall.add_camera(Camera(name="door", url="synthetic://door?width=64&height=48&fps=5"))
    tile = wall.tile("door")
    controller = wall.review.controller
    wall.review.action.trigger()
    qtbot.waitUntil(lambda: controller.ready, timeout=60000)
    boxes = controller._boxes["door"]
    controller.seek(door.time_of(100) + 0.01)
    qtbot.waitUntil(lambda: shown_number(tile) == 100, timeout=15000)
    qtbot.waitUntil(lambda: (tile.repaint(), boxes.drawn)[1] > 0, timeout=10000)
    drawn = boxes.drawn
    controller.seek(door.time_of(200) + 0.01)
    qtbot.waitUntil(lambda: shown_number(tile) == 200, timeout=15000)
    tile.repaint()
    assert boxes.drawn == drawn  # nothing recorded near frame 200
    wall.review.action.trigger()  # back to live
    qtbot.waitUntil(lambda: not controller.active, timeout=15000)
