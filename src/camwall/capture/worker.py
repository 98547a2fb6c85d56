"""The capture loop of one camera: connect, stream into the ring, back off, reconnect.

The same :class:`CaptureWorker` runs in a child process (the default: a decoder crash kills
the worker, not the app, and decoding runs in parallel) or in a thread (library use, tests).
It talks to its supervisor through two pipes: events out (``camwall.capture.events`` plus the
private requests below) and control messages in.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from camwall.capture.events import (
    CameraState,
    CaptureEvent,
    InfoEvent,
    RecordingEvent,
    StateEvent,
    StatsEvent,
)
from camwall.capture.spec import CameraSpec, DetectOutput, RecordingSpec, fit_size
from camwall.childproc import Child, Outbox
from camwall.detect.geometry import detect_size
from camwall.errors import (
    CaptureError,
    InvalidSourceError,
    RingError,
    SourceAuthError,
    SourceError,
    StreamNotFoundError,
    UnsupportedStreamError,
)
from camwall.frames import FrameRing, PixelFormat
from camwall.redact import redact
from camwall.sources import Source, SourceFrame, open_source
from camwall.sources.base import DecodeMode

if TYPE_CHECKING:
    from camwall.record.events import RecordEvent
    from camwall.record.recorder import SegmentRecorder
    from camwall.record.triggered import TriggeredRecorder

log = logging.getLogger(__name__)

#: Errors that reconnecting cannot fix; the camera is FAILED and retried slowly.
PERMANENT_ERRORS: tuple[type[SourceError], ...] = (
    SourceAuthError,
    StreamNotFoundError,
    InvalidSourceError,
    UnsupportedStreamError,
)
RING_REPLY_TIMEOUT_S = 5.0
#: Longest a read waits for a frame before the worker looks at its commands again (decoding
#: keyframes only, or nothing, frames are seconds apart).
IDLE_POLL_S = 0.25


@dataclass(frozen=True, slots=True)
class RingRequest:
    """Worker → supervisor: frames of this size no longer fit; please re-create the ring."""

    camera: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class RingReply:
    """Supervisor → worker: publish into ``ring_name`` from now on (None: request refused)."""

    ring_name: str | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Supervisor → worker: drop the connection and connect again now."""


@dataclass(frozen=True, slots=True)
class SetDetect:
    """Supervisor → worker: also publish detect-sized frames into ring ``ring_name`` (None:
    stop). The supervisor owns that ring, as it owns the view ring."""

    output: DetectOutput | None
    ring_name: str | None = None


@dataclass(frozen=True, slots=True)
class SetDecode:
    """Supervisor → worker: decode every frame, keyframes only, or nothing."""

    mode: DecodeMode


@dataclass(frozen=True, slots=True)
class SetMaxSize:
    """Supervisor → worker: publish frames scaled to fit this size (None: full size)."""

    max_size: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class SetView:
    """Supervisor → worker: publish the view ring (True) or only the detect ring (False)."""

    view: bool


@dataclass(frozen=True, slots=True)
class SetRecording:
    """Supervisor → worker: record as ``recording`` says from the next keyframe, or stop
    recording (None: the open segment is finished), without reconnecting."""

    recording: RecordingSpec | None


@dataclass(frozen=True, slots=True)
class TriggerRecording:
    """Supervisor → worker: an event: a camera recording on events records from its
    pre-roll on until ``post_roll_s`` after the last trigger (ignored otherwise)."""

    post_roll_s: float


class _ReconnectRequested(Exception):
    """Raised inside the streaming loop to leave it for an immediate reconnect."""


class _StopRequested(Exception):
    """Raised inside the streaming loop when the worker is asked to stop."""


class _Stats:
    """Per-interval counters behind StatsEvent."""

    def __init__(self) -> None:
        self.reset(time.monotonic())
        self.dropped_total = 0

    def reset(self, now: float) -> None:
        self.start = now
        self.packets0 = -1
        self.decoded = 0
        self.published = 0
        self.decode_ns = 0
        self.convert_ns = 0
        #: The detect output's own cost and count, apart from the view's convert.
        self.detect_ns = 0
        self.detected = 0
        self.bytes0 = -1


