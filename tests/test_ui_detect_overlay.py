"""Detection boxes on a VideoView: where they land (letterbox, zoom, resized rings), fading."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QRect, QRectF

from camwall.detect.messages import DetectionResult
from camwall.frames import FrameRing
from camwall.ui import VideoView
from camwall.ui.view.detection_overlay import DetectionOverlay, label_color, map_box
from camwall.ui.view.view_painting import fit_rect
from support.pixels import GREY_RGB, close, rgb_at

pytestmark = pytest.mark.qt

MakeRing = Callable[..., FrameRing]
BLACK = (0, 0, 0)


class FakeClock:
    """A clock the test moves by hand, so fading is checked without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def grey_frame(width: int, height: int) -> np.ndarray:
    frame = np.empty((height, width, 4), np.uint8)
    frame[:] = (*GREY_RGB, 255)
    return frame


def result(
    boxes: list[tuple[float, float, float, float]],
    size: tuple[int, int] = (320, 180),
    label: str = "person",
    seq: int = 1,
) -> DetectionResult:
    dets = [{"box": list(b), "score": 0.9, "class_id": 0, "label": label} for b in boxes]
    return DetectionResult("cam", seq, 0, size[0], size[1], dets, 3.0, "test")


def shown_view(qtbot: QtBot, ring: FrameRing, width: int, height: int) -> VideoView:
    view = VideoView(ring.name)
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.shown_seq > 0)
    return view


def rgb(color: object) -> tuple[int, int, int]:
    return color.red(), color.green(), color.blue()  # type: ignore[attr-defined]


def edge_hits(image: object, rect: QRectF, want: tuple[int, int, int], tol: int = 12) -> float:
    """Fraction of points along the middle of the box's left and right edges that are ``want``.

    The outline is drawn just inside the box: its first and last pixel columns.
    """
    box = rect.toRect()
    y0, y1 = box.top() + 4, box.bottom() - 4
    points = [(box.left(), y) for y in range(y0, y1)]
    points += [(box.right(), y) for y in range(y0, y1)]
    hits = sum(close(rgb_at(image, x, y), want, tol) for x, y in points)
    return hits / max(1, len(points))


# -- geometry ----------------------------------------------------------------------------------


def test_map_box_letterbox_zoom_and_resized_ring() -> None:
    target = QRect(0, 60, 640, 360)  # a 16:9 picture letterboxed into a 640×480 widget
    whole = QRectF(0, 0, 320, 180)
    # Result and painted frame of the same size: a plain scale by 2 plus the bar offset.
    r = map_box((10, 20, 110, 70), (320, 180), (320, 180), whole, target)
    assert (r.left(), r.top(), r.right(), r.bottom()) == (20, 100, 220, 200)
    # The ring was re-created at 640×360 since the detector saw a 320×180 frame.
    r = map_box((10, 20, 110, 70), (320, 180), (640, 360), QRectF(0, 0, 640, 360), target)
    assert (r.left(), r.top(), r.right(), r.bottom()) == (20, 100, 220, 200)
    # Digital zoom: the right half of the frame shown (source rect 160..320 × 45..135).
    r = map_box((200, 60, 240, 90), (320, 180), (320, 180), QRectF(160, 45, 160, 90), target)
    assert (r.left(), r.top(), r.right(), r.bottom()) == (160, 120, 320, 240)


def test_label_colours_are_fixed_and_distinct() -> None:
    assert rgb(label_color("person")) != rgb(label_color("motion"))
    assert rgb(label_color("some custom label")) == rgb(label_color("some custom label"))


# -- drawing -------------------------------------------------------------------------------------


