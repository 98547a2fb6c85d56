"""The control bridge: results of control-thread futures arrive on the UI thread, later, once."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest
from pytestqt.qtbot import QtBot

from camwall.ui.control.control_bridge import ControlBridge

pytestmark = pytest.mark.qt


def test_callbacks_run_on_the_ui_thread_never_inline(qtbot: QtBot) -> None:
    bridge = ControlBridge()
    seen: list[tuple[str, object]] = []
    ui = threading.current_thread()

    def on_done(f: Future[int]) -> None:
        seen.append((threading.current_thread().name, f.result()))
        assert threading.current_thread() is ui

    done_already: Future[int] = Future()
    done_already.set_result(1)
    bridge.watch(done_already, on_done)
    assert seen == []  # even a finished future is reported later, not inside watch()

    later: Future[int] = Future()
    bridge.watch(later, on_done)
    worker = threading.Thread(target=lambda: later.set_result(2), name="control-like")
    worker.start()
    worker.join()
    bridge.call_soon(lambda: seen.append(("call", 3)))
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert sorted(v for _, v in seen) == [1, 2, 3]
    assert {name for name, _ in seen} == {ui.name, "call"}


def test_nothing_is_delivered_after_close(qtbot: QtBot) -> None:
    bridge = ControlBridge()
    seen: list[int] = []
    pending: Future[int] = Future()
    bridge.watch(pending, lambda f: seen.append(f.result()))
    bridge.call_soon(seen.append, 1)  # queued, not yet run
    bridge.close()
    pending.set_result(2)
    qtbot.wait(50)
    assert seen == [] and bridge.closed
