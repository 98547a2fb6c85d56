"""Remote tiles: the cameras of headless camwall nodes, on the wall like its own.

:class:`RemoteCameras` owns one :class:`~camwall.mqtt.remote.RemoteNodes` (the ``[mqtt]``
broker, nodes found by their retained availability) and puts a
:class:`~camwall.ui.wall.remote_tile.RemoteTile` on the wall for every camera of the nodes
the config names (``[wall] nodes``, or ``"*"``):

* **Video**: the camera joins the wall's own runtime as a view-only camera (no recording, no
  detection: the node does those) whose URL is the ``stream_url`` the node announces (a
  relay such as MediaMTX/go2rtc, or the camera's URL without credentials). The tile paints
  from its ring like every tile; the title is ``node / camera``.
* **What the node says** (MQTT): its camera's state and stats (stats overlay, and a badge
  when it is not streaming there), detection boxes (the tile's
  :class:`~camwall.ui.view.detection_overlay.DetectionOverlay`, the one local tiles use),
  the REC and DETECTING badges, track lines in the log panel.
* **Node offline**: its last will, silence for 1.5 × its keepalive, or no broker connection:
  every tile of the node says "node offline" with the reason, until it is back.
* **Controls**: the tile menu's record, detect, snapshot and reconnect go to the node as
  commands; the reply, a refusal or the lack of one shows as a notification and in the log.

``RemoteNodes`` calls back on its connection thread; changes are collected there and one
queued signal wakes the UI thread, which reads the newest state (latest wins: a burst of
stats or detections costs one update). Command replies complete on the connection thread
and come back queued too. Nothing here blocks the UI thread; :meth:`close` (the window's
shutdown thread) stops the broker connection.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from qtpy.QtCore import QObject, QTimer

from camwall.config import Camera
from camwall.detect.messages import DetectionResult, TrackEvent
from camwall.errors import CamwallError
from camwall.mqtt.remote import Change, NodeCamera, RemoteNodes
from camwall.mqtt.settings import MqttSettings
from camwall.ui.qt_compat import Signal, connect_queued
from camwall.ui.view.detection_overlay import STALE_S, DetectionOverlay
from camwall.ui.wall.remote_tile import RemoteTile

if TYPE_CHECKING:
    from camwall.ui.wall.main_window import CameraWall

log = logging.getLogger(__name__)

#: A command with no reply after this long is reported as unanswered.
COMMAND_TIMEOUT_S = 10.0
#: Housekeeping: fading boxes, unanswered commands.
TICK_MS = 100
#: Track and recording events kept between two UI updates (beyond: the oldest are dropped).
MAX_EVENTS = 1000

Nodes = tuple[str, ...] | Literal["*"]


def _track_event(name: str, data: Mapping[str, Any]) -> TrackEvent | None:
    """A node's track ``event`` message as the wall's own TrackEvent (None: not a track)."""
    kind = {"start": "appeared", "end": "left"}.get(str(data.get("event")))
    track_id, when, box = data.get("track_id"), data.get("time"), data.get("box")
    if kind is None or not isinstance(track_id, int) or not isinstance(when, int | float):
        return None
    if not (isinstance(box, list) and len(box) == 4):
        box = [0.0, 0.0, 0.0, 0.0]
    score = data.get("best_score", data.get("score"))
    return TrackEvent(
        kind="appeared" if kind == "appeared" else "left",
        camera=name,
        label=str(data.get("label", "object")),
        track_id=track_id,
        time=float(when),
        capture_ns=int(data.get("capture_ns") or 0),
        seq=int(data.get("seq") or 0),
        box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
        best_score=float(score) if isinstance(score, int | float) else 0.0,
    )


def wall_name(node: str, camera: str) -> str:
    """The wall's name (and tile title) of camera ``camera`` of node ``node``."""
    return f"{node} / {camera}"


@dataclass(eq=False)
class _Remote:
    """One remote camera on the wall."""

    name: str
    node: str
    slug: str
    tile: RemoteTile
    overlay: DetectionOverlay
    url: str
    last: NodeCamera
    detections: dict[str, Any] | None = None
    segments: int = 0
    bytes: int = 0