def test_boxes_are_drawn_where_the_object_is_on_screen(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(320, 180)
    ring.publish(grey_frame(320, 180))
    view = shown_view(qtbot, ring, 640, 480)
    overlay = DetectionOverlay()
    view.add_overlay(overlay)
    overlay.set_result(result([(40, 40, 140, 120)]))
    image = view.grab().toImage()
    target = fit_rect(320, 180, view.rect())
    box = map_box((40, 40, 140, 120), (320, 180), (320, 180), QRectF(0, 0, 320, 180), target)
    person = rgb(label_color("person"))
    assert edge_hits(image, box, person) > 0.9
    # Inside the box the picture shows through; the letterbox stays black.
    assert close(rgb_at(image, int(box.center().x()), int(box.center().y())), GREY_RGB)
    assert rgb_at(image, 320, 10) == BLACK
    assert overlay.drawn_boxes == 1 and overlay.drawn_seq == 1
    assert overlay.cost.paints >= 1 and overlay.cost.mean_us > 0

    # Zoomed into the left half: the same box is twice as large and still where the object is.
    view.set_source_rect_provider(lambda w, h: (0, 0, w / 2, h / 2))
    image = view.grab().toImage()
    zoomed = map_box((40, 40, 140, 120), (320, 180), (320, 180), QRectF(0, 0, 160, 90), target)
    assert zoomed.width() == pytest.approx(2 * box.width())
    assert edge_hits(image, zoomed.intersected(QRectF(target)), person) > 0.9

    # Removed: nothing is drawn any more.
    view.set_source_rect_provider(None)
    view.remove_overlay(overlay)
    image = view.grab().toImage()
    assert edge_hits(image, box, person) == 0


def test_a_box_at_the_frame_edge_never_paints_the_letterbox(
    qtbot: QtBot, make_ring: MakeRing
) -> None:
    ring = make_ring(320, 180)
    ring.publish(grey_frame(320, 180))
    view = shown_view(qtbot, ring, 640, 480)
    overlay = DetectionOverlay()
    view.add_overlay(overlay)
    overlay.set_result(result([(0, 0, 320, 180)], label="car"))
    image = view.grab().toImage()
    target = fit_rect(320, 180, view.rect())
    for y in range(0, target.top()):
        assert rgb_at(image, 320, y) == BLACK, y
    for y in range(target.bottom() + 1, 480):
        assert rgb_at(image, 320, y) == BLACK, y
    assert close(rgb_at(image, 320, target.bottom()), rgb(label_color("car")))


def test_stale_boxes_fade_and_disappear(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(320, 180)
    ring.publish(grey_frame(320, 180))
    view = shown_view(qtbot, ring, 320, 180)
    clock = FakeClock()
    overlay = DetectionOverlay(stale_s=1.0, fade_s=0.5, clock=clock)
    view.add_overlay(overlay)
    overlay.set_result(result([(40, 40, 140, 120)]))
    box = QRectF(40, 40, 100, 80)
    person = rgb(label_color("person"))

    clock.now += 0.9  # still fresh: full colour, no repaint needed for fading
    assert edge_hits(view.grab().toImage(), box, person) > 0.9
    assert overlay.drawn_alpha == 1.0
    assert not overlay.needs_repaint(clock.now)

    clock.now += 0.35  # half-way through the fade: a blend of box colour and picture
    assert overlay.needs_repaint(clock.now)
    image = view.grab().toImage()
    assert overlay.drawn_alpha == pytest.approx(0.5, abs=0.01)
    got = rgb_at(image, 40, 80)
    assert not close(got, person, 20) and not close(got, GREY_RGB, 20)
    for have, full, grey in zip(got, person, GREY_RGB, strict=True):
        assert abs(have - (full + grey) / 2) <= 12

    clock.now += 0.3  # past the fade: gone, and the overlay forgets the result
    assert overlay.needs_repaint(clock.now)  # one last paint to wipe the faded box
    image = view.grab().toImage()
    assert edge_hits(image, box, GREY_RGB) > 0.95
    assert overlay.result is None and overlay.drawn_boxes == 0
    assert not overlay.needs_repaint(clock.now)

    # A new result shows at full strength again.
    overlay.set_result(result([(40, 40, 140, 120)], seq=2))
    assert edge_hits(view.grab().toImage(), box, person) > 0.9
    assert overlay.drawn_seq == 2


def test_many_detections_are_capped_and_stats_lines_join_the_overlay(
    qtbot: QtBot, make_ring: MakeRing
) -> None:
    ring = make_ring(320, 180)
    ring.publish(grey_frame(320, 180))
    view = shown_view(qtbot, ring, 320, 180)
    overlay = DetectionOverlay()
    view.add_overlay(overlay)
    boxes = [(x, y, x + 8, y + 8) for x in range(0, 320, 10) for y in range(0, 180, 10)]
    overlay.set_result(result([(float(a), float(b), float(c), float(d)) for a, b, c, d in boxes]))
    view.grab()
    assert len(boxes) > 500 and overlay.drawn_boxes == 64
    view.add_stats_line(lambda: "detect 5.0/5 fps")
    view.add_stats_line(lambda: "")
    assert view.stats_text().splitlines()[-1] == "detect 5.0/5 fps"
