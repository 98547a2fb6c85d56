"""The wall's cameras and their capture: supervisor, event routing, streams, frame sizes.

:class:`WallCameras` owns the window's :class:`~camwall.capture.CaptureSupervisor`; its
events reach the UI thread through one :class:`~camwall.ui.wall.bridge.EventBridge` and go to the
camera's tile. Frames never pass through here: each tile reads its camera's ring itself.
Nothing here waits for a camera: starting and stopping only queue a command.

Two things keep the UI thread cheap with many high-resolution cameras:

* **Tile-sized frames.** Scaling a 1440p frame into a 960×540 tile at paint time costs
  ~2-4 ms of UI thread per frame on a 2-core box (the frame is cold in cache: another
  process just wrote it); a frame published at tile size is a ~0.3 ms blit. So each camera
  is asked to publish at its tile's size (``set_max_size``; the worker only scales when the
  tile is ≥1.5× smaller), and a snapshot briefly asks for full size again.
* **Substreams.** A camera may have a cheap substream for the grid and its main stream for
  when it fills the wall. The switch *overlaps*: the other stream starts, the tile keeps
  showing the current one until the new one streams, then the old one stops. That costs a
  second worker for a second or two; in exchange the picture never goes black on a
  double-click, and a main stream that fails to connect leaves the substream on screen.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from qtpy.QtCore import QObject, QTimer

from camwall.capture import CameraSpec, CameraState, CaptureEvent, CaptureSupervisor
from camwall.capture.events import InfoEvent, RingEvent, StateEvent
from camwall.control.model import OnvifSettings
from camwall.errors import CamwallError
from camwall.frames import Frame
from camwall.redact import mask_url
from camwall.sources import SourceSettings, Transport
from camwall.ui.qt_compat import Signal, connect_queued
from camwall.ui.view.frame_clock import FrameClock
from camwall.ui.wall.bridge import EventBridge
from camwall.ui.wall.tile import CameraTile

if TYPE_CHECKING:
    from camwall.config import Camera as ConfigCamera

log = logging.getLogger(__name__)

Stream = Literal["main", "sub"]
#: How long a snapshot waits for a full-size frame after asking for one.
FULL_FRAME_WAIT_S = 3.0
_RESIZE_SETTLE_MS = 200


@dataclass(frozen=True, slots=True)
class WallCamera:
    """A camera on the wall. ``url`` may carry credentials; only masked forms are shown.

    ``onvif`` says where its focus/zoom/pan-tilt control is (None: no optical control).
    """

    name: str
    url: str
    substream_url: str | None = None
    transport: Transport = "tcp"
    onvif: OnvifSettings | None = None

    @property
    def display_url(self) -> str:
        """The main URL with credentials masked."""
        return mask_url(self.url)

    def url_for(self, stream: Stream) -> str:
        """The URL of the main stream or of the substream (the main one if there is none)."""
        return self.url if stream == "main" else (self.substream_url or self.url)

    @classmethod
    def from_config(cls, camera: ConfigCamera) -> WallCamera:
        """A wall camera from a ``camwall.config`` camera (passwords resolved from the env)."""
        endpoint = camera.onvif_endpoint()
        onvif = (
            None
            if endpoint is None
            else OnvifSettings(
                endpoint.host, endpoint.port, endpoint.user or "", endpoint.password or ""
            )
        )
        return cls(
            camera.name,
            camera.resolved_url(),
            camera.resolved_substream_url(),
            camera.transport,
            onvif,
        )


@dataclass(eq=False)
class _Runtime:
    """What the wall knows about one camera."""

    camera: WallCamera
    tile: CameraTile
    running: bool = False
    key: str | None = None  # the supervisor camera shown in the tile
    stream: Stream = "main"
    pending_key: str | None = None  # the other stream: started, not yet streaming
    pending_stream: Stream = "main"
    pending_ring: str | None = None
    pending_info: InfoEvent | None = None
    max_size: tuple[int, int] | None = None


class WallCameras(QObject):
    """Runs the wall's cameras through one supervisor; see the module docstring."""

    #: A camera's state changed (its name), for summaries.
    camera_state_changed = Signal(str)

    def __init__(
        self,
        wanted_stream: Callable[[WallCamera], Stream],
        *,
        mode: Literal["process", "thread"] = "process",
        parent: QObject | None = None,
    ) -> None:
        """``wanted_stream(camera)`` says which stream the grid wants a camera on now."""
        super().__init__(parent)
        self._wanted_stream = wanted_stream
        self._cameras: dict[str, _Runtime] = {}
        self._by_key: dict[str, _Runtime] = {}
        self._closing = False
        self._bridge = EventBridge(self)
        connect_queued(self._bridge.event_received, self._on_event)
        self.supervisor = CaptureSupervisor(self._bridge.post, mode=mode)
        # Workers write a byte per frame; the tiles' clock wakes on it instead of polling.
        self._clock = FrameClock.shared()
        self._clock.watch(
            self.supervisor.frame_notify_fd, self.supervisor.drain_frame_notifications
        )
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(_RESIZE_SETTLE_MS)
        self._resize_timer.timeout.connect(self.update_frame_sizes)

    # -- cameras ----------------------------------------------------------------------------------

    def add(self, camera: WallCamera, tile: CameraTile) -> None:
        """Track ``camera`` shown in ``tile`` (not started)."""
        self._cameras[camera.name] = _Runtime(camera, tile)
        tile.resized.connect(self._resize_timer.start)
        tile.zoom.changed.connect(self._resize_timer.start)

    def remove(self, name: str) -> None:
        """Stop and forget camera ``name``."""
        self.stop(name)
        self._cameras.pop(name, None)

    def names(self) -> list[str]:
        """Every camera, in order of addition."""
        return list(self._cameras)

    def camera(self, name: str) -> WallCamera:
        """Camera ``name``."""
        return self._runtime(name).camera

    def tile(self, name: str) -> CameraTile:
        """Camera ``name``'s tile."""
        return self._runtime(name).tile

    def is_running(self, name: str) -> bool:
        """True if camera ``name`` is started."""
        return self._runtime(name).running

    def stream(self, name: str) -> Stream:
        """The stream shown in camera ``name``'s tile."""
        return self._runtime(name).stream

    def find_url(self, url: str) -> str | None:
        """The camera whose main URL is ``url`` (or shows as ``url`` when masked)."""
        for rt in self._cameras.values():
            if url in (rt.camera.url, rt.camera.display_url):
                return rt.camera.name
        return None

    def _runtime(self, name: str) -> _Runtime:
        try:
            return self._cameras[name]
        except KeyError:
            raise KeyError(f"no camera named {name!r} on the wall") from None

    # -- start, stop, reconnect -------------------------------------------------------------------

    def start(self, name: str) -> None:
        """Start camera ``name`` (returns at once; the tile shows the progress)."""
        rt = self._runtime(name)
        if rt.running or self._closing:
            return
        stream = self._wanted_stream(rt.camera)
        rt.max_size = self._tile_size(rt.tile)
        rt.running, rt.stream = True, stream
        rt.key = self._launch(rt, stream)
        rt.tile.set_state(
            CameraState.CONNECTING, f"connecting to {mask_url(rt.camera.url_for(stream))}"
        )
        self.camera_state_changed.emit(name)

    def stop(self, name: str) -> None:
        """Stop camera ``name`` (returns at once; its worker ends in the background)."""
        rt = self._runtime(name)
        if not rt.running:
            return
        self._cancel_switch(rt)
        if rt.key is not None:
            self.supervisor.stop(rt.key)
            self._by_key.pop(rt.key, None)
        rt.running, rt.key = False, None
        rt.tile.close_ring()
        rt.tile.set_state(CameraState.STOPPED, "stopped")
        self.camera_state_changed.emit(name)

    def reconnect(self, name: str) -> None:
        """Drop camera ``name``'s connection and connect again now (start it if stopped)."""
        rt = self._runtime(name)
        if rt.running and rt.key is not None:
            self.supervisor.reconnect(rt.key)
        else:
            self.start(name)

    def _launch(self, rt: _Runtime, stream: Stream) -> str:
        camera = rt.camera
        key = camera.name if stream == "main" else f"{camera.name} (sub)"
        settings = SourceSettings(url=camera.url_for(stream), transport=camera.transport)
        self._by_key[key] = rt
        self.supervisor.start(CameraSpec(name=key, source=settings, max_size=rt.max_size))
        return key

    # -- streams ------------------------------------------------------------------------------------

    def update_streams(self) -> None:
        """Move every camera to the stream the grid wants now (after a layout change)."""
        for rt in self._cameras.values():
            if not rt.running:
                continue
            wanted = self._wanted_stream(rt.camera)
            if rt.pending_key is not None and rt.pending_stream != wanted:
                self._cancel_switch(rt)
            if wanted != rt.stream and rt.pending_key is None:
                rt.pending_stream = wanted
                rt.pending_key = self._launch(rt, wanted)
                log.info(
                    "%s: switching to its %s stream",
                    rt.camera.name,
                    wanted,
                    extra={"camera": rt.camera.name},
                )

    def _cancel_switch(self, rt: _Runtime) -> None:
        if rt.pending_key is not None:
            self.supervisor.stop(rt.pending_key)
            self._by_key.pop(rt.pending_key, None)
        rt.pending_key = rt.pending_ring = rt.pending_info = None

    def _on_event(self, event: CaptureEvent) -> None:
        """Route a supervisor event to its camera's tile (UI thread)."""
        rt = self._by_key.get(event.camera)
        if rt is None or self._closing:
            return  # stopped or removed meanwhile
        if event.camera == rt.pending_key:
            self._on_pending_event(rt, event)
        elif event.camera == rt.key:
            rt.tile.apply_event(event)
            if isinstance(event, StateEvent):
                self.camera_state_changed.emit(rt.camera.name)

    def _on_pending_event(self, rt: _Runtime, event: CaptureEvent) -> None:
        if isinstance(event, RingEvent):
            rt.pending_ring = event.ring_name
        elif isinstance(event, InfoEvent):
            rt.pending_info = event
        elif isinstance(event, StateEvent) and event.state is CameraState.STREAMING:
            ring = rt.pending_ring or self.supervisor.ring_name(event.camera)
            old = rt.key
            rt.key, rt.stream = rt.pending_key, rt.pending_stream
            rt.pending_key = rt.pending_ring = None
            if ring:
                rt.tile.apply_event(RingEvent(event.camera, ring, 0, 0))
            if rt.pending_info is not None:
                rt.tile.apply_event(rt.pending_info)
                rt.pending_info = None
            rt.tile.apply_event(event)
            if old is not None:
                self.supervisor.stop(old)
                self._by_key.pop(old, None)
            self.camera_state_changed.emit(rt.camera.name)
        elif isinstance(event, StateEvent) and event.state is CameraState.FAILED:
            log.warning(
                "%s: the %s stream failed (%s); staying on the current stream",
                rt.camera.name,
                rt.pending_stream,
                event.reason,
                extra={"camera": rt.camera.name},
            )
            self._cancel_switch(rt)

    # -- frame sizes ----------------------------------------------------------------------------------

    @staticmethod
    def _tile_size(tile: CameraTile) -> tuple[int, int] | None:
        # Digitally zoomed in by z, the tile shows 1/z of the frame: frames z times the tile's
        # size keep that part sharp (the worker never scales up, so at most full size).
        ratio = tile.devicePixelRatioF() * tile.zoom.factor
        w, h = int(tile.width() * ratio), int(tile.height() * ratio)
        return (w, h) if w >= 16 and h >= 16 and tile.isVisible() else None

    def schedule_frame_sizes(self) -> None:
        """Call :meth:`update_frame_sizes` once tiles have settled (after a layout change)."""
        self._resize_timer.start()

    def update_frame_sizes(self) -> None:
        """Ask each camera to publish frames at its tile's size (see the module docstring)."""
        for rt in self._cameras.values():
            size = self._tile_size(rt.tile)
            if size is None or size == rt.max_size:
                continue
            rt.max_size = size
            for key in (rt.key, rt.pending_key):
                if rt.running and key is not None:
                    self.supervisor.set_max_size(key, size)

    def full_frame(self, name: str) -> concurrent.futures.Future[Frame]:
        """Camera ``name``'s newest frame at the stream's full resolution (UI thread).

        If the ring holds tile-sized frames, the worker is asked for full-size ones until
        one arrives (at most :data:`FULL_FRAME_WAIT_S`), then goes back to tile size.
        """
        rt = self._runtime(name)
        result: concurrent.futures.Future[Frame] = concurrent.futures.Future()
        ring = rt.tile.ring
        frame = ring.read_latest() if ring is not None else None
        if frame is None:
            raise CamwallError(f"{name} has no picture to save yet")
        info = rt.tile.stream_info
        native = (info.width, info.height) if info is not None else (frame.width, frame.height)
        key = rt.key
        if frame.width >= native[0] or not rt.running or key is None:
            result.set_result(frame)
            return result
        self.supervisor.set_max_size(key, None)
        poll = QTimer(self)
        poll.setInterval(20)
        waited = [0]

        def check() -> None:
            """Every 20 ms: is a full-size frame in the ring yet? (Copy only that one.)"""
            waited[0] += poll.interval()
            ring = rt.tile.ring
            info = ring.latest_info() if ring is not None else None
            full = info is not None and info.width >= native[0]
            if not full and waited[0] < FULL_FRAME_WAIT_S * 1000 and rt.running:
                return
            poll.stop()
            poll.deleteLater()
            if rt.running and rt.key == key:
                self.supervisor.set_max_size(key, rt.max_size)
            got = ring.read_latest() if full and ring is not None else None
            if got is None or got.width < native[0]:
                log.warning(
                    "%s: no full-size frame within %.1f s; saving a %d×%d one",
                    name,
                    FULL_FRAME_WAIT_S,
                    frame.width,
                    frame.height,
                    extra={"camera": name},
                )
                got = frame
            result.set_result(got)

        poll.timeout.connect(check)
        poll.start()
        return result

    # -- closing ------------------------------------------------------------------------------------

    def begin_close(self) -> None:
        """Ignore further events and let go of every ring (UI thread; then call :meth:`close`)."""
        self._closing = True
        self._resize_timer.stop()
        self._clock.unwatch(self.supervisor.frame_notify_fd)
        for rt in self._cameras.values():
            rt.tile.close_ring()

    def close(self, timeout: float) -> bool:
        """Stop every worker and wait up to ``timeout`` s (any thread); True if all ended."""
        self._closing = True
        ended = self.supervisor.close(timeout=timeout)
        self._bridge.close()
        return ended
