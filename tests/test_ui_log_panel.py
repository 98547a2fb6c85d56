"""The log panel: records from any thread, level filter, bounded size, no passwords."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from camwall.ui.wall.log_panel import LogPanel

pytestmark = pytest.mark.qt


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[LogPanel]:
    panel = LogPanel(max_lines=500)
    qtbot.addWidget(panel)
    logger = logging.getLogger("camwall.test.ui")
    logger.setLevel(logging.DEBUG)
    panel.install(logger)
    yield panel
    panel.uninstall()
    logger.setLevel(logging.NOTSET)


log = logging.getLogger("camwall.test.ui")


def test_lines_carry_time_level_and_camera(qtbot: QtBot, panel: LogPanel) -> None:
    log.warning("stream stalled after %d s", 3, extra={"camera": "frontdoor"})
    qtbot.waitUntil(lambda: "stream stalled" in panel.shown_text())
    line = panel.shown_text().splitlines()[-1]
    assert line.endswith("[WARNING] [frontdoor] stream stalled after 3 s")
    assert line[2] == ":" and line[8] == "."  # HH:MM:SS.mmm


def test_passwords_never_reach_the_panel(qtbot: QtBot, panel: LogPanel) -> None:
    log.error("cannot open %s", "rtsp://admin:hunter2@10.0.0.9:554/live")
    log.info("retry with password=hunter2")
    qtbot.waitUntil(lambda: len(panel.lines()) == 2)
    text = panel.shown_text()
    assert "hunter2" not in text and "admin" not in text
    assert "rtsp://***@10.0.0.9:554/live" in text


def test_level_filter_hides_and_restores(qtbot: QtBot, panel: LogPanel) -> None:
    log.debug("debug line")
    log.info("info line")
    log.warning("warning line")
    log.error("error line")
    qtbot.waitUntil(lambda: len(panel.lines()) == 4)
    assert "debug line" not in panel.shown_text()  # INFO is the default filter
    panel.level_box.setCurrentText("WARNING")
    assert panel.min_level == logging.WARNING
    assert panel.shown_text().splitlines() == [
        line for line in panel.shown_text().splitlines() if "WARNING" in line or "ERROR" in line
    ]
    assert "info line" not in panel.shown_text() and "error line" in panel.shown_text()
    panel.set_min_level("DEBUG")
    assert panel.level_box.currentText() == "DEBUG"
    assert len(panel.shown_text().splitlines()) == 4
    with pytest.raises(ValueError, match="unknown log level"):
        panel.set_min_level("LOUD")


def test_a_flood_from_threads_stays_bounded(qtbot: QtBot, panel: LogPanel) -> None:
    def spam(tag: str) -> None:
        for i in range(2000):
            log.info("%s line %d", tag, i)

    threads = [threading.Thread(target=spam, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: bool(panel.lines()) and panel.lines()[-1].message.endswith("line 1999"))
    kept = [x.message for x in panel.lines()]
    assert len(kept) == 500
    assert panel.view.document().blockCount() <= 500
    # The newest 500 are kept, none lost in between: each thread's numbers run without gaps.
    for tag in ("a", "b"):
        numbers = [int(m.split()[-1]) for m in kept if m.startswith(f"{tag} ")]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True
    assert sum(m.endswith("line 1999") for m in kept) >= 1


def test_uninstalled_panel_gets_nothing(qtbot: QtBot, panel: LogPanel) -> None:
    panel.uninstall()
    log.error("after uninstall")
    qtbot.wait(20)
    assert panel.lines() == []


def test_a_library_flood_is_one_line_and_a_count(qtbot: QtBot) -> None:
    """zeep logging the same error 200 times shows once, then "repeated" — not 200 lines."""
    panel = LogPanel(max_lines=500)
    qtbot.addWidget(panel)
    zeep = logging.getLogger("zeep.wsdl.bindings.soap")
    panel.install(zeep)
    try:
        for _ in range(200):
            zeep.error("Invalid tag name 'tt:Name'")
        qtbot.waitUntil(lambda: "Invalid tag name" in panel.shown_text())
        assert panel.shown_text().count("Invalid tag name") == 1
        assert panel._collapse is not None
        panel._collapse.window_s = 0.0  # let the window close now, as 60 s would
        panel._flush_repeats()
        qtbot.waitUntil(lambda: "repeated" in panel.shown_text())
        assert len(panel.lines()) == 2
    finally:
        panel.uninstall()
