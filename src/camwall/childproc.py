"""One way to run a worker in a child process: capture workers and the detection worker.

The owner's side::

    child = spawn_child(worker_main, (spec, cmd_r, out_w), name="camwall-detect",
                        label="detection worker", child_ends=(cmd_r, out_w))
    ...                                   # read out_r; hand LogRecordMessages to log_forwarded()
    child.stop(deadline_s=5.0)            # never blocks: closes the child's stop pipe
    child.enforce_stop()                  # call now and then: SIGTERM after the deadline, then SIGKILL
    how = child.close()                   # once child.sentinel is ready: "exited with code 0"
    delay = restarts.next_delay(ran_s)    # RestartBackoff: the one BackoffPolicy between restarts

The child's side (``worker_main(*args, stop)`` is what :func:`spawn_child` starts)::

    def worker_main(spec, cmd, out, *, stop):
        child = Child.bootstrap(out, stop, label="detection worker", log_level=level)
        worker = Worker(spec, cmd, child.outbox)
        child.run(worker.run, on_stop=worker.stop)     # never returns

What the helper guarantees:

- ``spawn`` context: a child starts from a fresh interpreter, never a fork of a threaded one.
- A stop pipe: the owner closing its end asks the child to stop, and because the kernel
  closes it when the owner dies too (even by SIGKILL), a child never outlives its owner. A
  pipe, not a ``multiprocessing.Event``: an Event's lock can be left held by a process that
  dies while using it, and the other side then blocks forever.
- Signals: SIGINT and SIGHUP are ignored (a terminal sends them to the whole process group;
  the owner decides when its workers stop), SIGTERM stops the child as cleanly as the pipe.
- Logging: the child's root logger gets one handler that sends every record, formatted and
  redacted, as a :class:`LogRecordMessage` over the child's outbox; the owner re-emits it into
  its own ``logging`` with :func:`log_forwarded`.
- One thread of OpenCV per child: the processes are the parallelism.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import NoReturn

import cv2

from camwall.backoff import BackoffPolicy
from camwall.redact import redact

log = logging.getLogger(__name__)

#: Every worker process starts from a fresh interpreter.
CTX = mp.get_context("spawn")
#: How often a child's stop watcher re-checks for SIGTERM.
STOP_POLL_S = 0.05
#: How long the child waits for its stop watcher on the way out.
_WATCHER_JOIN_S = 1.0


class OwnerGone(ConnectionError):
    """The owner closed its end of the child's pipe: the child has nobody to work for.

    A ConnectionError (so an OSError): code that already treats a failed send as "the owner
    is gone" keeps doing so.
    """


# -- messages --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRecordMessage:
    """A log record of a child process, formatted and scrubbed of credentials."""

    #: The logger's name in the child ("camwall.capture.worker").
    name: str
    levelno: int
    #: The formatted message (``record.getMessage()``), redacted.
    msg: str
    #: When the child logged it (epoch seconds).
    created: float
    #: The child's process name ("camwall-detect").
    process_name: str
    #: The formatted traceback, redacted, if the record carried an exception.
    exc_text: str | None = None
    #: The exception on one line ("SourceError: boom"), redacted, for event streams.
    exc_summary: str | None = None

    @classmethod
    def from_record(cls, record: logging.LogRecord) -> LogRecordMessage:
        """The message for ``record`` (raises TypeError/ValueError if its args do not fit)."""
        exc_text = exc_summary = None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            exc_text = redact(logging.Formatter().formatException(record.exc_info))
            exc_summary = f"{type(exc).__name__}: {redact(str(exc))}"
        return cls(
            record.name,
            record.levelno,
            redact(record.getMessage()),
            record.created,
            record.processName or "",
            exc_text,
            exc_summary,
        )

    def summary(self) -> str:
        """The message with its exception on one line, for event streams."""
        return self.msg if self.exc_summary is None else f"{self.msg} ({self.exc_summary})"


def log_forwarded(message: LogRecordMessage, **extra: object) -> None:
    """Hand a child's log record to this process's ``logging``, as the child's logger.

    ``extra`` become attributes of the record (e.g. ``camera="door"``), as with ``extra=`` in a
    logging call. Levels and filters of this process apply.
    """
    logger = logging.getLogger(message.name)
    if not logger.isEnabledFor(message.levelno):
        return
    record = logging.makeLogRecord(
        {
            "name": message.name,
            "levelno": message.levelno,
            "levelname": logging.getLevelName(message.levelno),
            "msg": message.msg,
            "exc_text": message.exc_text,
            "created": message.created,
            "msecs": (message.created - int(message.created)) * 1000.0,
            "processName": message.process_name,
            **extra,
        }
    )
    logger.handle(record)


# -- the child's side ------------------------------------------------------------------------


class Outbox:
    """The child's end of its message pipe: thread-safe, and says when the owner is gone."""

    def __init__(self, conn: Connection) -> None:
        """Wrap the write end of a ``Pipe(duplex=False)``."""
        self._conn = conn
        self._lock = threading.Lock()

    def send(self, message: object) -> None:
        """Send one picklable message; raises :class:`OwnerGone` if the pipe is closed."""
        with self._lock:
            try:
                self._conn.send(message)
            except OSError as exc:  # BrokenPipeError, ConnectionResetError, "handle is closed"
                raise OwnerGone(str(exc) or type(exc).__name__) from None

    def close(self) -> None:
        """Close the pipe: the owner sees end-of-file. Idempotent."""
        with self._lock:
            self._conn.close()


