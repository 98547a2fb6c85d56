"""VideoView: what it paints (checked pixel by pixel), coalescing, torn slots, states, rings."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from camwall.capture.events import CameraState, InfoEvent, RingEvent, StateEvent, StatsEvent
from camwall.errors import RingNotFoundError
from camwall.frames import FrameRing
from camwall.sources.synthetic import background
from camwall.ui import FrameClock, VideoView
from camwall.ui.view.view_painting import BACKGROUNDS, Placeholder
from support.pixels import BAR_RGB, GREY_RGB, bars_match, close, rgb_at

pytestmark = pytest.mark.qt

MakeRing = Callable[..., FrameRing]
BLACK = (0, 0, 0)


def shown_view(qtbot: QtBot, width: int, height: int, ring: str | None = None) -> VideoView:
    view = VideoView(ring)
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view


def settle(qtbot: QtBot, view: VideoView, clock: FrameClock) -> None:
    """Deliver one clock tick and every paint it causes."""
    clock.tick()
    qtbot.wait(1)


# -- pixels -------------------------------------------------------------------------------------


def test_frame_is_scaled_to_fit_with_letterbox_bars(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(320, 180)
    ring.publish(background(320, 180))
    view = shown_view(qtbot, 400, 300, ring.name)
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    image = view.grab().toImage()
    # 16:9 into 400×300: 400×225, centred, 37/38 rows of black above and below.
    assert bars_match(image, 0, 37, 400, 225) == []
    assert close(rgb_at(image, 200, 37 + 225 - 10), GREY_RGB)
    for y in (0, 20, 36, 264, 280, 299):
        assert rgb_at(image, 200, y) == BLACK, y


def test_tall_widget_gets_bars_left_and_right(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(160, 90)
    ring.publish(background(160, 90))
    view = shown_view(qtbot, 400, 100, ring.name)
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    image = view.grab().toImage()
    # 16:9 into 400×100: 178×100 centred at x = 111.
    assert bars_match(image, 111, 0, 178, 100) == []
    for x in (0, 50, 109, 291, 350, 399):
        assert rgb_at(image, x, 50) == BLACK, x


def test_source_rect_shows_part_of_the_frame(qtbot: QtBot, make_ring: MakeRing) -> None:
    """The digital-zoom seam: a provider picks the left half, which then fills the view."""
    ring = make_ring(320, 180)
    ring.publish(background(320, 180))
    view = shown_view(qtbot, 160, 180, ring.name)
    view.set_source_rect_provider(lambda w, h: (0, 0, w / 2, h))
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    view.repaint()
    image = view.grab().toImage()
    # The left half holds bars 0-3, each now 40 px wide across the whole view.
    for i in range(4):
        assert close(rgb_at(image, 20 + 40 * i, 40), BAR_RGB[i]), i


# -- coalescing ---------------------------------------------------------------------------------


def test_a_hundred_frames_between_ticks_cost_one_repaint(
    qtbot: QtBot, make_ring: MakeRing, paused_clock: FrameClock
) -> None:
    ring = make_ring(64, 36)
    view = shown_view(qtbot, 128, 72, ring.name)
    ring.publish(background(64, 36))
    settle(qtbot, view, paused_clock)
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    before = view.paint_count
    frame = background(64, 36)
    for _ in range(100):
        ring.publish(frame)
    qtbot.wait(30)
    assert view.paint_count == before, "a frame must not cause a paint by itself"
    settle(qtbot, view, paused_clock)
    qtbot.waitUntil(lambda: view.paint_count > before)
    qtbot.wait(30)
    assert view.paint_count == before + 1
    assert view.shown_seq == ring.latest_seq == 101
    settle(qtbot, view, paused_clock)  # nothing new: no paint
    qtbot.wait(30)
    assert view.paint_count == before + 1


def test_hidden_views_are_not_polled(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(64, 36)
    view = shown_view(qtbot, 128, 72, ring.name)
    clock = FrameClock.shared()
    assert clock.running and clock.clients >= 1
    clients = clock.clients
    view.hide()
    assert clock.clients == clients - 1


# -- torn slots -----------------------------------------------------------------------------------


class LappedView(VideoView):
    """Publishes a full lap of frames in the middle of its first draw."""

    def __init__(self, ring: FrameRing, frame: np.ndarray) -> None:
        super().__init__(ring.name)
        self.writer = ring
        self.frame = frame
        self.lapped = False

    def _draw_image(self, painter: object, target: object, image: object, source: object) -> None:
        super()._draw_image(painter, target, image, source)  # type: ignore[arg-type]
        if not self.lapped:
            self.lapped = True
            for _ in range(self.writer.slots):
                self.writer.publish(self.frame)


def test_a_slot_overwritten_during_paint_is_repainted_at_once(
    qtbot: QtBot, make_ring: MakeRing, paused_clock: FrameClock
) -> None:
    ring = make_ring(64, 36, slots=3)
    frame = background(64, 36)
    ring.publish(frame)
    view = LappedView(ring, frame)
    qtbot.addWidget(view)
    view.resize(128, 72)
    view.show()
    # No clock ticks: the second paint can only come from the view's own torn-slot update().
    qtbot.waitUntil(lambda: view.torn_count == 1 and view.shown_seq == 4)
    assert view.lapped and ring.latest_seq == 4
    assert view.paint_count >= 2


# -- states ---------------------------------------------------------------------------------------


def colour_share(image: object, rgb: tuple[int, int, int]) -> float:
    w, h = image.width(), image.height()
    hits = total = 0
    for y in range(0, h, 7):
        for x in range(0, w, 7):
            total += 1
            hits += rgb_at(image, x, y) == rgb
    return hits / total


def test_no_signal_picture_with_reason_and_countdown(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(160, 90)
    ring.publish(background(160, 90))
    view = shown_view(qtbot, 320, 180, ring.name)
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    view.apply_event(
        StateEvent("cam1", CameraState.BACKOFF, "connection refused by 10.0.0.7", retry_in_s=3.2)
    )
    assert view.status_lines() == ["No Signal", "connection refused by 10.0.0.7", "retrying in 4 s"]
    view.repaint()
    image = view.grab().toImage()
    bg = BACKGROUNDS[Placeholder.NO_SIGNAL]
    assert colour_share(image, (bg.red(), bg.green(), bg.blue())) > 0.8
    for bar in BAR_RGB[1:7]:  # none of the frame's colours remain
        assert colour_share(image, bar) == 0
    # The countdown counts down on screen, driven by the frame clock alone.
    paints = view.paint_count
    qtbot.waitUntil(lambda: view.status_lines()[-1] == "retrying in 2 s", timeout=3000)
    qtbot.waitUntil(lambda: view.paint_count > paints)
    assert view.state is CameraState.BACKOFF


def test_countdown_starts_when_the_event_was_made(qtbot: QtBot) -> None:
    view = shown_view(qtbot, 160, 90)
    view.apply_event(
        StateEvent("c", CameraState.BACKOFF, "refused", retry_in_s=30, at=time.time() - 10)
    )
    assert view.status_lines() == ["No Signal", "refused", "retrying in 20 s"]


def test_failed_never_says_retrying(qtbot: QtBot) -> None:
    view = shown_view(qtbot, 160, 90)
    view.apply_event(StateEvent("c", CameraState.FAILED, "401 Unauthorized", retry_in_s=30))
    assert view.status_lines() == ["Failed", "401 Unauthorized"]
    assert "retrying" not in view.full_status_text()


@pytest.mark.parametrize(
    ("state", "reason", "kind", "head"),
    [
        (
            CameraState.CONNECTING,
            "connecting to rtsp://***@cam/x",
            Placeholder.CONNECTING,
            "Connecting…",
        ),
        (CameraState.LOST, "stream stalled", Placeholder.NO_SIGNAL, "No Signal"),
        (CameraState.FAILED, "404 Not Found", Placeholder.FAILED, "Failed"),
        (CameraState.STOPPED, "stopped", Placeholder.STOPPED, "Stopped"),
    ],
)
def test_each_state_has_its_picture(
    qtbot: QtBot, state: CameraState, reason: str, kind: Placeholder, head: str
) -> None:
    view = shown_view(qtbot, 320, 180)
    changes: list[object] = []
    view.state_changed.connect(changes.append)
    view.set_state(state, reason)
    assert changes == [state]
    assert view.status_lines()[0] == head
    view.repaint()
    bg = BACKGROUNDS[kind]
    assert colour_share(view.grab().toImage(), (bg.red(), bg.green(), bg.blue())) > 0.8


def test_no_ring_means_no_camera(qtbot: QtBot) -> None:
    view = shown_view(qtbot, 160, 90)
    assert view.status_text() == "No camera"
    assert view.ring_name is None


def test_a_missing_ring_is_a_clear_error(qapp: object) -> None:
    with pytest.raises(RingNotFoundError, match="no frame ring named"):
        VideoView("camwall-1-deadbeef")


def test_streaming_after_no_signal_paints_frames_again(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(160, 90)
    view = shown_view(qtbot, 160, 90, ring.name)
    view.set_state(CameraState.LOST, "gone")
    ring.publish(background(160, 90))
    qtbot.wait(50)
    assert view.shown_seq == 0  # frames are not painted while the camera is lost
    view.set_state(CameraState.STREAMING, "back")
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    assert bars_match(view.grab().toImage(), 0, 0, 160, 90) == []


# -- rings ----------------------------------------------------------------------------------------


def test_ring_event_attaches_and_stopped_detaches(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(160, 90)
    ring.publish(background(160, 90))
    view = shown_view(qtbot, 160, 90)
    names: list[str] = []
    view.ring_changed.connect(names.append)
    view.apply_event(RingEvent("cam", ring.name, 160, 90))
    view.apply_event(StateEvent("cam", CameraState.STREAMING, "ok"))
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    view.apply_event(StateEvent("cam", CameraState.STOPPED, "stopped"))
    assert view.ring is None and names == [ring.name, ""]
    assert view.status_text() == "Stopped"


def test_ring_event_for_a_vanished_ring_shows_why(qtbot: QtBot) -> None:
    view = shown_view(qtbot, 160, 90)
    view.apply_event(RingEvent("cam", "camwall-1-0badf00d", 0, 0))
    assert view.ring is None
    assert view.status_lines()[0] == "No Signal"
    assert "no frame ring named" in view.status_lines()[1]


def test_follows_the_successor_after_a_resolution_change(qtbot: QtBot, make_ring: MakeRing) -> None:
    small = make_ring(64, 36)
    small.publish(background(64, 36))
    view = shown_view(qtbot, 128, 72, small.name)
    qtbot.waitUntil(lambda: view.shown_seq == 1)
    big = make_ring(128, 72)
    big.publish(background(128, 72))
    small.set_successor(big.name)
    qtbot.waitUntil(lambda: view.ring_name == big.name and view.shown_seq == 1, timeout=3000)
    assert bars_match(view.grab().toImage(), 0, 0, 128, 72) == []


# -- stats ----------------------------------------------------------------------------------------


def test_stats_overlay_measures_rates_and_latency(qtbot: QtBot, make_ring: MakeRing) -> None:
    ring = make_ring(64, 36)
    view = shown_view(qtbot, 256, 144, ring.name)
    view.set_stats_visible(True)
    view.apply_event(InfoEvent("c", "synthetic://c", "h264", 64, 36, 25.0, None))
    view.apply_event(StatsEvent("c", 25.0, 25.0, 3, 1.0, 1.0, 800.0, 0, 64, 36))
    frame = background(64, 36)
    deadline = time.monotonic() + 1.6
    while time.monotonic() < deadline:
        ring.publish(frame)
        qtbot.wait(20)
    stats = view.stats()
    assert stats is not None
    assert stats.fps_in > 10 and stats.fps_shown > 10
    assert stats.latency_ms is not None and 0 <= stats.latency_ms < 1000
    assert stats.paint_ms is not None and stats.paint_ms > 0
    assert (stats.width, stats.height) == (64, 36)
    text = view.stats_text()
    assert text.startswith("64×36 · h264") and "shown" in text
    # The worker's 3, plus any the view itself skipped on a busy machine; labelled.
    dropped = re.search(r"dropped (\d+) frames", text)
    assert dropped is not None and int(dropped.group(1)) >= 3, text


def test_frame_clock_ticks_on_notification(qtbot: QtBot) -> None:
    """A watched descriptor drives the clock: a byte in, one tick out; the timer slows down."""
    import os

    from camwall.ui.view.frame_clock import DEFAULT_INTERVAL_MS, FALLBACK_INTERVAL_MS, FrameClock

    clock = FrameClock()
    r, w = os.pipe()
    os.set_blocking(r, False)
    drained: list[bytes] = []

    def drain() -> None:
        try:
            drained.append(os.read(r, 4096))
        except BlockingIOError:
            pass

    try:
        assert clock.interval_ms == DEFAULT_INTERVAL_MS
        clock.watch(r, drain)
        assert clock.interval_ms == FALLBACK_INTERVAL_MS
        ticks = clock.ticks
        os.write(w, b"\x01\x01\x01")
        qtbot.waitUntil(lambda: clock.ticks > ticks, timeout=2000)
        assert drained == [b"\x01\x01\x01"]  # three frames, one read, one tick
        clock.unwatch(r)
        assert clock.interval_ms == DEFAULT_INTERVAL_MS
    finally:
        os.close(r)
        os.close(w)
        clock.deleteLater()