@dataclass(eq=False)
class _Command:
    """A command sent to a node, waiting for its reply."""

    name: str
    node: str
    what: str
    future: Future[dict[str, Any]]
    deadline: float
    timed_out: bool = False


@dataclass
class _Inbox:
    """What the connection thread collected for the UI thread."""

    nodes: set[str] = field(default_factory=set)
    cameras: set[tuple[str, str]] = field(default_factory=set)
    events: collections.deque[tuple[str, str, str, dict[str, Any]]] = field(
        default_factory=lambda: collections.deque(maxlen=MAX_EVENTS)
    )


class RemoteCameras(QObject):
    """Tiles for the cameras of remote nodes; see the module docstring."""

    #: Something changed on the broker (connection thread → UI thread, queued).
    _woken = Signal()
    #: A command's future completed (a _Command), queued to the UI thread.
    _replied = Signal(object)
    #: A remote camera's tile joined or left the wall (its wall name).
    tile_added = Signal(str)
    tile_removed = Signal(str)
    #: A node went offline or came back (node name, online).
    node_changed = Signal(str, bool)
    #: A command's outcome was shown (wall name, the node's reply or None if none came).
    command_finished = Signal(str, object)

    def __init__(
        self,
        window: CameraWall,
        settings: MqttSettings,
        nodes: Nodes = "*",
        *,
        env: Mapping[str, str] | None = None,
        client_id: str | None = None,
    ) -> None:
        """Follow ``nodes`` (names, or "*" for all) on ``settings``' broker; :meth:`start` connects.

        Raises ConfigError if the broker password's variable is unset, MissingExtraError
        without paho-mqtt.
        """
        super().__init__(window)
        self._window = window
        self._wanted = nodes
        self._lock = threading.Lock()
        self._closed = False
        self._woken_pending = False
        self._inbox = _Inbox()
        self._remotes: dict[str, _Remote] = {}
        self._online: dict[str, bool] = {}
        self._seen_online: set[str] = set()
        self._commands: list[_Command] = []
        self.nodes = RemoteNodes(settings, on_change=self._post, env=env, client_id=client_id)
        connect_queued(self._woken, self._drain)
        connect_queued(self._replied, self._on_reply)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        store = window.layouts.store
        #: Where the last run had the tiles: remote ones arrive after the layout was restored.
        self._saved_order = store.saved_order() if store is not None else []
        window.remote = self

    def start(self) -> RemoteCameras:
        """Connect to the broker (in the background). Returns self."""
        self.nodes.start()
        self._timer.start()
        log.info(
            "following %s on the broker %s",
            "every node" if self._wanted == "*" else "nodes " + ", ".join(self._wanted),
            self.nodes.connection.where,
        )
        return self

    # -- what is shown -----------------------------------------------------------------------

    def names(self) -> list[str]:
        """The wall names of the remote cameras on the wall."""
        return list(self._remotes)

    def owns(self, name: str) -> bool:
        """True if ``name`` is a remote camera's tile."""
        return name in self._remotes

    def tile(self, name: str) -> RemoteTile:
        """Remote camera ``name``'s tile."""
        return self._remote(name).tile

    def overlay(self, name: str) -> DetectionOverlay:
        """Remote camera ``name``'s detection overlay."""
        return self._remote(name).overlay

    def stats_text(self, name: str) -> str:
        """What the node says of camera ``name``, for the tile's stats overlay."""
        remote = self._remotes.get(name)
        if remote is None:
            return ""
        cam = remote.last
        parts = [f"node {remote.node}: {cam.capture_state or 'no state yet'}"]
        stats = cam.stats or {}
        if isinstance(stats.get("fps_in"), int | float):
            parts.append(f"in {stats['fps_in']:.1f} fps")
        if isinstance(stats.get("decode_ms"), int | float):
            parts.append(f"decode {stats['decode_ms']:.1f} ms")
        detect = cam.detect_stats or {}
        if cam.detecting_on and isinstance(detect.get("fps"), int | float):
            parts.append(f"detect {detect['fps']:.1f} fps")
        return " · ".join(parts)

    def _remote(self, name: str) -> _Remote:
        try:
            return self._remotes[name]
        except KeyError:
            raise KeyError(f"no remote camera named {name!r} on the wall") from None

    def _wants(self, node: str) -> bool:
        return self._wanted == "*" or node in self._wanted

    # -- connection thread ----------------------------------------------------------------------

    def _post(self, change: Change) -> None:
        """RemoteNodes' callback (connection thread): note the change, wake the UI thread once."""
        if change.kind == "response" or not self._wants(change.node):
            return  # replies complete their futures; other nodes are not shown
        event: dict[str, Any] | None = None
        if change.camera is not None and change.leaf in ("event", "recording"):
            # Only the last of these is kept by RemoteNodes: take each one now, in order.
            cam = self.nodes.camera(change.node, change.camera)
            if cam is not None:
                event = cam.last_event if change.leaf == "event" else cam.recording
        with self._lock:
            if self._closed:
                return
            inbox = self._inbox
            if change.kind == "node" or change.camera is None:
                inbox.nodes.add(change.node)
            else:
                inbox.cameras.add((change.node, change.camera))
                if event is not None and change.leaf is not None:
                    inbox.events.append((change.node, change.camera, change.leaf, event))
            if not self._woken_pending:
                self._woken_pending = True
                # Emitted under the lock: begin_close() cannot slip in between.
                self._woken.emit()

    def _post_reply(self, command: _Command) -> None:
        """A command's future completed (any thread)."""
        with self._lock:
            if not self._closed:
                self._replied.emit(command)

    # -- UI thread ------------------------------------------------------------------------------

    def _drain(self) -> None:
        with self._lock:
            inbox, self._inbox = self._inbox, _Inbox()
            self._woken_pending = False
            if self._closed:
                return
        for node, slug in sorted(inbox.cameras):
            self._apply_camera(node, slug)
        for node in sorted(inbox.nodes):
            self._apply_node(node)
        for node, slug, leaf, data in inbox.events:
            self._apply_event(node, slug, leaf, data)

    def _apply_node(self, node: str) -> None:
        status = self.nodes.node(node)
        if status is None:
            return
        reason = None if status.online else (status.reason or "no word from the node")
        for remote in self._remotes.values():
            if remote.node == node:
                remote.tile.set_node_offline(reason)
        was = self._online.get(node)
        self._online[node] = status.online
        first = status.online and node not in self._seen_online
        if status.online:
            self._seen_online.add(node)
        if was is None or was == status.online or first:
            return  # news only: not a node seen for the first time (e.g. the wall starting)
        if status.online:
            log.info("node %s is back online", node)
            self._window.notifications.notify(f"Node {node} is back online.")
        else:
            self._window.notify_error(f"Node {node} is offline: {reason}")
        self.node_changed.emit(node, status.online)

    def _find(self, node: str, slug: str) -> _Remote | None:
        return next((r for r in self._remotes.values() if (r.node, r.slug) == (node, slug)), None)

    def _apply_camera(self, node: str, slug: str) -> None:
        cam = self.nodes.camera(node, slug)
        remote = self._find(node, slug)
        if cam is None or (remote is not None and cam.stream_url != remote.url):
            if remote is not None:
                self._take_off(remote.name)  # removed on the node, or its URL changed
            if cam is None:
                return
            remote = None
        if remote is None:
            if not cam.stream_url:
                return  # nothing to show until the node says where its video is
            remote = self._put_on(cam, cam.stream_url)
            if remote is None:
                return
            self._apply_node(node)  # a new tile starts out saying whether its node is online
        remote.last = cam
        tile = remote.tile
        state = cam.capture_state
        if state in (None, "streaming"):
            tile.set_node_state("")
        else:
            why = str((cam.state or {}).get("reason") or "")
            tile.set_node_state(f"node: {state}" + (f" ({why})" if why else ""))
        self._show_recording(remote)
        tile.set_detecting(cam.detecting_on)
        if not cam.detecting_on:
            remote.overlay.clear()
        elif cam.detections is not None and cam.detections != remote.detections:
            remote.detections = cam.detections
            result = _result(remote.name, cam.detections)
            if result is not None:
                fps = (cam.detect_stats or {}).get("target_fps")
                if isinstance(fps, int | float) and fps > 0:
                    # At low rates a result must outlive the gap to the next one.
                    remote.overlay.stale_s = max(STALE_S, 2.5 / fps)
                remote.overlay.set_result(result)
                tile.update()

    def _show_recording(self, remote: _Remote) -> None:
        cam = remote.last
        last = cam.recording or {}
        kind = last.get("event")
        error = str(last.get("message") or "failed") if kind == "recording_failed" else None
        active = kind in ("segment_opened", "segment_closed")
        remote.tile.set_recording(cam.recording_on, active, remote.segments, remote.bytes, error)

    def _apply_event(self, node: str, slug: str, leaf: str, data: dict[str, Any]) -> None:
        remote = self._find(node, slug)
        if remote is None:
            return
        extra = {"camera": remote.name}
        if leaf == "recording":
            if data.get("event") == "segment_closed":
                remote.segments += 1
                size = data.get("bytes")
                remote.bytes += size if isinstance(size, int) else 0
                self._show_recording(remote)
            return
        kind, label = data.get("event"), str(data.get("label", "object"))
        if kind == "start":
            score = data.get("score")
            shown = f" (score {score:.2f})" if isinstance(score, int | float) else ""
            log.info("%s appeared on node %s%s", label, node, shown, extra=extra)
        elif kind == "end":
            log.info("%s left (node %s)", label, node, extra=extra)
        track = _track_event(remote.name, data)
        if track is not None:
            self._window.events_panel.add(track)  # the Events panel lists remote ones too

    def _put_on(self, cam: NodeCamera, url: str) -> _Remote | None:
        """A tile and a view-only camera for ``cam`` (None if the wall cannot show it)."""
        window = self._window
        name = wall_name(cam.node, cam.name)
        if name in window.cameras.names():
            log.error("cannot show %s: the wall has a camera of that name already", name)
            return None
        tile = RemoteTile(name, cam.node, cam.name)
        tile.set_stats_visible(bool(window.statsBox.isChecked()))
        tile.selected.connect(window.select_camera)
        tile.dropped_on.connect(self._on_dropped)
        tile.stop_requested.connect(window.stop_camera)
        tile.start_requested.connect(window.start_camera)
        tile.reconnect_requested.connect(self.reconnect)
        tile.snapshot_requested.connect(self.snapshot)
        tile.record_toggled.connect(self.set_recording)
        tile.detect_toggled.connect(self.set_detection)
        overlay = DetectionOverlay()
        tile.add_overlay(overlay)
        tile.add_stats_line(lambda: self.stats_text(name))
        # View only: the node records and detects; the wall only pulls the picture.
        camera = Camera(name=name, url=url)
        try:
            window.cameras.add(camera, tile, start=False)
        except (CamwallError, ValueError) as exc:
            tile.deleteLater()
            log.error("cannot show %s: %s", name, exc, extra={"camera": name})
            return None
        remote = _Remote(name, cam.node, cam.slug, tile, overlay, url, cam)
        self._remotes[name] = remote
        window.grid.add_tile(tile, self._saved_index(name))
        log.info("showing camera %s of node %s", cam.name, cam.node, extra={"camera": name})
        window.start_camera(name)
        self.tile_added.emit(name)
        return remote

    def _saved_index(self, name: str) -> int | None:
        """Where tile ``name`` goes: after the tiles that preceded it last time (None: last)."""
        order = self._saved_order
        if name not in order:
            return None
        before = set(order[: order.index(name)])
        names = self._window.camera_names()
        return max((i + 1 for i, other in enumerate(names) if other in before), default=0)

    def _take_off(self, name: str) -> None:
        remote = self._remotes.pop(name, None)
        if remote is None:
            return
        window = self._window
        if name in window.cameras.names():
            window.cameras.remove(name)
        window.event_badges.forget(name)
        tile = window.grid.take_tile(name)
        if tile is not None:
            tile.deleteLater()
        log.info("%s left the wall (gone from its node)", name, extra={"camera": name})
        self.tile_removed.emit(name)

    def _on_dropped(self, source: str, target: str) -> None:
        names = self._window.camera_names()
        if source in names and target in names and source != target:
            self._window.grid.move_tile(source, names.index(target))

    # -- commands -------------------------------------------------------------------------------

    def set_recording(self, name: str, on: bool) -> None:
        """Ask camera ``name``'s node to record it, or to stop (the badge follows the node)."""
        self._command(name, "record", "record " + ("on" if on else "off"), on=on)

    def set_detection(self, name: str, on: bool) -> None:
        """Ask camera ``name``'s node to detect on it, or to stop."""
        self._command(name, "detect", "detection " + ("on" if on else "off"), on=on)

    def snapshot(self, name: str, kind: str = "jpeg") -> None:
        """Ask camera ``name``'s node for a snapshot (a JPEG, saved there and published)."""
        self._command(name, "snapshot", "snapshot")

    def reconnect(self, name: str) -> None:
        """Reconnect the wall's picture of ``name`` and ask its node to reconnect the camera."""
        self._window.reconnect_camera(name)
        self._command(name, "reconnect", "reconnect")

    def _command(self, name: str, command: str, what: str, **args: Any) -> None:
        remote = self._remotes.get(name)
        if remote is None or self._closed:
            return
        future = self.nodes.command(remote.node, remote.last.name, command, **args)
        sent = _Command(name, remote.node, what, future, time.monotonic() + COMMAND_TIMEOUT_S)
        self._commands.append(sent)
        log.info("asked node %s for %s", remote.node, what, extra={"camera": name})

        def done(_: Future[dict[str, Any]]) -> None:
            self._post_reply(sent)

        future.add_done_callback(done)

    def _on_reply(self, command: _Command) -> None:
        if self._closed:
            return
        if command in self._commands:
            self._commands.remove(command)
        if command.future.exception() is not None:
            return  # closed before the node replied
        reply = command.future.result()
        extra = {"camera": command.name}
        late = " (late)" if command.timed_out else ""
        if reply.get("ok"):
            result = reply.get("result")
            path = result.get("path") if isinstance(result, dict) else None
            saved = f": saved as {path} on the node" if path else ""
            log.info("node %s did %s%s%s", command.node, command.what, saved, late, extra=extra)
            self._window.notifications.notify(
                f"{command.name}: node {command.node} did {command.what}{saved}."
            )
        else:
            error = str(reply.get("error") or "no reason given")
            self._window.notify_error(
                f"{command.name}: node {command.node} refused {command.what}{late}: {error}"
            )
        self.command_finished.emit(command.name, reply)

    def _tick(self) -> None:
        now = time.monotonic()
        for remote in self._remotes.values():
            if remote.overlay.needs_repaint(now):
                remote.tile.update()
        for command in self._commands:
            if not command.timed_out and now > command.deadline and not command.future.done():
                command.timed_out = True
                self._window.notify_error(
                    f"{command.name}: no reply from node {command.node} to {command.what} within "
                    f"{COMMAND_TIMEOUT_S:g} s (is the node online, and may this wall's broker "
                    "user publish commands?)"
                )
                self.command_finished.emit(command.name, None)

    # -- closing --------------------------------------------------------------------------------

    def begin_close(self) -> None:
        """Ignore everything from now on (UI thread; then :meth:`close`)."""
        with self._lock:
            self._closed = True
        self._timer.stop()

    def close(self, timeout: float = 5.0) -> None:
        """Disconnect from the broker (waits for the connection thread, bounded; any thread)."""
        with self._lock:
            self._closed = True
        self.nodes.close(timeout)


def _result(name: str, data: Mapping[str, Any]) -> DetectionResult | None:
    """A node's ``detections`` message as a DetectionResult for camera ``name`` (None if bad)."""
    boxes: list[dict[str, Any]] = []
    for det in data.get("detections") or ():
        box = det.get("box") if isinstance(det, dict) else None
        if (
            isinstance(box, Sequence)
            and len(box) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
        ):
            boxes.append(det)
    width, height = data.get("width"), data.get("height")
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        return None
    seq, capture_ns = data.get("seq"), data.get("capture_ns")
    inference = data.get("inference_ms")
    return DetectionResult(
        camera=name,
        seq=seq if isinstance(seq, int) else 0,
        capture_ns=capture_ns if isinstance(capture_ns, int) else 0,
        width=width,
        height=height,
        detections=boxes,
        inference_ms=float(inference) if isinstance(inference, int | float) else 0.0,
        detector=str(data.get("detector") or "remote"),
    )


__all__ = ["COMMAND_TIMEOUT_S", "RemoteCameras", "wall_name"]