class _ForwardingHandler(logging.Handler):
    """Sends every record to the owner as a LogRecordMessage."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__()
        self._outbox = outbox

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._outbox.send(LogRecordMessage.from_record(record))
        except OwnerGone:
            pass  # nobody is left to tell; the child notices and stops
        except (TypeError, ValueError):
            self.handleError(record)


class Child:
    """The child's side of a worker process; made by :meth:`bootstrap`, ended by :meth:`run`."""

    def __init__(self, outbox: Outbox, stop: Connection, label: str) -> None:
        """Use :meth:`bootstrap`."""
        self.outbox = outbox
        self.label = label
        self._stop = stop
        # Set by the SIGTERM handler or when run() ends; handlers must not take locks, so
        # the watcher polls this flag instead of being woken.
        self._finished = False

    @classmethod
    def bootstrap(
        cls, events: Connection, stop: Connection, *, label: str, log_level: int
    ) -> Child:
        """Set up this process as a worker: signals, OpenCV threads, logging over ``events``.

        ``events`` is the write end of the pipe to the owner (wrapped in :attr:`outbox`),
        ``stop`` the child's end of the stop pipe :func:`spawn_child` passed in. ``label``
        names the worker in log lines ("door: capture worker").
        """
        # A terminal's Ctrl-C and hang-up reach the whole process group; the owner decides
        # when a worker stops (an interrupted worker would look crashed and be restarted).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        # One process per camera is the wall's parallelism. OpenCV's own pool would split
        # each conversion over every core and spin-wait for work between frames: +0.7 ms CPU
        # per 1440p frame for nothing (bench/capture.py, docs/benchmarks.md "## Capture").
        cv2.setNumThreads(1)
        child = cls(Outbox(events), stop, label)
        # SIGTERM to the whole group (systemd's default KillMode, `timeout`, `kill -- -PGID`)
        # reaches workers together with the owner: stop cleanly (finish the segment, close
        # the ring) instead of dying.
        signal.signal(signal.SIGTERM, child._on_sigterm)
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(_ForwardingHandler(child.outbox))
        root.setLevel(log_level)
        return child

    @property
    def stop_pipe(self) -> Connection:
        """The child's end of the stop pipe: readable (end-of-file) once the owner asks the
        worker to stop or dies. A worker that waits on its own pipes can add it to
        ``multiprocessing.connection.wait`` to wake at once; SIGTERM only reaches ``on_stop``."""
        return self._stop

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self._finished = True

    def run(self, main: Callable[[], None], *, on_stop: Callable[[], None]) -> NoReturn:
        """Run ``main`` until it returns; call ``on_stop`` (from another thread) when the owner
        asks the worker to stop, dies, or SIGTERM arrives. Then exit the process: code 0, or 1
        if ``main`` raised (the traceback goes to the owner's log first)."""
        watcher = threading.Thread(
            target=self._watch, args=(on_stop,), name=f"camwall-stop-{self.label}", daemon=True
        )
        watcher.start()
        code = 0
        try:
            main()
        except OwnerGone:
            pass  # the owner went away mid-send: nothing to report to anyone
        except BaseException:  # the process boundary: report anything, then exit non-zero
            log.exception("%s crashed", self.label)
            code = 1
        finally:
            self._finished = True  # ends the watcher if it is still waiting
            watcher.join(_WATCHER_JOIN_S)
            self._stop.close()
            self.outbox.close()
        logging.shutdown()
        # Skip interpreter teardown: nothing is left to flush, and FFmpeg threads can hang it.
        os._exit(code)

    def _watch(self, on_stop: Callable[[], None]) -> None:
        # A process cannot be interrupted from outside, so this thread turns a stop request
        # into a call the worker understands (e.g. interrupting a blocking source read).
        while not self._finished:
            if self._stop.poll(STOP_POLL_S):
                break  # the owner closed (or wrote to) its end, or died
        on_stop()


# -- the owner's side ------------------------------------------------------------------------


