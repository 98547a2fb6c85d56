"""CaptureSupervisor: owns every camera's worker and frame ring, and never blocks its caller.

All process and ring management happens on the supervisor's own thread; the public methods
only queue a command and wake that thread, so ``start``/``stop`` return in microseconds even
while a worker hangs on a dead host. The supervisor:

* creates each camera's FrameRing (it is the owner: it unlinks it when the camera stops);
* starts the worker (a ``spawn``-ed process by default, or a thread) and forwards the
  worker's events to one callback;
* on ``stop``: signals the worker, terminates it after a deadline, unlinks the ring;
* restarts a worker that died (non-zero exit or a signal) with backoff, reusing its ring;
* re-creates a ring with a larger capacity when a worker's frames outgrow it (the old ring's
  ``successor`` names the new one and a RingEvent announces it).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Literal

from camwall.capture.events import (
    CameraState,
    CaptureEvent,
    LogEvent,
    RecordingEvent,
    RingEvent,
    StateEvent,
)
from camwall.capture.spec import BackoffPolicy, CameraSpec, DetectOutput, RecordingSpec
from camwall.capture.worker import (
    CaptureWorker,
    Reconnect,
    RingReply,
    RingRequest,
    SetDecode,
    SetDetect,
    SetMaxSize,
    SetRecording,
    SetView,
    TriggerRecording,
    process_main,
    thread_main,
)
from camwall.childproc import (
    ChildProcess,
    LogRecordMessage,
    Outbox,
    RestartBackoff,
    log_forwarded,
    spawn_child,
)
from camwall.errors import CaptureError, RingError
from camwall.frames import FrameRing
from camwall.sources.base import DecodeMode

log = logging.getLogger(__name__)

Mode = Literal["process", "thread"]
EventCallback = Callable[[CaptureEvent], None]
#: Largest frame a ring is re-created for (8K BGRA); beyond it the request is refused.
MAX_FRAME_PIXELS = 7680 * 4320
_KILL_GRACE_S = 1.0


@dataclass(eq=False)
class _Camera:
    spec: CameraSpec
    restarts: RestartBackoff
    ring: FrameRing | None = None
    #: The detect-sized output's ring, while the camera has one (created on demand).
    detect_ring: FrameRing | None = None
    events: Connection | None = None
    control: Connection | None = None
    process: ChildProcess | None = None
    thread: threading.Thread | None = None
    worker: CaptureWorker | None = None
    stopping: bool = False
    #: Thread mode: when to say that a stopping worker thread is still blocked.
    stop_deadline: float | None = None
    restart_at: float | None = None
    started_at: float = 0.0
    state: CameraState | None = None
    removed: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.process is not None or self.thread is not None


class CaptureSupervisor:
    """Runs capture workers for many cameras; see the module docstring."""

    def __init__(
        self,
        on_event: EventCallback | None = None,
        *,
        mode: Mode = "process",
        ring_prefix: str = "camwall",
        stop_deadline_s: float = 3.0,
        restart_policy: BackoffPolicy | None = None,
    ) -> None:
        """Configure; the supervisor thread starts with the first command."""
        if mode not in ("process", "thread"):
            raise ValueError(f"mode must be 'process' or 'thread', not {mode!r}")
        self._on_event = on_event if on_event is not None else (lambda event: None)
        self._mode: Mode = mode
        self._prefix = ring_prefix
        self._stop_deadline_s = stop_deadline_s
        self._restart_policy = restart_policy or BackoffPolicy(
            initial_s=0.5, max_s=10.0, healthy_s=30.0
        )
        self._lock = threading.Lock()
        self._commands: collections.deque[Callable[[], None]] = collections.deque()
        self._wake_r, self._wake_w = mp.Pipe(duplex=False)
        # Frame notification: every worker writes one byte per published frame into this
        # pipe, non-blocking; a display watches the read end instead of polling on a timer.
        self._notify_r, self._notify_w = mp.Pipe(duplex=False)
        os.set_blocking(self._notify_r.fileno(), False)
        os.set_blocking(self._notify_w.fileno(), False)
        self._cameras: dict[str, _Camera] = {}  # supervisor thread only
        self._retiring: list[_Camera] = []  # stopped cameras whose workers are still exiting
        self._names: set[str] = set()  # caller-side view of which cameras exist
        self._ring_names: dict[str, str] = {}
        self._states: dict[str, CameraState] = {}
        self._thread: threading.Thread | None = None
        self._closing = False
        self._closed = False

    # -- public API (any thread; never blocks) -------------------------------------------------

    def start(self, spec: CameraSpec) -> None:
        """Start capturing ``spec`` (returns at once; a RingEvent then StateEvents follow)."""
        with self._lock:
            if self._closing:
                raise CaptureError("the capture supervisor is closed")
            if spec.name in self._names:
                raise ValueError(
                    f"a camera named {spec.name!r} is already running; stop it or pick another name"
                )
            self._names.add(spec.name)
        self._submit(lambda: self._do_start(spec))

    def stop(self, name: str) -> None:
        """Stop camera ``name`` (returns at once; its worker exits in the background)."""
        with self._lock:
            if name not in self._names:
                return
            self._names.discard(name)
            self._ring_names.pop(name, None)
        self._submit(lambda: self._do_stop(name))

    def reconnect(self, name: str) -> None:
        """Make camera ``name`` drop its connection and connect again now."""
        self._submit(lambda: self._send_control(name, Reconnect()))

    def set_max_size(self, name: str, max_size: tuple[int, int] | None) -> None:
        """Publish camera ``name``'s frames scaled to fit ``max_size`` (None: full size)."""
        self._submit(lambda: self._send_control(name, SetMaxSize(max_size)))

    def set_view(self, name: str, view: bool) -> None:
        """Publish camera ``name``'s view ring (True) or only its detect ring (False); at once.

        A detect-only worker keeps its connection and decode for the detector and paints no
        picture; a restarted worker keeps the choice. Painting again, the worker reports
        STREAMING once its view ring holds a fresh frame.
        """
        self._submit(lambda: self._do_set_view(name, view))

    def _do_set_view(self, name: str, view: bool) -> None:
        cam = self._cameras.get(name)
        if cam is None or cam.spec.view == view:
            return
        cam.spec = dataclasses.replace(cam.spec, view=view)
        self._send_control(name, SetView(view))

    def set_recording(self, name: str, recording: RecordingSpec | None) -> None:
        """Start recording camera ``name`` as ``recording`` says, or stop (None); returns at once.

        The camera stays connected and its frames keep flowing: recording starts at the next
        keyframe (a SegmentOpened RecordingEvent follows), stopping finishes the open segment
        (SegmentClosed). A restarted worker records as the last call said.
        """
        self._submit(lambda: self._do_set_recording(name, recording))

    def trigger_recording(self, name: str, post_roll_s: float) -> None:
        """An event on camera ``name``: if it records on events (a ``RecordingSpec`` with
        ``pre_roll_s``), it writes its pre-roll and records until ``post_roll_s`` after the
        last trigger; returns at once."""
        self._submit(lambda: self._send_control(name, TriggerRecording(post_roll_s)))

    def cameras(self) -> list[str]:
        """Names of the cameras started and not stopped."""
        with self._lock:
            return sorted(self._names)

    def ring_name(self, name: str) -> str | None:
        """The ring camera ``name`` publishes into now, once created."""
        with self._lock:
            return self._ring_names.get(name)

    def state(self, name: str) -> CameraState | None:
        """The last state camera ``name`` reported."""
        with self._lock:
            return self._states.get(name)

    @property
    def frame_notify_fd(self) -> int:
        """A file descriptor that becomes readable when any camera published a frame.

        Watch it (select, QSocketNotifier), call :meth:`drain_frame_notifications`, then look
        at the rings' ``latest_seq``: bytes coalesce, so one wake-up may cover many frames.
        """
        return self._notify_r.fileno()

    def drain_frame_notifications(self) -> int:
        """Read every pending notification byte (never blocks); returns how many there were."""
        count = 0
        try:
            while chunk := os.read(self._notify_r.fileno(), 65536):
                count += len(chunk)
        except BlockingIOError:
            pass
        except OSError:
            pass  # closed: no more notifications
        return count

    def close(self, timeout: float = 5.0) -> bool:
        """Stop every camera and wait up to ``timeout`` s; True if everything has ended."""
        with self._lock:
            if self._closed:
                return True
            self._closing = True
            names = list(self._names)
            self._names.clear()
            self._ring_names.clear()
        for name in names:
            self._submit(lambda n=name: self._do_stop(n))  # type: ignore[misc]
        self._wake()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("capture supervisor: workers still running after %.1f s", timeout)
                return False
        self._closed = True
        # Only now that every worker has ended: a worker still writing into a closed (and
        # reused) descriptor number would write into somebody else's file.
        for conn in (self._wake_r, self._wake_w, self._notify_r, self._notify_w):
            conn.close()
        return True

    def __enter__(self) -> CaptureSupervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- command plumbing ------------------------------------------------------------------

    def _submit(self, command: Callable[[], None]) -> None:
        with self._lock:
            self._commands.append(command)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="camwall-supervisor", daemon=True
                )
                self._thread.start()
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"!")
        except OSError:
            pass  # closed: the loop has already ended

    def _emit(self, event: CaptureEvent) -> None:
        if isinstance(event, StateEvent):
            with self._lock:
                if event.state is CameraState.STOPPED:
                    self._states.pop(event.camera, None)
                else:
                    self._states[event.camera] = event.state
        elif isinstance(event, RingEvent):
            with self._lock:
                if event.camera in self._names:
                    self._ring_names[event.camera] = event.ring_name
        try:
            self._on_event(event)
        except Exception:  # the callback is the caller's code; it must not kill supervision
            log.exception("capture event callback failed on %s", type(event).__name__)

    # -- the supervisor thread -----------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                self._run_commands()
                if self._closing and not self._cameras and not self._retiring:
                    with self._lock:
                        if not self._commands:
                            return
                    continue
                waitables, owners = self._waitables()
                timeout = self._next_timeout()
                ready = mpc.wait(waitables, timeout)
                for obj in ready:
                    if obj is self._wake_r:
                        while self._wake_r.poll():
                            self._wake_r.recv_bytes()
                    else:
                        cam = owners[id(obj)]
                        if obj is cam.events:
                            self._drain(cam)
                        else:
                            self._on_exit(cam)
                self._run_timers()
        finally:
            self._shutdown_everything()

    def _run_commands(self) -> None:
        while True:
            with self._lock:
                if not self._commands:
                    return
                command = self._commands.popleft()
            try:
                command()
            except Exception:  # a bug in one command must not end supervision of every camera
                log.exception("capture supervisor: a command failed")

    def _all(self) -> list[_Camera]:
        return [*self._cameras.values(), *self._retiring]

    def _waitables(self) -> tuple[list[Connection | int], dict[int, _Camera]]:
        objects: list[Connection | int] = [self._wake_r]
        owners: dict[int, _Camera] = {}
        for cam in self._all():
            if cam.events is not None:
                objects.append(cam.events)
                owners[id(cam.events)] = cam
            if cam.process is not None:
                sentinel = cam.process.sentinel
                objects.append(sentinel)
                owners[id(sentinel)] = cam
        return objects, owners

    def _next_timeout(self) -> float:
        now = time.monotonic()
        due = [
            t
            for cam in self._all()
            for t in (
                cam.restart_at,
                cam.stop_deadline,
                cam.process and cam.process.next_due(),
            )
            if t
        ]
        if any(cam.thread is not None and cam.events is None for cam in self._all()):
            due.append(now + 0.05)  # a thread worker closed its pipe: poll for its end
        return max(0.0, min(due) - now) if due else 1.0

    # -- commands ----------------------------------------------------------------------------

    def _do_start(self, spec: CameraSpec) -> None:
        cam = _Camera(spec, RestartBackoff(self._restart_policy))
        self._cameras[spec.name] = cam
        w, h = spec.initial_frame
        try:
            cam.ring = FrameRing.create(
                FrameRing.capacity_for(w, h), slots=spec.slots, prefix=self._prefix
            )
        except (RingError, OSError, ValueError) as exc:
            self._cameras.pop(spec.name, None)
            with self._lock:
                self._names.discard(spec.name)
            self._emit(
                StateEvent(spec.name, CameraState.FAILED, f"cannot create the frame ring: {exc}")
            )
            return
        self._emit(RingEvent(spec.name, cam.ring.name, 0, 0))
        if spec.detect is not None:
            self._ensure_detect_ring(cam)
        self._launch(cam)

    def _launch(self, cam: _Camera) -> None:
        assert cam.ring is not None
        events_parent, events_child = mp.Pipe(duplex=False)
        control_child, control_parent = mp.Pipe(duplex=False)
        cam.events, cam.control = events_parent, control_parent
        cam.started_at = time.monotonic()
        cam.restart_at = None
        if self._mode == "process":
            try:
                cam.process = spawn_child(
                    process_main,
                    (cam.spec, cam.ring.name, events_child, control_child, self._notify_w),
                    name=f"camwall-capture-{cam.spec.name}",
                    label=f"{cam.spec.name}: capture worker",
                    child_ends=(events_child, control_child),
                    kill_after_s=_KILL_GRACE_S,
                )
            except (OSError, RuntimeError, TypeError, ValueError) as exc:
                # RuntimeError: spawn refused (e.g. a script without a __main__ guard);
                # TypeError/ValueError: something in the spec could not be pickled.
                self._worker_gone(cam, f"cannot start a capture process: {exc}")
                return
        else:
            worker = CaptureWorker(
                cam.spec, cam.ring.name, Outbox(events_child), control_child, self._notify_w
            )
            cam.worker = worker
            cam.thread = threading.Thread(
                target=thread_main,
                args=(worker,),
                name=f"camwall-capture-{cam.spec.name}",
                daemon=True,
            )
            cam.thread.start()
        if cam.spec.detect is not None and cam.detect_ring is not None:
            self._send_detect(cam)  # queued in the control pipe until the worker reads it

    def _do_stop(self, name: str) -> None:
        cam = self._cameras.pop(name, None)
        if cam is None:
            return
        cam.stopping = True
        cam.restart_at = None
        if not cam.running:
            self._finish(cam)
            return
        self._retiring.append(cam)
        if cam.process is not None:
            cam.process.stop(self._stop_deadline_s)
        if cam.worker is not None:
            cam.stop_deadline = time.monotonic() + self._stop_deadline_s
            cam.worker.stop()

    def set_detect(self, name: str, output: DetectOutput | None) -> None:
        """Also publish camera ``name``'s frames at a fixed detect size (None: stop); at once.

        The supervisor creates (and owns) the second ring and announces it with a
        ``RingEvent(role="detect")``; a restarted worker keeps the output.
        """
        self._submit(lambda: self._do_set_detect(name, output))

    def _do_set_detect(self, name: str, output: DetectOutput | None) -> None:
        cam = self._cameras.get(name)
        if cam is None:
            return
        cam.spec = dataclasses.replace(cam.spec, detect=output)
        if output is not None and not self._ensure_detect_ring(cam):
            return
        self._send_detect(cam)

    def _ensure_detect_ring(self, cam: _Camera) -> bool:
        output = cam.spec.detect
        if output is None:
            return False
        if cam.detect_ring is not None:
            return True
        w, h = output.capacity_size()
        try:
            cam.detect_ring = FrameRing.create(
                FrameRing.capacity_for(w, h), slots=3, prefix=self._prefix
            )
        except (RingError, OSError, ValueError) as exc:
            log.warning("%s: no detect output: cannot create its ring: %s", cam.spec.name, exc)
            return False
        self._emit(RingEvent(cam.spec.name, cam.detect_ring.name, 0, 0, role="detect"))
        return True

    def _send_detect(self, cam: _Camera) -> None:
        ring = cam.detect_ring.name if cam.detect_ring is not None else None
        self._send_control(cam.spec.name, SetDetect(cam.spec.detect, ring))

    def set_decode(self, name: str, mode: DecodeMode) -> None:
        """Decode camera ``name``'s stream in full, keyframes only, or not at all (at once).

        The connection stays up (and recording goes on); a restarted worker keeps the mode.
        """
        self._submit(lambda: self._do_set_decode(name, mode))

    def _do_set_decode(self, name: str, mode: DecodeMode) -> None:
        cam = self._cameras.get(name)
        if cam is None or cam.spec.decode == mode:
            return
        cam.spec = dataclasses.replace(cam.spec, decode=mode)
        self._send_control(name, SetDecode(mode))

    def _do_set_recording(self, name: str, recording: RecordingSpec | None) -> None:
        cam = self._cameras.get(name)
        if cam is None:
            return
        # Remembered for a restarted worker, which starts from the spec.
        cam.spec = dataclasses.replace(cam.spec, recording=recording)
        self._send_control(name, SetRecording(recording))

    def _send_control(self, name: str, message: object) -> None:
        cam = self._cameras.get(name)
        if cam is None or cam.control is None:
            return
        try:
            cam.control.send(message)
        except OSError:
            pass  # the worker is exiting; its exit is handled by the loop

    # -- worker messages and exits ---------------------------------------------------------

    def _drain(self, cam: _Camera) -> None:
        assert cam.events is not None
        try:
            while cam.events.poll():
                message = cam.events.recv()
                self._handle(cam, message)
        except (EOFError, OSError):
            cam.events.close()
            cam.events = None
            if cam.thread is not None:
                cam.thread.join(0.5)
                if not cam.thread.is_alive():
                    self._on_exit(cam)

    def _handle(self, cam: _Camera, message: object) -> None:
        if isinstance(message, RingRequest):
            self._replace_ring(cam, message)
            return
        if isinstance(message, LogRecordMessage):
            log_forwarded(message, camera=cam.spec.name)
            message = LogEvent(
                cam.spec.name, message.levelno, message.name, message.summary(), message.created
            )
        if isinstance(message, StateEvent):
            cam.state = message.state
            if cam.stopping and (message.state is not CameraState.STOPPED or self._superseded(cam)):
                return  # the camera is going away; only its final STOPPED matters
        # A stopping worker still reports how it ends: its last state, log lines, and the
        # recording segment it closes on the way out.
        if isinstance(message, StateEvent | LogEvent | RecordingEvent) or not cam.stopping:
            self._emit(message)  # type: ignore[arg-type]

    def _superseded(self, cam: _Camera) -> bool:
        """True if a newer camera of the same name was started while this one was stopping."""
        current = self._cameras.get(cam.spec.name)
        return current is not None and current is not cam

    def _replace_ring(self, cam: _Camera, request: RingRequest) -> None:
        old = cam.ring
        assert old is not None and cam.control is not None
        if request.width * request.height > MAX_FRAME_PIXELS:
            reason = f"{request.width}×{request.height} is larger than camwall supports (8K)"
            cam.control.send(RingReply(None, reason))
            return
        try:
            new = FrameRing.create(
                FrameRing.capacity_for(request.width, request.height),
                slots=old.slots,
                prefix=self._prefix,
            )
        except (RingError, OSError) as exc:
            cam.control.send(RingReply(None, f"cannot create a larger frame ring: {exc}"))
            return
        old.set_successor(new.name)
        cam.ring = new
        with contextlib.suppress(OSError):
            cam.control.send(RingReply(new.name))
        log.info(
            "%s: frame ring re-created for %d×%d frames",
            cam.spec.name,
            request.width,
            request.height,
        )
        self._emit(RingEvent(cam.spec.name, new.name, request.width, request.height))
        # Readers still attached to the old ring keep their mapping until they move on.
        old.unlink()
        old.close()

    def _on_exit(self, cam: _Camera) -> None:
        if cam.process is not None:
            if cam.events is not None:
                self._drain(cam)  # final messages first
            cam.process.join(0.5)
            if cam.process.is_alive():
                return
            how = cam.process.close()
            cam.process = None
        elif cam.thread is not None:
            if cam.thread.is_alive():
                return
            how = "thread ended"
            cam.thread = None
            cam.worker = None
        else:
            return
        self._worker_gone(cam, how)

    def _worker_gone(self, cam: _Camera, how: str) -> None:
        for conn in (cam.events, cam.control):
            if conn is not None:
                conn.close()
        cam.events = cam.control = None
        if cam.stopping:
            self._finish(cam)
            return
        # Unrequested exit: restart with backoff (reusing the ring, which readers hold).
        delay = cam.restarts.next_delay(time.monotonic() - cam.started_at)
        reason = f"capture worker {how}; restarting in {delay:.1f} s"
        log.warning("%s: %s", cam.spec.name, reason)
        self._emit(
            StateEvent(
                cam.spec.name,
                CameraState.LOST,
                reason,
                attempt=cam.restarts.attempt,
                error="WorkerDiedError",
            )
        )
        self._emit(
            StateEvent(
                cam.spec.name,
                CameraState.BACKOFF,
                reason,
                retry_in_s=delay,
                attempt=cam.restarts.attempt,
                error="WorkerDiedError",
            )
        )
        cam.restart_at = time.monotonic() + delay

    def _finish(self, cam: _Camera) -> None:
        """The worker of a stopped camera has exited: release the ring, report STOPPED."""
        if cam in self._retiring:
            self._retiring.remove(cam)
        self._release_rings(cam)
        if cam.state is not CameraState.STOPPED:
            cam.state = CameraState.STOPPED
            if not self._superseded(cam):
                self._emit(StateEvent(cam.spec.name, CameraState.STOPPED, "stopped"))

    @staticmethod
    def _release_rings(cam: _Camera) -> None:
        for ring in (cam.ring, cam.detect_ring):
            if ring is not None:
                ring.unlink()
                ring.close()
        cam.ring = cam.detect_ring = None

    # -- timers ------------------------------------------------------------------------------

    def _run_timers(self) -> None:
        now = time.monotonic()
        for cam in list(self._cameras.values()):
            if cam.restart_at is not None and now >= cam.restart_at and not cam.running:
                log.info(
                    "%s: restarting capture worker (restart %d)",
                    cam.spec.name,
                    cam.restarts.attempt,
                )
                self._launch(cam)
        for cam in list(self._retiring):
            if cam.process is not None:
                cam.process.enforce_stop(now)
            elif cam.thread is not None:
                if not cam.thread.is_alive():
                    self._on_exit(cam)
                elif cam.stop_deadline is not None and now >= cam.stop_deadline:
                    # Threads cannot be killed; the source's read timeout bounds the wait.
                    log.warning(
                        "%s: capture thread still blocked after %.1f s",
                        cam.spec.name,
                        self._stop_deadline_s,
                    )
                    cam.stop_deadline = None

    def _shutdown_everything(self) -> None:
        """Last resort when the loop ends: kill what is left and unlink every ring."""
        for cam in self._all():
            if cam.process is not None and cam.process.is_alive():
                cam.process.kill()
                cam.process.join(2.0)
            self._release_rings(cam)
        self._cameras.clear()
        self._retiring.clear()
