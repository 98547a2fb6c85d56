"""The child-process helper with real spawned processes: stop pipe, signals, logs, restarts."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator

import pytest

from camwall.backoff import BackoffPolicy
from camwall.childproc import (
    CTX,
    ChildProcess,
    LogRecordMessage,
    RestartBackoff,
    log_forwarded,
    spawn_child,
)
from support.childprocs import worker


class Running:
    """A spawned test worker and the owner's end of its message pipe."""

    def __init__(self, mode: str, kill_after_s: float = 1.0) -> None:
        self.messages, events = CTX.Pipe(duplex=False)
        self.child: ChildProcess = spawn_child(
            worker,
            (events, mode),
            name="camwall-test-child",
            label="test worker",
            child_ends=(events,),
            kill_after_s=kill_after_s,
        )
        self.received: list[object] = []

    def wait_for(self, wanted: object, timeout: float = 60.0) -> None:
        """Read messages until ``wanted`` arrives (log records are handed to logging)."""
        deadline = time.monotonic() + timeout
        while wanted not in self.received:
            left = deadline - time.monotonic()
            assert left > 0, f"no {wanted!r} within {timeout} s: {self.received}"
            if self.messages.poll(min(left, 0.1)):
                message = self.messages.recv()
                if isinstance(message, LogRecordMessage):
                    log_forwarded(message, camera="test")
                self.received.append(message)

    def finish(self, timeout: float = 20.0) -> int | None:
        """Read everything until the child has exited; its exit code."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.child.enforce_stop()
            try:
                if self.messages.poll(0.05):
                    message = self.messages.recv()
                    if isinstance(message, LogRecordMessage):
                        log_forwarded(message)
                    self.received.append(message)
                    continue
            except EOFError:
                pass
            if not self.child.is_alive():
                break
        self.child.join(1.0)
        return self.child.exitcode

    def logs(self) -> list[LogRecordMessage]:
        return [m for m in self.received if isinstance(m, LogRecordMessage)]


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for run in started:
        if run.child.is_alive():
            run.child.kill()
            run.child.join(5)
        run.child.close()
        run.messages.close()


def start(started: list[Running], mode: str, kill_after_s: float = 1.0) -> Running:
    run = Running(mode, kill_after_s)
    started.append(run)
    run.wait_for("ready")
    return run


@pytest.mark.slow
def test_logs_arrive_redacted_and_closing_the_stop_pipe_stops_the_child(
    running: list[Running], caplog: pytest.LogCaptureFixture
) -> None:
    """The child's log record reaches this process's logging with its origin and without the
    password; SIGINT and SIGHUP leave it running; closing the stop pipe ends it cleanly."""
    caplog.set_level(logging.INFO, logger="camwall.test")
    run = start(running, "wait")
    (line,) = run.logs()
    assert line.name == "camwall.test.child" and line.levelno == logging.INFO
    assert "hunter2" not in line.msg and "10.0.0.9/stream" in line.msg
    record = next(r for r in caplog.records if r.name == "camwall.test.child")
    assert record.getMessage() == line.msg and record.processName == "camwall-test-child"
    assert getattr(record, "camera", None) == "test"
    pid = run.child.pid
    assert pid is not None
    # A terminal sends these to the whole group; the owner, not the terminal, stops workers.
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGHUP)
    run.child.stop(deadline_s=10.0)
    assert run.finish() == 0
    assert "stopped cleanly" in run.received


@pytest.mark.slow
def test_sigterm_stops_the_child_cleanly(running: list[Running]) -> None:
    run = start(running, "wait")
    assert run.child.pid is not None
    os.kill(run.child.pid, signal.SIGTERM)
    assert run.finish() == 0
    assert "stopped cleanly" in run.received
    assert run.child.describe_exit() == "exited with code 0"


@pytest.mark.slow
def test_a_crash_reaches_the_owner_log_with_its_traceback_and_exits_1(
    running: list[Running],
) -> None:
    run = start(running, "crash")
    assert run.finish() == 1
    crash = run.logs()[-1]
    assert crash.levelno == logging.ERROR and crash.msg == "test worker crashed"
    assert crash.exc_text is not None and "Traceback" in crash.exc_text
    assert crash.exc_summary is not None and crash.exc_summary.startswith("RuntimeError: ")
    assert "hunter2" not in crash.exc_text + crash.summary()
    assert "10.0.0.9/stream" in crash.summary()


@pytest.mark.slow
def test_a_child_that_ignores_stop_is_terminated_then_killed(
    running: list[Running], caplog: pytest.LogCaptureFixture
) -> None:
    """Past the deadline enforce_stop sends SIGTERM; a child that still runs gets SIGKILL."""
    run = start(running, "stubborn", kill_after_s=0.3)
    run.child.stop(deadline_s=0.3)
    assert run.finish() == -signal.SIGKILL
    assert run.child.describe_exit() == "killed by SIGKILL"
    messages = [r.getMessage() for r in caplog.records if r.name == "camwall.childproc"]
    assert messages == [
        "test worker did not stop within 0.3 s; terminating it",
        "test worker ignored SIGTERM; killing it",
    ]


def test_a_child_that_cannot_start_leaves_no_pipe_open() -> None:
    """An argument that cannot be pickled: the error comes back, and the child's ends are closed."""
    messages, events = CTX.Pipe(duplex=False)
    try:
        with pytest.raises((TypeError, AttributeError)):
            spawn_child(
                worker,
                (events, lambda: None),
                name="camwall-test-child",
                label="test worker",
                child_ends=(events,),
            )
        assert events.closed
    finally:
        messages.close()
        events.close()


def test_restart_backoff_grows_and_resets_after_a_healthy_run() -> None:
    policy = BackoffPolicy(initial_s=0.5, factor=2.0, max_s=4.0, jitter=0.0, healthy_s=30.0)
    restarts = RestartBackoff(policy)
    assert [restarts.next_delay(1.0) for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert restarts.attempt == 5
    assert restarts.next_delay(30.0) == 0.5 and restarts.attempt == 1
    assert restarts.next_delay(0.1) == 1.0


def test_log_forwarded_respects_this_process_levels(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="camwall.test")
    message = LogRecordMessage("camwall.test.x", logging.INFO, "quiet", time.time(), "p")
    log_forwarded(message)
    loud = LogRecordMessage("camwall.test.x", logging.WARNING, "100% loud", 1.5, "p")
    log_forwarded(loud)
    (record,) = [r for r in caplog.records if r.name == "camwall.test.x"]
    assert record.getMessage() == "100% loud" and record.created == 1.5