class CaptureWorker:
    """Runs one camera until stopped; see the module docstring."""

    def __init__(
        self,
        spec: CameraSpec,
        ring_name: str,
        events: Outbox,
        control: Connection,
        notify: Connection | None = None,
    ) -> None:
        """Prepare; nothing is opened until :meth:`run`.

        ``events`` carries messages to the supervisor, ``control`` brings its requests.
        ``notify`` is the write end of the owner's frame-notification pipe (non-blocking):
        one byte goes into it per published frame, so a display can sleep until one comes.
        """
        self.spec = spec
        self._ring_name = ring_name
        self._events = events
        self._control = control
        self._notify = notify
        self._notify_fd = notify.fileno() if notify is not None else -1
        self._stop = threading.Event()
        self._source: Source | None = None
        self._source_lock = threading.Lock()
        self._max_size = spec.max_size
        self._view = spec.view
        #: Painting again after detect-only: say STREAMING once the view ring has a frame.
        self._announce = False
        self._decode: DecodeMode = spec.decode
        #: The detect-sized output: what, into which ring, and when the next one is due.
        self._detect: DetectOutput | None = None
        self._detect_ring: FrameRing | None = None
        self._detect_due = 0.0
        self._detect_too_big = False
        self._state: CameraState | None = None
        self._attempt = 0
        self._last_error: str | None = None
        self._recording = spec.recording
        self._recorder: SegmentRecorder | TriggeredRecorder | None = None
        self._said_unrecordable = False

    # -- called from other threads ---------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end; interrupts a blocking open/read. Thread-safe, returns at once."""
        self._stop.set()
        with self._source_lock:
            if self._source is not None:
                self._source.interrupt()

    def close_pipes(self) -> None:
        """Close both pipes; the supervisor sees end-of-file and knows the worker is done."""
        self._events.close()
        self._control.close()

    def send(self, message: CaptureEvent | RingRequest) -> None:
        """Send one message to the supervisor (thread-safe; OwnerGone if it is gone)."""
        self._events.send(message)

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, stream, back off and reconnect until :meth:`stop`; always ends STOPPED."""
        try:
            ring = FrameRing.attach(self._ring_name)
        except RingError as exc:
            self._set_state(CameraState.FAILED, f"cannot attach frame ring: {exc}", error=exc)
            return
        try:
            while not self._stop.is_set():
                ring = self._connect_and_stream(ring)
        finally:
            self._close_recorder()
            ring.close()
            if self._detect_ring is not None:
                self._detect_ring.close()
                self._detect_ring = None
            self._set_state(CameraState.STOPPED, "stopped")

    def _connect_and_stream(self, ring: FrameRing) -> FrameRing:
        """One connection attempt and, if it works, one streaming session. Returns the ring."""
        self._attempt += 1
        self._set_state(CameraState.CONNECTING, f"connecting to {self.spec.source.display_url}")
        started = time.monotonic()
        failure: BaseException | None = None
        try:
            source = open_source(self.spec.source)
            source.set_decode(self._decode)
            with self._source_lock:
                self._source = source
                if self._stop.is_set():
                    source.interrupt()
            try:
                info = source.open()
                self.send(
                    InfoEvent(
                        self.spec.name,
                        info.url,
                        info.codec,
                        info.width,
                        info.height,
                        info.fps,
                        info.bitrate,
                    )
                )
                self._attach_recorder(source)
                ring = self._stream(source, ring)
            finally:
                with self._source_lock:
                    self._source = None
                try:
                    self._end_segment(source)
                finally:
                    source.close()
        except _ReconnectRequested:
            self._attempt = 0
            self._set_state(CameraState.LOST, "reconnect requested")
            return ring
        except _StopRequested:
            return ring
        except SourceError as exc:
            failure = exc
        except CaptureError as exc:
            failure = exc
        if self._stop.is_set():
            return ring
        if time.monotonic() - started >= self.spec.backoff.healthy_s:
            self._attempt = 1
        assert failure is not None
        self._back_off(failure)
        return ring

    def _back_off(self, failure: BaseException) -> None:
        permanent = isinstance(failure, PERMANENT_ERRORS)
        reason = redact(str(failure)) or type(failure).__name__
        self._last_error = reason
        delay = self.spec.backoff.delay(self._attempt, failed=permanent)
        if permanent:
            self._set_state(CameraState.FAILED, reason, retry_in_s=delay, error=failure)
        else:
            self._set_state(CameraState.LOST, reason, error=failure)
            self._set_state(CameraState.BACKOFF, reason, retry_in_s=delay, error=failure)
        log.log(
            logging.WARNING if self._attempt <= 1 else logging.INFO,
            "%s: %s; retrying in %.1f s",
            self.spec.name,
            reason,
            delay,
        )
        self._stop.wait(delay)

    def _stream(self, source: Source, ring: FrameRing) -> FrameRing:
        """Read frames and publish them until the source fails or we are stopped."""
        stats = _Stats()
        streaming = False
        interval = self.spec.stats_interval_s
        size = (0, 0)  # of the last published frame
        while True:
            if self._stop.is_set():
                raise _StopRequested
            self._poll_control(source)
            t0 = time.thread_time_ns()
            # Bounded, so commands (and stats) are seen while little or nothing is decoded.
            frame = source.read_within(IDLE_POLL_S)
            if frame is None:
                if (not streaming or self._announce) and self._decode != "full":
                    # Connected and receiving, decoding little or nothing on purpose.
                    streaming, self._announce = True, False
                    self._attempt = 0
                    self._set_state(
                        CameraState.STREAMING,
                        f"receiving from {source.display_url} (decoding: {self._decode})",
                    )
                now = time.monotonic()
                if now - stats.start >= interval:
                    self._send_stats(source, stats, now, *size)
                continue
            decode_ns = frame.decode_ns or (time.thread_time_ns() - t0)
            stats.decoded += 1
            stats.decode_ns += decode_ns
            width, height = fit_size(frame.width, frame.height, self._max_size)
            size = (width, height)
            if self._view:
                if width * height * 4 > ring.capacity:
                    ring = self._replace_ring(ring, width, height, source)
                t1 = time.thread_time_ns()
                self._publish(ring, frame, width, height)
                self._frame_ready()
                stats.convert_ns += time.thread_time_ns() - t1
                stats.published += 1
            if self._detect is not None:
                t2 = time.thread_time_ns()
                if self._publish_detect(frame):
                    stats.detect_ns += time.thread_time_ns() - t2
                    stats.detected += 1
            if not streaming or (self._announce and self._view):
                # Said once the first frame is in the ring: a stream switch that follows this
                # state never shows an empty ring.
                streaming, self._announce = True, False
                self._attempt = 0
                self._set_state(
                    CameraState.STREAMING, f"{frame.width}×{frame.height} from {source.display_url}"
                )
            now = time.monotonic()
            if now - stats.start >= interval:
                self._send_stats(source, stats, now, width, height)

    @staticmethod
    def _publish(ring: FrameRing, frame: SourceFrame, width: int, height: int) -> None:
        # In its own function so the slot view dies here: a view kept alive across
        # iterations would pin the mapping (and stop ring.close()).
        with ring.write(
            width, height, PixelFormat.BGRA, pts=frame.pts, capture_ns=frame.capture_ns
        ) as dst:
            frame.convert_into(dst)

    def _publish_detect(self, frame: SourceFrame) -> bool:
        """The detect-sized copy of ``frame``, at the detector's rate (same decode); True if
        one was written."""
        output, ring = self._detect, self._detect_ring
        now = time.monotonic()
        if output is None or ring is None or now < self._detect_due:
            return False
        self._detect_due = max(self._detect_due + 1.0 / output.fps, now)
        w, h = detect_size(frame.width, frame.height, output.width, output.height)
        if w * h * 4 > ring.capacity:
            if not self._detect_too_big:
                self._detect_too_big = True
                log.warning("%s: detect frames of %d×%d do not fit; skipped", self.spec.name, w, h)
            return False
        with ring.write(w, h, PixelFormat.BGRA, pts=frame.pts, capture_ns=frame.capture_ns) as dst:
            frame.convert_for_detection(dst)
        return True

    def _set_detect(self, message: SetDetect) -> None:
        if self._detect_ring is not None and (
            message.output is None or message.ring_name != self._detect_ring.name
        ):
            self._detect_ring.close()
            self._detect_ring = None
        if message.output is not None and message.ring_name and self._detect_ring is None:
            try:
                self._detect_ring = FrameRing.attach(message.ring_name)
            except RingError as exc:
                log.warning("%s: cannot attach the detect ring: %s", self.spec.name, exc)
                return
        self._detect = message.output
        self._detect_due = 0.0

    def _set_view(self, view: bool) -> None:
        # Painting again: the owner waits for STREAMING before it shows this ring.
        self._announce = view and not self._view
        self._view = view

    def _frame_ready(self) -> None:
        """One byte into the notification pipe (never blocks: a full pipe means unread news)."""
        if self._notify_fd < 0:
            return
        try:
            os.write(self._notify_fd, b"\x01")
        except BlockingIOError:
            pass  # the reader has not drained the earlier bytes; it will see this frame too
        except OSError:
            self._notify_fd = -1  # the reader is gone: nobody to wake

    def _send_stats(
        self, source: Source, stats: _Stats, now: float, width: int, height: int
    ) -> None:
        elapsed = max(1e-6, now - stats.start)
        skipped = int(source.stats.extra.get("skipped", 0))
        total_bytes = source.stats.bytes
        bitrate = 0.0 if stats.bytes0 < 0 else (total_bytes - stats.bytes0) * 8 / 1000 / elapsed
        frames = max(1, stats.decoded)
        packets = source.stats.packets
        packet_rate = 0.0 if stats.packets0 < 0 else (packets - stats.packets0) / elapsed
        self.send(
            StatsEvent(
                camera=self.spec.name,
                fps_in=stats.decoded / elapsed,
                fps_published=stats.published / elapsed,
                dropped=skipped + stats.dropped_total,
                decode_ms=stats.decode_ns / frames / 1e6,
                convert_ms=stats.convert_ns / max(1, stats.published) / 1e6,
                bitrate_kbps=bitrate,
                corrupt=source.stats.corrupt_packets,
                width=width,
                height=height,
                last_error=self._last_error,
                decode=self._decode,
                packet_rate=packet_rate,
                detect_ms=stats.detect_ns / max(1, stats.detected) / 1e6,
                fps_detect=stats.detected / elapsed,
            )
        )
        stats.reset(now)
        stats.bytes0 = total_bytes
        stats.packets0 = source.stats.packets

    def _poll_control(self, source: Source) -> None:
        while self._control.poll():
            message = self._control.recv()
            if isinstance(message, Reconnect):
                raise _ReconnectRequested
            if isinstance(message, SetMaxSize):
                self._max_size = message.max_size
            elif isinstance(message, SetRecording):
                self._set_recording(message.recording, source)
            elif isinstance(message, TriggerRecording):
                self._trigger(message.post_roll_s)
            elif isinstance(message, SetDecode):
                self._decode = message.mode
                source.set_decode(message.mode)
            elif isinstance(message, SetDetect):
                self._set_detect(message)
            elif isinstance(message, SetView):
                self._set_view(message.view)
            else:
                log.warning("%s: unexpected control message %r ignored", self.spec.name, message)

    def _replace_ring(self, ring: FrameRing, width: int, height: int, source: Source) -> FrameRing:
        """Ask the supervisor (the rings' owner) for a ring that fits; wait for its answer."""
        log.info(
            "%s: %d×%d frames exceed the ring; asking for a larger one",
            self.spec.name,
            width,
            height,
        )
        self.send(RingRequest(self.spec.name, width, height))
        deadline = time.monotonic() + RING_REPLY_TIMEOUT_S
        while time.monotonic() < deadline and not self._stop.is_set():
            if not self._control.poll(0.05):
                continue
            message = self._control.recv()
            if isinstance(message, RingReply):
                if message.ring_name is None:
                    raise CaptureError(f"cannot publish {width}×{height} frames: {message.reason}")
                new = FrameRing.attach(message.ring_name)
                ring.close()
                return new
            if isinstance(message, SetMaxSize):
                self._max_size = message.max_size
            elif isinstance(message, SetRecording):
                self._set_recording(message.recording, source)
            elif isinstance(message, TriggerRecording):
                self._trigger(message.post_roll_s)
            elif isinstance(message, SetDetect):
                self._set_detect(message)
            elif isinstance(message, SetView):
                self._set_view(message.view)
        if self._stop.is_set():
            raise _StopRequested
        raise CaptureError(
            f"no larger frame ring for {width}×{height} frames within {RING_REPLY_TIMEOUT_S:.0f} s"
        )

    # -- recording (a side path: nothing in it may stop capture) ------------------------------

    def _set_recording(self, recording: RecordingSpec | None, source: Source) -> None:
        """Recording switched on, off or elsewhere while connected: the open segment (if any)
        is finished; a new recorder starts at the next keyframe of this same connection."""
        if recording == self._recording:
            return
        self._recording = recording
        self._close_recorder()
        if recording is None:
            source.set_packet_sink(None)
            log.info("%s: recording stopped", self.spec.name)
        else:
            log.info("%s: recording into %s", self.spec.name, recording.directory)
            self._attach_recorder(source)

    def _attach_recorder(self, source: Source) -> None:
        """Feed this connection's packets to the recorder (made on the first connection)."""
        settings = self._recording
        if settings is None:
            return
        stream = source.packet_stream
        if stream is None:
            if not self._said_unrecordable:
                self._said_unrecordable = True
                log.warning(
                    "%s: not recording: %s delivers decoded pictures only (synthetic cameras "
                    "and webcams cannot be recorded)",
                    self.spec.name,
                    source.display_url,
                )
            return
        # Imported here: only cameras that record need the muxer side of PyAV.
        from camwall.record.recorder import SegmentRecorder
        from camwall.record.triggered import TriggeredRecorder

        try:
            if self._recorder is None and settings.pre_roll_s is not None:
                self._recorder = TriggeredRecorder(
                    settings.camera or self.spec.name,
                    settings.directory,
                    settings.segment_seconds,
                    stream,
                    pre_roll_s=settings.pre_roll_s,
                    max_bytes=settings.pre_roll_max_bytes,
                    on_event=self._on_record_event,
                    retry_seconds=settings.retry_seconds,
                )
            elif self._recorder is None:
                self._recorder = SegmentRecorder(
                    settings.camera or self.spec.name,
                    settings.directory,
                    settings.segment_seconds,
                    stream,
                    on_event=self._on_record_event,
                    retry_seconds=settings.retry_seconds,
                )
            else:
                self._recorder.switch_stream(stream)
        except ValueError as exc:
            # A stream without a time base cannot be remuxed; capture goes on regardless.
            log.warning("%s: cannot record this stream: %s", self.spec.name, exc)
            return
        source.set_packet_sink(self._record_packet)

    def _trigger(self, post_roll_s: float) -> None:
        """An event for a camera recording on events (others: nothing to do)."""
        from camwall.record.triggered import TriggeredRecorder

        if isinstance(self._recorder, TriggeredRecorder):
            self._recorder.trigger(post_roll_s)
        else:
            log.debug("%s: recording trigger ignored (not recording on events)", self.spec.name)

    def _record_packet(self, packet: Any) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        try:
            recorder.write(packet)
        except Exception as exc:
            # The boundary between the live path and a side path: write() reports disk and
            # muxer trouble itself, so this is a surprise (a bug, an FFmpeg oddity). It must
            # not take the picture down; this recorder is dropped and a fresh one is made
            # at the next connection.
            log.exception("%s: recording failed unexpectedly", self.spec.name)
            self._recorder = None
            from camwall.record.events import RecordingFailed

            self._on_record_event(
                RecordingFailed(
                    recorder.camera,
                    recorder.current_path,
                    redact(f"recording failed unexpectedly: {type(exc).__name__}: {exc}"),
                    storage=False,
                    retry_s=0.0,
                )
            )

    def _end_segment(self, source: Source) -> None:
        """The connection ends: finish its segment now, not when (if ever) the camera returns."""
        recorder = self._recorder
        stream = source.packet_stream
        if recorder is not None and recorder.current_path is not None and stream is not None:
            recorder.switch_stream(stream)

    def _close_recorder(self) -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            recorder.close()

    def _on_record_event(self, event: RecordEvent) -> None:
        try:
            self.send(RecordingEvent(self.spec.name, event))
        except (OSError, ValueError):
            # The supervisor is gone (it closed the pipe); carry on stopping quietly.
            self._stop.set()

    def _set_state(
        self,
        state: CameraState,
        reason: str,
        *,
        retry_in_s: float | None = None,
        error: BaseException | None = None,
    ) -> None:
        self._state = state
        try:
            self.send(
                StateEvent(
                    self.spec.name,
                    state,
                    redact(reason),
                    retry_in_s=retry_in_s,
                    attempt=self._attempt,
                    error=None if error is None else type(error).__name__,
                )
            )
        except (OSError, ValueError):
            # The supervisor is gone (it closed the pipe); carry on stopping quietly.
            self._stop.set()


# -- process entry point ---------------------------------------------------------------------


def process_main(
    spec: CameraSpec,
    ring_name: str,
    events: Connection,
    control: Connection,
    notify: Connection | None = None,
    *,
    stop: Connection,
) -> None:
    """Entry point of a worker process (started by the supervisor with ``spawn_child``)."""
    child = Child.bootstrap(
        events, stop, label=f"{spec.name}: capture worker", log_level=spec.log_level
    )
    worker = CaptureWorker(spec, ring_name, child.outbox, control, notify)
    child.run(worker.run, on_stop=worker.stop)


def thread_main(worker: CaptureWorker) -> None:
    """Entry point of a worker thread."""
    try:
        worker.run()
    finally:
        worker.close_pipes()


__all__ = [
    "PERMANENT_ERRORS",
    "CaptureWorker",
    "Reconnect",
    "RingReply",
    "RingRequest",
    "SetDecode",
    "SetDetect",
    "SetMaxSize",
    "SetRecording",
    "SetView",
    "TriggerRecording",
    "process_main",
    "thread_main",
]
