"""DetectionService: the parent-side owner of the detection worker process.

It starts one worker (``spawn`` context) for all cameras, keeps the camera table and replays
it to a restarted worker, drains the worker's messages on a thread of its own and hands them
to a callback (the UI bridges it to Qt signals; the headless mode prints JSON lines), and
feeds the worker's log records into this process's ``logging``. A worker that dies is
restarted with the one backoff policy. :meth:`stop` returns at once; the supervisor thread then
asks the worker to stop, terminates it after ``stop_timeout`` and kills it if it still lives.
The process plumbing is :mod:`camwall.childproc`'s, as for capture workers.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from camwall.backoff import BackoffPolicy
from camwall.childproc import (
    CTX,
    ChildProcess,
    LogRecordMessage,
    RestartBackoff,
    log_forwarded,
    spawn_child,
)
from camwall.detect.masks import Mask
from camwall.detect.messages import (
    CameraStatus,
    DetectionResult,
    DetectionStats,
    Message,
    TrackEvent,
    WorkerStatus,
    ZoneEvent,
)
from camwall.detect.spec import DetectorSpec, PipelineConfig
from camwall.detect.worker import (
    AddCamera,
    Command,
    RemoveCamera,
    SkipModel,
    SnapshotFn,
    UpdateRing,
    worker_main,
)
from camwall.detect.zones import Zone

log = logging.getLogger(__name__)

#: Restarts of the one detection worker: no jitter (nothing to desynchronise), and a worker
#: that lived 30 s resets the backoff.
RESTART_POLICY = BackoffPolicy(initial_s=0.5, max_s=30.0, jitter=0.0, healthy_s=30.0)
_KILL_AFTER_S = 2.0
_ID_BLOCK = 1_000_000_000


class DetectionService:
    """Object detection on many cameras in one worker process; see the module docstring.

    ``on_message`` is called on the service's thread with each
    :data:`~camwall.detect.messages.Message` (results, track events, stats, camera and
    worker status). Keep it quick: while it runs, results wait in the pipe.
    """

    def __init__(
        self,
        detector: DetectorSpec | str,
        *,
        pipeline: PipelineConfig | None = None,
        on_message: Callable[[Message], None] | None = None,
        restart_backoff: BackoffPolicy = RESTART_POLICY,
        stop_timeout: float = 5.0,
    ) -> None:
        """Configure the service; nothing runs until :meth:`start`.

        ``restart_backoff`` paces restarts of a worker that keeps dying.
        """
        self.spec = DetectorSpec.parse(detector) if isinstance(detector, str) else detector
        self.pipeline = pipeline or PipelineConfig()
        self.on_message = on_message
        self.restart_backoff = restart_backoff
        self.stop_timeout = stop_timeout
        self._lock = threading.Lock()
        self._cameras: dict[str, AddCamera] = {}
        self._cmd: Connection | None = None
        self._proc: ChildProcess | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._restarts = 0
        self._failed: str | None = None
        self._stats: dict[str, DetectionStats] = {}
        # Tracks that appeared and have not left (touched only on the supervisor thread).
        self._open: dict[tuple[str, int], TrackEvent] = {}
        self._removed: list[str] = []

    # -- public API ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and the supervisor thread."""
        if self._thread is not None:
            raise RuntimeError("DetectionService.start() was already called; create a new one")
        self._thread = threading.Thread(
            target=self._supervise, name="camwall-detect-supervisor", daemon=True
        )
        self._thread.start()

    def add_camera(
        self,
        name: str,
        ring_name: str,
        *,
        fps: float = 5.0,
        mask: Mask | None = None,
        snapshot: SnapshotFn | None = None,
        zones: tuple[Zone, ...] = (),
        skip: bool = False,
    ) -> None:
        """Detect on camera ``name`` reading ring ``ring_name`` at ``fps`` detections a second.

        ``mask`` excludes areas (see :mod:`camwall.detect.masks`); ``snapshot`` is called in
        the worker with (event, BGR(A) frame) when a track appears and returns a file path —
        it must be picklable, e.g. :class:`~camwall.detect.snapshots.JpegSnapshots`;
        ``zones`` send a ZoneEvent when a track enters or leaves one.
        """
        if not fps > 0:
            raise ValueError(f"fps must be positive, not {fps}")
        cmd = AddCamera(name, ring_name, float(fps), mask, snapshot, zones, skip=skip)
        try:
            pickle.dumps(cmd)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(
                f"camera {name!r}: the snapshot callback must be picklable (a module-level "
                f"function or an object like JpegSnapshots) to reach the worker: {exc}"
            ) from None
        self._command(cmd)

    def remove_camera(self, name: str) -> None:
        """Stop detecting on camera ``name`` (no-op if unknown)."""
        self._command(RemoveCamera(name))

    def set_skip(self, name: str, skip: bool) -> None:
        """Skip the model on camera ``name`` (its tracks age and leave) or run it again."""
        self._command(SkipModel(name, skip))

    def update_ring(self, name: str, ring_name: str) -> None:
        """Camera ``name``'s ring was re-created as ``ring_name`` (e.g. a resolution change)."""
        self._command(UpdateRing(name, ring_name))

    def stop(self) -> None:
        """Ask the worker to stop and return at once; see :meth:`join`. Idempotent."""
        self._stopping.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the worker and the supervisor thread are gone; True if they are."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the worker has loaded its detector (True), or timeout / failure."""
        return self._ready.wait(timeout) and self._failed is None

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    @property
    def restarts(self) -> int:
        """How often the worker died and was restarted."""
        return self._restarts

    @property
    def failed(self) -> str | None:
        """Why the worker cannot run at all (model missing or broken), if so."""
        return self._failed

    @property
    def cameras(self) -> list[str]:
        """Names of the cameras being detected on."""
        with self._lock:
            return list(self._cameras)

    def stats(self) -> dict[str, DetectionStats]:
        """The newest stats of every camera."""
        return dict(self._stats)

    def __enter__(self) -> DetectionService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(self.stop_timeout + _KILL_AFTER_S + 5.0)

    # -- commands ------------------------------------------------------------------------

    def _command(self, cmd: Command) -> None:
        with self._lock:
            if isinstance(cmd, AddCamera):
                self._cameras[cmd.name] = cmd
            elif isinstance(cmd, RemoveCamera):
                self._cameras.pop(cmd.name, None)
                self._stats.pop(cmd.name, None)
                self._removed.append(cmd.name)
            elif isinstance(cmd, UpdateRing):
                old = self._cameras.get(cmd.name)
                if old is None:
                    raise KeyError(f"no camera named {cmd.name!r} is being detected on")
                self._cameras[cmd.name] = dataclasses.replace(old, ring_name=cmd.ring_name)
            elif isinstance(cmd, SkipModel):
                old = self._cameras.get(cmd.name)
                if old is None:
                    return  # not detecting on it: nothing to skip
                # Kept in the table, so a restarted worker skips too.
                self._cameras[cmd.name] = dataclasses.replace(old, skip=cmd.skip)
            self._send_locked(cmd)

    def _send_locked(self, cmd: Command) -> None:
        # A worker that is dead or not started yet gets the whole table when it (re)starts.
        if self._cmd is None:
            return
        try:
            self._cmd.send(cmd)
        except (BrokenPipeError, ConnectionResetError, OSError):
            log.debug("detection worker gone; %s will be replayed on restart", type(cmd).__name__)

    # -- supervisor thread ---------------------------------------------------------------

    def _spawn(self) -> tuple[ChildProcess, Connection]:
        cmd_r, cmd_w = CTX.Pipe(duplex=False)
        out_r, out_w = CTX.Pipe(duplex=False)
        level = logging.getLogger("camwall").getEffectiveLevel()
        try:
            proc = spawn_child(
                worker_main,
                # Track ids stay unique across restarts: each worker numbers from its own block.
                (self.spec, self.pipeline, cmd_r, out_w, level, 1 + self._restarts * _ID_BLOCK),
                name="camwall-detect",
                label="detection worker",
                child_ends=(cmd_r, out_w),
                kill_after_s=_KILL_AFTER_S,
            )
        except BaseException:
            cmd_w.close()
            out_r.close()
            raise
        with self._lock:
            self._proc = proc
            self._cmd = cmd_w
            for cam in self._cameras.values():
                self._send_locked(cam)
        self._emit(WorkerStatus("starting", proc.pid, restarts=self._restarts))
        return proc, out_r

    def _supervise(self) -> None:
        restarts = RestartBackoff(self.restart_backoff)
        while not self._stopping.is_set():
            started = time.monotonic()
            proc, out = self._spawn()
            self._pump(proc, out)
            code = proc.exitcode
            with self._lock:
                self._cmd_close()
                self._proc = None
            proc.close()
            if self._stopping.is_set() or self._failed is not None:
                break
            self._restarts += 1
            # The dead worker's tracks are gone: say that their objects left, so nothing
            # hangs on screen as "present" forever.
            self._close_tracks(None)
            delay = restarts.next_delay(time.monotonic() - started)
            log.warning(
                "detection worker exited unexpectedly (exit code %s); restarting in %.1f s",
                code,
                delay,
            )
            self._emit(
                WorkerStatus("died", None, reason=f"exit code {code}", restarts=self._restarts)
            )
            if self._stopping.wait(delay):
                break
        self._close_tracks(None)
        self._emit(
            WorkerStatus("stopped", None, reason=self._failed or "", restarts=self._restarts)
        )

    def _cmd_close(self) -> None:
        if self._cmd is not None:
            self._cmd.close()
            self._cmd = None

    def _pump(self, proc: ChildProcess, out: Connection) -> None:
        """Deliver the worker's messages until it exits; stop it when asked."""
        open_ = True
        try:
            while True:
                ready = wait([out, proc.sentinel] if open_ else [proc.sentinel], timeout=0.1)
                if out in ready:
                    open_ = self._drain(out)
                self._closed_cameras()
                if proc.sentinel in ready:
                    if open_:
                        self._drain(out)
                    proc.join()
                    return
                if self._stopping.is_set():
                    proc.stop(self.stop_timeout)  # idempotent: the first call asks
                    proc.enforce_stop()
        finally:
            out.close()

    def _drain(self, out: Connection) -> bool:
        """Dispatch every message waiting in ``out``; False once the pipe is closed."""
        try:
            while out.poll():
                self._dispatch(out.recv())
        except (EOFError, OSError):
            return False
        return True

    def _dispatch(self, msg: Any) -> None:
        if isinstance(msg, LogRecordMessage):
            log_forwarded(msg)
            return
        if isinstance(msg, WorkerStatus):
            if msg.state == "ready":
                self._ready.set()
            elif msg.state == "failed":
                self._failed = msg.reason
                self._ready.set()
                log.error("detection cannot start: %s", msg.reason)
            msg = WorkerStatus(msg.state, msg.pid, msg.detector, msg.reason, self._restarts)
        elif not isinstance(
            msg, DetectionResult | TrackEvent | CameraStatus | DetectionStats | ZoneEvent
        ):
            log.warning("unexpected message from the detection worker: %r", type(msg))
            return
        else:
            with self._lock:
                known = msg.camera in self._cameras
            if not known:
                return  # sent before the worker saw remove_camera: the caller is done with it
            if isinstance(msg, DetectionStats):
                self._stats[msg.camera] = msg
            elif isinstance(msg, TrackEvent):
                if msg.kind == "appeared":
                    self._open[(msg.camera, msg.track_id)] = msg
                else:
                    self._open.pop((msg.camera, msg.track_id), None)
        self._emit(msg)

    def _close_tracks(self, cameras: list[str] | None) -> None:
        """Emit ``left`` for open tracks (of ``cameras``, None: all) the worker will never end."""
        now = time.time()
        for key in [k for k in self._open if cameras is None or k[0] in cameras]:
            ev = self._open.pop(key)
            self._emit(dataclasses.replace(ev, kind="left", time=now, snapshot=None))

    def _closed_cameras(self) -> None:
        with self._lock:
            removed, self._removed = self._removed, []
        if removed:
            self._close_tracks(removed)

    def _emit(self, msg: Message) -> None:
        if self.on_message is None:
            return
        try:
            self.on_message(msg)
        except Exception:
            # Boundary to user code: a broken callback must not kill detection for everyone.
            log.exception("detection message callback failed on %s", msg.type)
