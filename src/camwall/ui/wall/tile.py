"""A camera tile of the wall: a VideoView with the camera's name, state badge and menu."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qtpy.QtCore import QByteArray, QMimeData, QPoint, QRect, Qt
from qtpy.QtGui import (
    QColor,
    QContextMenuEvent,
    QDrag,
    QDragEnterEvent,
    QDropEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
)
from qtpy.QtWidgets import QApplication, QMenu, QMessageBox, QWidget

from camwall.capture.events import CameraState
from camwall.ui.qt_compat import Signal
from camwall.ui.view.frame_clock import FrameClock
from camwall.ui.view.video_view import VideoView
from camwall.ui.view.view_painting import paint_label
from camwall.ui.view.zoom import ZoomController

_REC_RED = QColor(230, 40, 40)
_REC_GREY = QColor(150, 150, 150)
_DETECT_BLUE = QColor(70, 160, 255)
_EVENT_AMBER = QColor(255, 170, 0)


def _size_text(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"


class CameraTile(VideoView):
    """One camera in the wall. Its requests go out as signals; the window acts on them."""

    #: Double-click: the camera should fill the wall (or return to the grid).
    activated = Signal(str)
    #: Left click: the camera became the selected one.
    selected = Signal(str)
    #: Context menu: save a snapshot; the second argument is "png" or "jpeg".
    snapshot_requested = Signal(str, str)
    #: Context menu: drop the connection and connect again now.
    reconnect_requested = Signal(str)
    #: Context menu: stop the camera / start it again.
    stop_requested = Signal(str)
    start_requested = Signal(str)
    #: Context menu: stop the camera and take it off the wall.
    remove_requested = Signal(str)
    #: Context menu: edit the camera's settings / give it another name.
    edit_requested = Signal(str)
    rename_requested = Signal(str)
    #: The tile changed size (the wall may ask the camera for frames of the new size).
    resized = Signal()
    #: Context menu: switch object detection on this camera on or off.
    detect_toggled = Signal(str, bool)
    #: Context menu: record this camera or stop recording it.
    record_toggled = Signal(str, bool)
    #: Another tile (first argument) was dragged and dropped onto this one (second).
    dropped_on = Signal(str, str)
    #: Context menu: draw and edit the camera's zones on this tile.
    zones_edit_requested = Signal(str)

    def __init__(
        self, camera: str, parent: QWidget | None = None, *, clock: FrameClock | None = None
    ) -> None:
        """A tile for camera ``camera`` with no ring yet (the window feeds it events)."""
        super().__init__(None, parent, clock=clock)
        self._camera = camera
        self.setObjectName(f"tile:{camera}")
        self.set_title(camera)
        self.set_badge_visible(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        #: Digital zoom of the picture (wheel, drag, 0/Home; see camwall.ui.view.zoom).
        self.zoom = ZoomController(self)
        self._detecting = False
        #: Recording as the runtime reports it: asked for, a segment open, totals, failure.
        self._recording = False
        self._rec_active = False
        self._rec_segments = 0
        self._rec_bytes = 0
        self._rec_error: str | None = None
        self._problem = ""
        self._press_at: QPoint | None = None
        self.setAcceptDrops(True)
        self._decode_badge = ""
        self._event_badges: tuple[str, ...] = ()
        self.add_stats_line(self._recording_line)
        self._update_tooltip()

    @property
    def camera(self) -> str:
        """The camera's name."""
        return self._camera

    def set_state(
        self, state: CameraState | None, reason: str = "", retry_in_s: float | None = None
    ) -> None:
        """Show ``state`` and keep the tooltip's full text in step (only on changes)."""
        super().set_state(state, reason, retry_in_s)
        self._update_tooltip()

    def set_source_text(self, text: str) -> None:
        """Show where the picture comes from (a masked URL) last on the state picture."""
        super().set_source_text(text)
        self._update_tooltip()

    def details_text(self) -> str:
        """The camera's state, the whole reason and its (masked) URL: hover and Details…."""
        text = f"{self._camera}\n{self.full_status_text()}"
        if self._problem:
            text += f"\n{self._problem}"
        return text

    def _update_tooltip(self) -> None:
        self.setToolTip(
            f"{self.details_text()}\n\nDouble-click to fill the wall; wheel to zoom, drag to "
            "pan, 0 to reset; right-click for more"
        )

    def show_details(self) -> QMessageBox:
        """A (non-modal) box with :meth:`details_text`, selectable for copying."""
        box = QMessageBox(
            QMessageBox.Icon.Information, f"{self._camera} — details", "", parent=self
        )
        box.setObjectName("detailsBox")
        box.setText(self.details_text())
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        box.open()
        return box

    @property
    def detecting(self) -> bool:
        """True while detection is on for this camera (the menu's "Detect objects" tick)."""
        return self._detecting

    def set_detecting(self, on: bool) -> None:
        """Show detection as on or off: the menu's tick and the tile's badge."""
        if on != self._detecting:
            self._detecting = on
            self.update()

    @property
    def recording(self) -> bool:
        """True while recording is on for this camera (the REC badge and the menu's tick)."""
        return self._recording

    def set_recording(
        self,
        on: bool,
        active: bool = False,
        segments: int = 0,
        size: int = 0,
        error: str | None = None,
    ) -> None:
        """Show the camera's recording: on/off, a segment open now, totals, the last failure."""
        state = (on, active, segments, size, error)
        if state == (
            self._recording,
            self._rec_active,
            self._rec_segments,
            self._rec_bytes,
            self._rec_error,
        ):
            return
        self._recording, self._rec_active = on, active
        self._rec_segments, self._rec_bytes, self._rec_error = segments, size, error
        self.update()

    def recording_badge(self) -> str:
        """The text of the REC badge ("" when not recording)."""
        if not self._recording:
            return ""
        if self._rec_error:
            return f"REC failed: {self._rec_error}"
        return "REC" if self._rec_active else "REC (waiting for a keyframe)"

    def _recording_line(self) -> str:
        if not self._recording and not self._rec_segments:
            return ""
        return f"recorded {self._rec_segments} segments · {_size_text(self._rec_bytes)}"

    @property
    def decode_badge(self) -> str:
        """What the decode budget does to this camera ("" in full: "keyframes only (CPU)")."""
        return self._decode_badge

    def set_decode_badge(self, text: str) -> None:
        """Show why the picture updates slowly (keyframes only, paused); "" when in full."""
        if text != self._decode_badge:
            self._decode_badge = text
            self.update()

    @property
    def event_badges(self) -> tuple[str, ...]:
        """What the camera itself reports now ("MOTION", "TAMPER"); empty when nothing."""
        return self._event_badges

    def set_event_badges(self, badges: Sequence[str]) -> None:
        """Show the camera's own active events under the title (the wall feeds them)."""
        badges = tuple(badges)
        if badges != self._event_badges:
            self._event_badges = badges
            self.update()

    @property
    def problem(self) -> str:
        """The problem shown on the tile ("" when there is none)."""
        return self._problem

    def set_problem(self, text: str) -> None:
        """A problem people must see on this tile (e.g. the recording folder is unusable)."""
        self._problem = text
        self._update_tooltip()
        self.update()

    def _paint_overlay(self, painter: QPainter, bounds: QRect, showing_video: bool) -> None:
        super()._paint_overlay(painter, bounds, showing_video)
        small = max(10, min(16, bounds.height() // 24))
        if self._decode_badge and showing_video:
            # Under the state badge, top right: the picture is slow on purpose, and why.
            paint_label(
                painter,
                bounds.adjusted(0, small * 2, 0, 0),
                self._decode_badge,
                left=False,
                top=True,
                pixels=small,
                dot=_REC_GREY,
            )
        if self._event_badges:
            # Under the title, top left: what the camera itself detects right now.
            paint_label(
                painter,
                bounds.adjusted(0, small * 2, 0, 0),
                " · ".join(self._event_badges),
                left=True,
                top=True,
                pixels=small,
                dot=_EVENT_AMBER,
            )
        badge = self.corner_badge()
        if badge:
            if self.recording_badge():
                dot = _REC_RED if self._rec_active or self._rec_error else _REC_GREY
            else:
                dot = _DETECT_BLUE if not self._problem else _REC_RED
            paint_label(painter, bounds, badge, left=False, top=False, pixels=small, dot=dot)

    def corner_badge(self) -> str:
        """The bottom-right badge: recording (or a problem), and "detecting" when it is on."""
        parts = [self.recording_badge() or self._problem]
        if self._detecting:
            parts.append("DETECTING")
        return " · ".join(p for p in parts if p)

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        """Tell the wall; it debounces and adjusts the camera's frame size."""
        super().resizeEvent(event)
        self.resized.emit()

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        """A left click selects the camera (and may start dragging the tile)."""
        if event is not None and event.button() == Qt.MouseButton.LeftButton:
            self._press_at = event.pos()
            self.selected.emit(self._camera)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        """The end of a click or drag."""
        self._press_at = None
        super().mouseReleaseEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:
        """Dragging an unzoomed tile picks it up, to drop it onto another tile."""
        start = self._press_at
        if (
            event is not None
            and start is not None
            and event.buttons() & Qt.MouseButton.LeftButton
            and not self.zoom.is_zoomed
            and (event.pos() - start).manhattanLength() >= QApplication.startDragDistance()
        ):
            self._press_at = None
            drag = QDrag(self)
            drag.setMimeData(tile_mime(self._camera))
            drag.exec(Qt.DropAction.MoveAction)
            return
        super().mouseMoveEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent | None) -> None:
        """Accept another tile."""
        if event is not None and _dragged_tile(event.mimeData()) not in (None, self._camera):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent | None) -> None:
        """Another tile was dropped here: the wall moves it to this tile's place."""
        if event is None:
            return
        source = _dragged_tile(event.mimeData())
        if source is not None and source != self._camera:
            event.acceptProposedAction()
            self.dropped_on.emit(source, self._camera)

    def mouseDoubleClickEvent(self, event: QMouseEvent | None) -> None:
        """A double click toggles between the grid and this camera alone."""
        if event is not None and event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit(self._camera)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def context_menu(self, running: bool = True) -> QMenu:
        """The tile's menu: snapshot (PNG/JPEG), reconnect, stop/start, stats, remove."""
        menu = QMenu(self)
        name = self._camera
        has_frame = self.ring is not None and self.ring.latest_seq > 0
        png = _action(menu, "Save snapshot (PNG)", "snapshotPngAction")
        png.setEnabled(has_frame)
        png.triggered.connect(lambda: self.snapshot_requested.emit(name, "png"))
        jpeg = _action(menu, "Save snapshot (JPEG)", "snapshotJpegAction")
        jpeg.setEnabled(has_frame)
        jpeg.triggered.connect(lambda: self.snapshot_requested.emit(name, "jpeg"))
        menu.addSeparator()
        reconnect = _action(menu, "Reconnect", "reconnectAction")
        reconnect.setEnabled(running)
        reconnect.triggered.connect(lambda: self.reconnect_requested.emit(name))
        if running:
            stop = _action(menu, "Stop", "stopAction")
            stop.triggered.connect(lambda: self.stop_requested.emit(name))
        else:
            start = _action(menu, "Start", "startAction")
            start.triggered.connect(lambda: self.start_requested.emit(name))
        stats = _action(menu, "Show stats", "statsAction")
        stats.setCheckable(True)
        stats.setChecked(self.stats_visible)
        stats.toggled.connect(self.set_stats_visible)
        reset_zoom = _action(menu, f"Reset zoom ({self.zoom.factor:.1f}×)", "resetZoomAction")
        reset_zoom.setEnabled(self.zoom.is_zoomed)
        reset_zoom.triggered.connect(self.zoom.reset)
        detect = _action(menu, "Detect objects", "detectAction")
        detect.setCheckable(True)
        detect.setChecked(self._detecting)
        detect.toggled.connect(lambda on: self.detect_toggled.emit(name, on))
        record = _action(menu, "Record", "recordAction")
        record.setCheckable(True)
        record.setChecked(self._recording)
        record.toggled.connect(lambda on: self.record_toggled.emit(name, on))
        zones = _action(menu, "Edit zones…", "editZonesAction")
        zones.triggered.connect(lambda: self.zones_edit_requested.emit(name))
        menu.addSeparator()
        details = _action(menu, "Details…", "detailsAction")
        details.triggered.connect(self.show_details)
        edit = _action(menu, "Edit…", "editAction")
        edit.triggered.connect(lambda: self.edit_requested.emit(name))
        rename = _action(menu, "Rename…", "renameAction")
        rename.triggered.connect(lambda: self.rename_requested.emit(name))
        remove = _action(menu, "Remove from wall", "removeAction")
        remove.triggered.connect(lambda: self.remove_requested.emit(name))
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent | None) -> None:
        """Show :meth:`context_menu` (the window says whether the camera runs)."""
        if event is None:
            return
        menu = self.context_menu(running=self.state is not CameraState.STOPPED)
        menu.exec(event.globalPos())
        menu.deleteLater()


#: The MIME type of a dragged tile (its camera's name, UTF-8).
TILE_MIME = "application/x-camwall-tile"


def tile_mime(camera: str) -> QMimeData:
    """The drag data of camera ``camera``'s tile."""
    data = QMimeData()
    data.setData(TILE_MIME, QByteArray(camera.encode()))
    return data


def _dragged_tile(data: QMimeData | None) -> str | None:
    if data is None or not data.hasFormat(TILE_MIME):
        return None
    return bytes(data.data(TILE_MIME).data()).decode(errors="replace")


def _action(menu: QMenu, text: str, object_name: str) -> Any:
    """Add an action named ``object_name`` (tests and styles find it by that name)."""
    action = menu.addAction(text)
    if action is None:  # only in the stubs: addAction always returns the new action
        raise RuntimeError(f"QMenu.addAction({text!r}) returned no action")
    action.setObjectName(object_name)
    return action