class ChildProcess:
    """The owner's handle on a spawned worker process; see the module docstring."""

    def __init__(
        self, process: BaseProcess, stop_conn: Connection, label: str, kill_after_s: float
    ) -> None:
        """Use :func:`spawn_child`."""
        self.process = process
        self.label = label
        self.kill_after_s = kill_after_s
        self._stop_conn: Connection | None = stop_conn
        self._deadline: float | None = None
        self._terminated_at: float | None = None
        self._stop_deadline_s = 0.0

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self.process.pid

    @property
    def sentinel(self) -> int:
        """A handle that becomes ready when the child has exited (for ``connection.wait``)."""
        return self.process.sentinel

    @property
    def exitcode(self) -> int | None:
        """The exit code (negative: killed by that signal); None while running."""
        return self.process.exitcode

    def is_alive(self) -> bool:
        """True while the child runs."""
        return self.process.is_alive()

    def stop(self, deadline_s: float) -> None:
        """Ask the child to stop; never blocks. Idempotent.

        :meth:`enforce_stop` then terminates it if it has not exited ``deadline_s`` seconds
        from now, and kills it ``kill_after_s`` after that.
        """
        if self._stop_conn is not None:
            self._stop_conn.close()  # EOF on the child's side
            self._stop_conn = None
            self._deadline = time.monotonic() + deadline_s
            self._stop_deadline_s = deadline_s

    def next_due(self) -> float | None:
        """The ``time.monotonic()`` at which :meth:`enforce_stop` has something to do."""
        if self._terminated_at is not None:
            return self._terminated_at + self.kill_after_s
        return self._deadline

    def enforce_stop(self, now: float | None = None) -> None:
        """After :meth:`stop`: SIGTERM a child past its deadline, SIGKILL one that ignores it."""
        now = time.monotonic() if now is None else now
        if self._terminated_at is not None and now >= self._terminated_at + self.kill_after_s:
            log.warning("%s ignored SIGTERM; killing it", self.label)
            self.process.kill()
            self._terminated_at = None
        elif self._deadline is not None and now >= self._deadline:
            log.warning(
                "%s did not stop within %.1f s; terminating it", self.label, self._stop_deadline_s
            )
            self.process.terminate()
            self._terminated_at = now
            self._deadline = None

    def kill(self) -> None:
        """SIGKILL the child now (last resort)."""
        self.process.kill()

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` s for the child to exit."""
        self.process.join(timeout)

    def describe_exit(self) -> str:
        """How the child ended, for people ("exited with code 1", "killed by SIGKILL")."""
        return describe_exit(self.process.exitcode)

    def close(self) -> str:
        """Release the exited child (its stop pipe and process object); returns how it ended."""
        how = self.describe_exit()
        if self._stop_conn is not None:
            self._stop_conn.close()
            self._stop_conn = None
        self.process.close()
        return how


def spawn_child(
    target: Callable[..., None],
    args: tuple[object, ...],
    *,
    name: str,
    label: str,
    child_ends: Iterable[Connection] = (),
    kill_after_s: float = 1.0,
) -> ChildProcess:
    """Start ``target(*args, stop=<the child's end of a new stop pipe>)`` in a new process.

    ``name`` is the process name (``ps``, log records), ``label`` how log lines name the
    worker. ``child_ends`` are connections in ``args`` that belong to the child: they are
    closed here once the child has its copies (or failed to start), so the owner sees
    end-of-file when the child exits. Raises what starting raises: OSError, RuntimeError
    (e.g. a script without a ``__main__`` guard), or TypeError/ValueError for ``args`` that
    cannot be pickled.
    """
    stop_child, stop_owner = CTX.Pipe(duplex=False)
    process = CTX.Process(
        target=target, args=args, kwargs={"stop": stop_child}, name=name, daemon=True
    )
    try:
        process.start()
    except BaseException:
        stop_owner.close()
        raise
    finally:
        for conn in (stop_child, *child_ends):
            conn.close()
    return ChildProcess(process, stop_owner, label, kill_after_s)


@dataclass(slots=True)
class RestartBackoff:
    """When to restart a worker that keeps dying: the one :class:`BackoffPolicy`.

    Each unrequested exit is an attempt; a worker that ran ``policy.healthy_s`` or longer
    starts the count afresh.
    """

    policy: BackoffPolicy
    #: Restarts since the worker last ran healthily (1 after the first death).
    attempt: int = 0

    def next_delay(self, ran_s: float) -> float:
        """Seconds to wait before restarting a worker that ran ``ran_s`` seconds and died."""
        self.attempt = 1 if ran_s >= self.policy.healthy_s else self.attempt + 1
        return self.policy.delay(self.attempt)


def describe_exit(exitcode: int | None) -> str:
    """A readable description of a worker process's exit code."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


__all__ = [
    "CTX",
    "Child",
    "ChildProcess",
    "LogRecordMessage",
    "Outbox",
    "OwnerGone",
    "RestartBackoff",
    "describe_exit",
    "log_forwarded",
    "spawn_child",
]
