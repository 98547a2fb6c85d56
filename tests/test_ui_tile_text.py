"""Tiles say what matters at any size: state and reason first, wrapped, the URL last."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QRect, Qt
from qtpy.QtGui import QFontMetrics
from qtpy.QtWidgets import QMessageBox

from camwall.capture.events import CameraState, StateEvent
from camwall.frames import FrameRing
from camwall.sources.synthetic import background
from camwall.ui.view.view_painting import placeholder_layout
from camwall.ui.wall.tile import CameraTile

pytestmark = [pytest.mark.qt, pytest.mark.qt_log_ignore("propagateSizeHints")]

URL = "rtsp://***@127.0.0.1:9/none"
REASON = (
    "127.0.0.1:9 refused the connection: nothing listens on that port "
    "(check the port and that the camera's streaming service is on)"
)


def _flag(flag: object) -> int:
    return int(getattr(flag, "value", flag))  # type: ignore[call-overload]


def shown_tile(qtbot: QtBot, width: int, height: int) -> CameraTile:
    tile = CameraTile("door")
    qtbot.addWidget(tile)
    tile.resize(width, height)
    tile.show()
    qtbot.waitExposed(tile)
    return tile


@pytest.mark.parametrize(
    ("state", "head"), [(CameraState.BACKOFF, "No Signal"), (CameraState.FAILED, "Failed")]
)
def test_reason_is_fully_visible_on_a_small_tile(
    qtbot: QtBot, state: CameraState, head: str
) -> None:
    tile = shown_tile(qtbot, 320, 180)
    tile.set_source_text(URL)
    tile.apply_event(StateEvent("door", state, f"{URL}: {REASON}", retry_in_s=28))
    lines = tile.status_lines()
    # State and reason first, the URL last; the URL is not repeated in front of the reason.
    assert lines[0] == head
    assert lines[1] == REASON
    assert lines[-1] == URL
    assert ("retrying in" in " ".join(lines)) is (state is CameraState.BACKOFF)

    blocks = placeholder_layout(tile.rect(), lines)
    assert [b.text for b in blocks] == lines  # nothing dropped
    wrap = _flag(Qt.AlignmentFlag.AlignHCenter) | _flag(Qt.TextFlag.TextWordWrap)
    for block in blocks:
        assert tile.rect().contains(block.rect), (block.text, block.rect)
        # Measured on its own: the wrapped text needs no more room than it was given.
        needed = QFontMetrics(block.font).boundingRect(
            QRect(0, 0, block.rect.width(), 10_000), wrap, block.text
        )
        assert needed.width() <= block.rect.width(), block.text
        assert needed.height() <= block.rect.height(), block.text
    reason = blocks[1]
    assert reason.rect.height() > QFontMetrics(reason.font).height()  # wrapped, not elided
    assert reason.font.pixelSize() >= 8
    # The painted picture carries text where the layout says (not a blank tile).
    tile.repaint()
    image = tile.grab().toImage()
    r = reason.rect
    colours = {image.pixel(x, r.center().y()) for x in range(r.left(), r.right(), 2)}
    assert len(colours) > 1


def test_hover_and_details_show_the_whole_text(qtbot: QtBot) -> None:
    tile = shown_tile(qtbot, 160, 90)
    tile.set_source_text(URL)
    tile.apply_event(StateEvent("door", CameraState.FAILED, f"{URL}: {REASON}"))
    assert REASON in tile.toolTip() and URL in tile.toolTip()
    assert tile.toolTip().startswith("door\nFailed\n")
    menu = tile.context_menu(running=True)
    details = next(a for a in menu.actions() if a.objectName() == "detailsAction")
    details.trigger()
    box = tile.findChild(QMessageBox, "detailsBox")
    assert box is not None and box.isVisible()
    assert REASON in box.text() and URL in box.text()
    box.close()
    menu.deleteLater()


def test_connecting_names_the_url_once(qtbot: QtBot) -> None:
    tile = shown_tile(qtbot, 320, 180)
    tile.set_source_text(URL)
    tile.set_state(CameraState.CONNECTING, f"connecting to {URL}")
    assert tile.status_lines() == ["Connecting…", URL]


def test_stats_are_labelled_and_hidden_frames_are_not_dropped(
    qtbot: QtBot, make_ring: Callable[..., FrameRing]
) -> None:
    ring = make_ring(64, 36)
    tile = shown_tile(qtbot, 256, 144)
    tile.set_ring(ring.name)
    tile.set_stats_visible(True)
    frame = background(64, 36)
    ring.publish(frame)
    qtbot.waitUntil(lambda: tile.shown_seq == ring.latest_seq)
    tile.hide()
    for _ in range(40):
        ring.publish(frame)
    tile.show()
    qtbot.waitUntil(lambda: tile.shown_seq == ring.latest_seq, timeout=3000)
    deadline = time.monotonic() + 1.5
    while tile.stats() is None and time.monotonic() < deadline:
        qtbot.wait(50)
    text = tile.stats_text()
    assert "dropped 0 frames" in text, text
