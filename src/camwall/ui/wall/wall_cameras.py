"""The wall's cameras: tiles over the runtime's cameras. No capture, no policy here.

:class:`WallCameras` is the Qt face of :class:`~camwall.runtime.Runtime` for video: one
:class:`~camwall.ui.wall.tile.CameraTile` per camera, the runtime's events delivered to the
tile through the one :class:`~camwall.ui.wall.bridge.RuntimeBridge`, and commands going back
(start, stop, reconnect, the view each tile wants). Frames never pass through here: each
tile reads its camera's ring itself.

What the wall tells the runtime about each tile (``Runtime.set_view``):

* **Its size.** Scaling a 1440p frame into a 960×540 tile at paint time costs ~2-4 ms of UI
  thread per frame on a 2-core box (the frame is cold in cache: another process just wrote
  it); a frame published at tile size is a ~0.3 ms blit. So each camera is asked to publish
  at its tile's size (the worker only scales when the tile is ≥1.5× smaller).
* **Its stream.** The substream for a tile in the grid, the main stream when the camera
  fills the wall or is zoomed in. The runtime decides (a recording camera stays on its main
  stream) and switches without a black picture.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass

from qtpy.QtCore import QObject, QTimer

from camwall.capture import CameraState
from camwall.capture.events import InfoEvent, RingEvent, StateEvent, StatsEvent
from camwall.config import Camera
from camwall.frames import Frame
from camwall.redact import mask_url
from camwall.runtime import CameraChanged, DecodeChanged, Runtime, RuntimeEvent, Stream
from camwall.ui.qt_compat import Signal, connect_queued
from camwall.ui.view.frame_clock import FrameClock
from camwall.ui.wall.bridge import RuntimeBridge
from camwall.ui.wall.tile import CameraTile

log = logging.getLogger(__name__)

_RESIZE_SETTLE_MS = 200


@dataclass(eq=False)
class _Shown:
    """A camera as the wall shows it."""

    name: str
    tile: CameraTile
    view: tuple[Stream, tuple[int, int] | None, bool, bool] | None = None
    #: The stream the tile shows, as the events that reached the UI thread say.
    stream: Stream = "main"


class WallCameras(QObject):
    """Tiles over the runtime's cameras; see the module docstring."""

    #: A camera's state or settings changed (its name), for summaries and menus.
    camera_state_changed = Signal(str)
    #: Every runtime event, on the UI thread, after the tiles have seen it.
    event_received = Signal(object)

    def __init__(
        self,
        runtime: Runtime,
        wanted_stream: Callable[[str], Stream],
        parent: QObject | None = None,
        *,
        shown: Callable[[], bool] = lambda: True,
        focused: Callable[[str], bool] | None = None,
    ) -> None:
        """``wanted_stream(name)`` says which stream the grid would like a camera on now;
        ``focused(name)``: the camera the viewer looks at (enlarged, zoomed), which the
        decode budget always decodes in full; ``shown()`` is False while the whole wall is
        out of sight (minimised)."""
        super().__init__(parent)
        self.runtime = runtime
        self._wanted_stream = wanted_stream
        self._wall_shown = shown
        self._is_focused = focused
        self._shown: dict[str, _Shown] = {}
        self._closing = False
        #: Cameras whose tiles show recordings (camwall.ui.review): live events leave them be.
        self.reviewing: set[str] = set()
        self._bridge = RuntimeBridge(runtime, self)
        connect_queued(self._bridge.event_received, self._on_event)
        # Workers write a byte per frame; the tiles' clock wakes on it instead of polling.
        self._clock = FrameClock.shared()
        self._clock.watch(runtime.frame_notify_fd, runtime.drain_frame_notifications)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(_RESIZE_SETTLE_MS)
        self._resize_timer.timeout.connect(self.update_views)

    # -- cameras ----------------------------------------------------------------------------

    def add(self, camera: Camera, tile: CameraTile, *, start: bool = True) -> None:
        """Give ``camera`` to the runtime, shown in ``tile``; raises for a bad camera."""
        self._shown[camera.name] = _Shown(camera.name, tile)
        tile.set_source_text(mask_url(camera.url))
        tile.resized.connect(self._resize_timer.start)
        tile.zoom.changed.connect(self._resize_timer.start)
        try:
            self.runtime.add_camera(camera, start=False)
        except BaseException:
            self._shown.pop(camera.name, None)
            raise
        if start:
            self.start(camera.name)

    def remove(self, name: str) -> None:
        """Take camera ``name`` away (the runtime stops it)."""
        shown = self._shown.pop(name, None)
        if shown is not None:
            shown.tile.close_ring()
        self.runtime.remove_camera(name)

    def names(self) -> list[str]:
        """Every camera on the wall, in order of addition."""
        return list(self._shown)

    def camera(self, name: str) -> Camera:
        """Camera ``name``'s settings."""
        return self.runtime.camera(name)

    def tile(self, name: str) -> CameraTile:
        """Camera ``name``'s tile."""
        try:
            return self._shown[name].tile
        except KeyError:
            raise KeyError(f"no camera named {name!r} on the wall") from None

    def is_running(self, name: str) -> bool:
        """True if camera ``name`` is started."""
        return self.runtime.is_running(name)

    def stream(self, name: str) -> Stream:
        """The stream shown in camera ``name``'s tile (as far as the tile has been told)."""
        try:
            return self._shown[name].stream
        except KeyError:
            raise KeyError(f"no camera named {name!r} on the wall") from None

    def find_url(self, url: str) -> str | None:
        """The camera whose main URL is ``url`` (or shows as ``url`` when masked)."""
        for name in self._shown:
            camera = self.runtime.camera(name)
            if url in (camera.url, camera.display_url):
                return name
        return None

    # -- commands ----------------------------------------------------------------------------

    def start(self, name: str) -> None:
        """Start camera ``name`` (returns at once; the tile shows the progress)."""
        if self._closing or self.runtime.is_running(name):
            return
        shown = self._shown[name]
        self._send_view(shown, force=True)
        camera = self.runtime.camera(name)
        shown.tile.set_state(CameraState.CONNECTING, f"connecting to {mask_url(camera.url)}")
        self.runtime.start_camera(name)

    def stop(self, name: str) -> None:
        """Stop camera ``name`` (returns at once; its worker ends in the background)."""
        if not self.runtime.is_running(name):
            return
        self.runtime.stop_camera(name)
        tile = self.tile(name)
        tile.close_ring()
        tile.set_state(CameraState.STOPPED, "stopped")

    def reconnect(self, name: str) -> None:
        """Drop camera ``name``'s connection and connect again now (start it if stopped)."""
        if self.runtime.is_running(name):
            self.runtime.reconnect(name)
        else:
            self.start(name)

    # -- views -------------------------------------------------------------------------------

    @staticmethod
    def _tile_size(tile: CameraTile) -> tuple[int, int] | None:
        # Digitally zoomed in by z, the tile shows 1/z of the frame: frames z times the tile's
        # size keep that part sharp (the worker never scales up, so at most full size).
        ratio = tile.devicePixelRatioF() * tile.zoom.factor
        w, h = int(tile.width() * ratio), int(tile.height() * ratio)
        return (w, h) if w >= 16 and h >= 16 and tile.isVisible() else None

    def _send_view(self, shown: _Shown, *, force: bool = False) -> None:
        stream = self._wanted_stream(shown.name)
        visible = self._wall_shown() and shown.tile.isVisible()
        # The camera filling the wall or zoomed into (it asks for its main stream) is the
        # one the viewer is looking at: the decode budget always decodes it in full.
        focused = visible and self._focused(shown.name)
        view = (stream, self._tile_size(shown.tile), visible, focused)
        if view == shown.view and not force:
            return
        shown.view = view
        self.runtime.set_view(
            shown.name, stream=stream, max_size=view[1], visible=visible, focused=focused
        )

    def _focused(self, name: str) -> bool:
        if self._is_focused is not None:
            return self._is_focused(name)
        tile = self._shown[name].tile
        return tile.zoom.is_zoomed or all(
            not s.tile.isVisible() for s in self._shown.values() if s.name != name
        )

    def schedule_frame_sizes(self) -> None:
        """Call :meth:`update_views` once tiles have settled (after a layout change)."""
        self._resize_timer.start()

    def update_views(self) -> None:
        """Tell the runtime which stream and frame size each tile would like now."""
        if self._closing:
            return
        for shown in self._shown.values():
            self._send_view(shown)

    # Kept under their old names: callers ask for streams after a layout change.
    update_streams = update_views
    update_frame_sizes = update_views

    def full_frame(self, name: str) -> concurrent.futures.Future[Frame]:
        """Camera ``name``'s newest frame at the stream's full resolution (see the runtime)."""
        return self.runtime.full_frame(name)

    # -- events ------------------------------------------------------------------------------

    def _on_event(self, event: RuntimeEvent) -> None:
        """UI thread: hand a camera's capture events to its tile."""
        if self._closing:
            return
        payload = event.payload
        name = event.camera
        shown = self._shown.get(name) if name is not None else None
        if shown is not None:
            detect_ring = isinstance(payload, RingEvent) and payload.role != "view"
            if detect_ring:
                pass  # the detector's ring: not a picture for the tile
            elif isinstance(payload, (StateEvent, RingEvent, InfoEvent, StatsEvent)):
                stopped = isinstance(payload, StateEvent) and payload.state is CameraState.STOPPED
                if stopped and self.runtime.is_running(shown.name):
                    return  # a stream the camera switched away from
                if name not in self.reviewing:  # a tile in review shows a playback ring
                    shown.tile.apply_event(payload)
            elif isinstance(payload, DecodeChanged) and name not in self.reviewing:
                shown.tile.set_decode_badge(payload.badge)
            if isinstance(payload, CameraChanged):
                shown.stream = "sub" if payload.stream == "sub" else "main"
            if isinstance(payload, (StateEvent, CameraChanged)):
                self.camera_state_changed.emit(shown.name)
        self.event_received.emit(event)

    # -- closing -----------------------------------------------------------------------------

    def begin_close(self) -> None:
        """Ignore further events and let go of every ring (UI thread; then :meth:`close`)."""
        self._closing = True
        self._resize_timer.stop()
        self._clock.unwatch(self.runtime.frame_notify_fd)
        self._bridge.close()
        for shown in self._shown.values():
            shown.tile.close_ring()
