"""The camera wall window: URL box, connect/disconnect, the camera grid, the log panel.

Layout comes from ``main_window.ui`` (Qt Designer), loaded at run time with
``qtpy.uic.loadUi`` (works with PySide6, PyQt5 and PyQt6). The cameras belong to a
:class:`~camwall.runtime.Runtime` (the same one ``camwall run --headless`` uses); the window
shows them (:class:`~camwall.ui.wall.wall_cameras.WallCameras`) and sends commands. Every
button returns at once: commands only queue work, and closing the window closes the runtime
on a helper thread while the event loop keeps running.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import platformdirs
from qtpy import uic
from qtpy.QtCore import QEvent, Qt, QTimer, QUrl
from qtpy.QtGui import QCloseEvent, QDesktopServices, QKeySequence
from qtpy.QtWidgets import (
    QAction,
    QApplication,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QWidget,
)

from camwall.capture import CameraState
from camwall.config import Camera, Config
from camwall.config.urls import userinfo
from camwall.errors import CamwallError, UrlError
from camwall.redact import MASK, mask_url
from camwall.runtime import Runtime, RuntimeEvent, Stream
from camwall.runtime.snapshots import SnapshotKind
from camwall.secrets import with_password
from camwall.sources import source_kind
from camwall.ui.control.wall_controls import WallControls
from camwall.ui.dialogs.camera_dialog import CameraDialog, CameraEntry, name_for_url
from camwall.ui.qt_compat import Signal, connect_queued
from camwall.ui.review import WallReview
from camwall.ui.wall.detection_menu import DetectionMenu
from camwall.ui.wall.event_badges import EventBadges
from camwall.ui.wall.events_panel import EventsPanel
from camwall.ui.wall.grid import GRID_MODES, CameraGrid, GridMode, parse_grid_mode
from camwall.ui.wall.help_menu import HelpMenu
from camwall.ui.wall.host import WallHost
from camwall.ui.wall.layout_state import LayoutStore
from camwall.ui.wall.log_panel import LogPanel
from camwall.ui.wall.notifications import Notifications
from camwall.ui.wall.status import WallStatus
from camwall.ui.wall.theme import THEMES, Theme, apply_theme
from camwall.ui.wall.tile import CameraTile
from camwall.ui.wall.wall_cameras import WallCameras
from camwall.ui.wall.wall_detection import WallDetection
from camwall.ui.wall.wall_layouts import WallLayouts
from camwall.urls import is_masked, unmask

if TYPE_CHECKING:
    from camwall.ui.wall.remote_cameras import RemoteCameras

__all__ = ["CameraWall", "name_for_url"]

log = logging.getLogger(__name__)

UI_FILE = Path(__file__).with_name("main_window.ui")
#: Longest the window waits for workers to end when it closes (they are killed before).
SHUTDOWN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class _Removed:
    """A camera taken off the wall, kept so the removal can be undone until the wall closes."""

    camera: Camera = dataclasses.field(repr=False)
    index: int
    running: bool


class CameraWall(WallHost):
    """The camwall main window; see the module docstring."""

    #: A camera was added to or removed from the wall (its name).
    camera_added = Signal(str)
    camera_removed = Signal(str)
    #: A camera's settings were edited (old name, new name; the same unless renamed).
    camera_changed = Signal(str, str)
    #: Every worker has ended after the window was closed.
    shut_down = Signal()
    _shutdown_finished = Signal()
    _snapshot_finished = Signal(str, object)

    def __init__(
        self,
        *,
        mode: Literal["process", "thread"] = "process",
        snapshot_dir: Path | None = None,
        runtime: Runtime | None = None,
        config: Config | None = None,
        layout_store: LayoutStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """Create the window over ``runtime`` (None: a runtime of its own for ``config``).

        ``mode``: capture workers as processes or threads (for a runtime of its own). The
        window closes the runtime when it closes, in either case. ``layout_store``: where
        layouts are remembered (:meth:`restore_layout`; saved on close); None: nowhere.
        """
        super().__init__(parent)
        uic.loadUi(str(UI_FILE), self)
        self.runtime = runtime if runtime is not None else Runtime(config, mode=mode)
        self.snapshot_dir = snapshot_dir or Path(platformdirs.user_pictures_dir()) / "camwall"
        self._selected: str | None = None
        self._stats_visible = False
        self._shutting_down = False
        self._shutdown_done = False
        self._shutdown_thread: threading.Thread | None = None
        self._removed: list[_Removed] = []
        #: The cameras of remote nodes (camwall.ui.wall.remote_cameras sets it), if any.
        self.remote: RemoteCameras | None = None

        self.grid = CameraGrid(self.gridHost)
        self.gridHost.layout().addWidget(self.grid)
        self.log_panel = LogPanel(self.logHost)
        self.logHost.layout().addWidget(self.log_panel)
        self.log_panel.install(logging.getLogger())
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([700, 140])
        self.status = WallStatus(self.statusbar)
        self.cameras = WallCameras(
            self.runtime,
            self._wanted_stream,
            parent=self,
            shown=lambda: not self.isMinimized(),
            focused=self._is_focused,
        )
        self.detection = WallDetection(self.runtime, self)
        self.menubar.addMenu(DetectionMenu(self.detection, lambda: self.snapshot_dir, self))
        self.controls = WallControls(self)  # control dock, "Add ONVIF camera…", shortcuts
        self.event_badges = EventBadges()  # the cameras' own motion/tamper on their tiles
        self.notifications = Notifications(self.gridHost)
        self.addButton = QPushButton("&Add…", self)
        self.addButton.setObjectName("addButton")
        self.addButton.setToolTip("Add a camera with a name, user, password and options")
        self.toolbarLayout.insertWidget(
            self.toolbarLayout.indexOf(self.connectButton) + 1, self.addButton
        )
        self.addButton.clicked.connect(self._on_add_clicked)
        self.grid.empty_cell_activated.connect(self._on_add_clicked)
        self.actionAddCamera = QAction("&Add camera…", self)
        self.actionAddCamera.setObjectName("actionAddCamera")
        self.actionAddCamera.setShortcut(QKeySequence("Ctrl+N"))
        self.actionAddCamera.triggered.connect(self._on_add_clicked)
        self.actionUndoRemove = QAction("&Undo remove", self)
        self.actionUndoRemove.setObjectName("actionUndoRemove")
        self.actionUndoRemove.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.actionUndoRemove.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.actionUndoRemove.setEnabled(False)
        self.actionUndoRemove.triggered.connect(self.undo_remove)
        self.addAction(self.actionUndoRemove)
        self.menuFile.insertAction(self.actionSnapshotAll, self.actionAddCamera)
        self.menuFile.insertAction(self.actionSnapshotAll, self.actionUndoRemove)
        self.menuFile.insertSeparator(self.actionSnapshotAll)
        self._confirm: QMessageBox | None = None
        for extra in GRID_MODES[self.layoutBox.count() :]:
            self.layoutBox.addItem(str(extra))
        self.events_panel = EventsPanel(self)
        self.detection.track_received.connect(self.events_panel.add)
        # Zones drawn on a tile are a camera change: the config file follows (ConfigSync).
        self.detection.zones_saved.connect(lambda name: self.camera_changed.emit(name, name))
        events_toggle = self.events_panel.toggleViewAction()
        if events_toggle is not None:
            events_toggle.setText("&Events panel (detections)")
            events_toggle.setShortcut(QKeySequence("Ctrl+E"))
            self.menuView.addAction(events_toggle)
        self.layouts = WallLayouts(self, layout_store)
        self.theme_actions: dict[Theme, QAction] = {}
        theme_menu = self.menuView.addMenu("&Theme")
        assert theme_menu is not None
        theme_menu.setObjectName("menuTheme")
        for theme in THEMES:
            action = QAction(theme.capitalize(), self)
            action.setObjectName(f"actionTheme{theme.capitalize()}")
            action.setCheckable(True)
            action.triggered.connect(lambda _=False, t=theme: self.set_theme(t))
            theme_menu.addAction(action)
            self.theme_actions[theme] = action
        self.help_menu = HelpMenu(self)
        self.review = WallReview(self)  # View → Review (F5): camwall.ui.review

        self.cameras.camera_state_changed.connect(self._update_summary)
        self.cameras.event_received.connect(self._on_runtime_event)
        connect_queued(self._shutdown_finished, self._finish_shutdown)
        connect_queued(self._snapshot_finished, self._on_snapshot_finished)
        self.connectButton.clicked.connect(self._on_connect_clicked)
        self.urlBox.editTextChanged.connect(self._update_connect_button)
        self.urlBox.lineEdit().returnPressed.connect(self._on_connect_clicked)
        self.urlBox.lineEdit().setPlaceholderText(
            "rtsp://user@camera:554/stream  ·  a video file  ·  synthetic://demo"
        )
        self.layoutBox.currentIndexChanged.connect(self._on_layout_index)
        self.statsBox.toggled.connect(self.set_stats_visible)
        self.grid.layout_changed.connect(self._on_grid_changed)
        self.actionQuit.triggered.connect(self.close)
        self.actionBackToGrid.triggered.connect(lambda: self.grid.set_focused(None))
        self.actionNextPage.triggered.connect(lambda: self.grid.set_page(self.grid.page + 1))
        self.actionPreviousPage.triggered.connect(lambda: self.grid.set_page(self.grid.page - 1))
        self.actionShowLog.toggled.connect(self.logHost.setVisible)
        self.actionFullScreen.toggled.connect(self.set_wall_mode)
        self.actionSnapshotAll.triggered.connect(self._snapshot_all)
        app = QApplication.instance()
        if app is not None:
            # app.quit() without closing the window (Ctrl-C, a test) still stops every worker.
            app.aboutToQuit.connect(self.shutdown_now)
        self._update_connect_button()
        self._update_summary()

    # -- cameras ----------------------------------------------------------------------------------

    def camera_names(self) -> list[str]:
        """Cameras on the wall, in wall order."""
        return self.grid.names()

    def tile(self, name: str) -> CameraTile:
        """The tile of camera ``name``."""
        return self.cameras.tile(name)

    def add_camera(self, camera: Camera, *, start: bool = True) -> CameraTile:
        """Put ``camera`` on the wall and start it; raises for a bad URL or a taken name."""
        tile = self._put_on(camera, index=None, start=start)
        self.camera_added.emit(camera.name)
        return tile

    def _put_on(self, camera: Camera, *, index: int | None, start: bool) -> CameraTile:
        """Give ``camera`` to the runtime and show it at ``index``; emits nothing."""
        if self._shutting_down:
            raise CamwallError("the wall is closing; no cameras can be added")
        if not camera.name.strip():
            raise ValueError("a camera needs a non-empty name")
        if camera.name in self.cameras.names():
            raise ValueError(f"the wall already has a camera named {camera.name!r}")
        source_kind(camera.url)  # raises InvalidSourceError with a helpful message
        if camera.substream_url:
            source_kind(camera.substream_url)
        tile = CameraTile(camera.name)
        tile.set_stats_visible(self._stats_visible)
        tile.selected.connect(self.select_camera)
        tile.snapshot_requested.connect(self._on_snapshot_requested)
        tile.reconnect_requested.connect(self.reconnect_camera)
        tile.stop_requested.connect(self.stop_camera)
        tile.start_requested.connect(self.start_camera)
        tile.remove_requested.connect(self._on_remove_requested)
        tile.edit_requested.connect(self._on_edit_requested)
        tile.rename_requested.connect(self._on_rename_requested)
        tile.record_toggled.connect(self.set_recording)
        tile.dropped_on.connect(self._on_tile_dropped)
        try:
            self.cameras.add(camera, tile, start=False)
        except BaseException:
            tile.deleteLater()
            raise
        self.detection.attach(tile)
        self.controls.attach(tile, camera)
        self.grid.add_tile(tile, index)
        self._show_recording(camera.name)
        log.info("added %s (%s)", camera.name, camera.display_url, extra={"camera": camera.name})
        if start:
            self.start_camera(camera.name)
        self._update_connect_button()
        return tile

    def _take_off(self, name: str) -> None:
        """Stop camera ``name`` and take its tile away; emits nothing."""
        self.detection.detach(name)
        self.controls.detach(name)
        self.event_badges.forget(name)
        self.cameras.remove(name)
        tile = self.grid.take_tile(name)
        if tile is not None:
            tile.deleteLater()
        if self._selected == name:
            self._selected = None

    def edit_camera(self, name: str, camera: Camera) -> CameraTile:
        """Replace camera ``name`` by ``camera`` (new settings, maybe a new name), in place.

        The runtime gets the change as remove + add; the tile keeps its position and the
        camera runs again if it ran before. Raises (and changes nothing) for a bad camera.
        """
        if camera.name != name and camera.name in self.cameras.names():
            raise ValueError(f"the wall already has a camera named {camera.name!r}")
        source_kind(camera.url)
        if camera.substream_url:
            source_kind(camera.substream_url)
        index = self.camera_names().index(name)
        running = self.cameras.is_running(name)
        old = self.cameras.camera(name)
        self._take_off(name)
        try:
            tile = self._put_on(camera, index=index, start=running)
        except (CamwallError, ValueError):
            self._put_on(old, index=index, start=running)  # back as it was
            raise
        log.info("changed %s", camera.name if camera.name == name else f"{name} → {camera.name}")
        self.camera_changed.emit(name, camera.name)
        self.select_camera(camera.name)
        return tile

    def rename_camera(self, name: str, new_name: str) -> None:
        """Give camera ``name`` the name ``new_name``; ValueError if empty or taken."""
        new_name = new_name.strip()
        if not new_name:
            raise ValueError("a camera needs a non-empty name")
        if new_name != name:
            self.edit_camera(name, dataclasses.replace(self.cameras.camera(name), name=new_name))

    def ask_rename_camera(self, name: str) -> QInputDialog:
        """Ask for camera ``name``'s new name (does not wait; the answer renames it)."""
        dialog = QInputDialog(self)
        dialog.setObjectName("renameDialog")
        dialog.setWindowTitle(f"Rename {name}")
        dialog.setLabelText("New name:")
        dialog.setTextValue(name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def rename(text: str) -> None:
            try:
                self.rename_camera(name, text)
            except (CamwallError, ValueError, KeyError) as exc:
                self.notify_error(f"Cannot rename {name}: {exc}")

        dialog.textValueSelected.connect(rename)
        dialog.open()
        return dialog

    def open_camera_dialog(self, name: str | None = None, *, url: str = "") -> CameraDialog:
        """Open the Add (``name`` None) or Edit camera dialog; returns at once."""
        camera = self.cameras.camera(name) if name is not None else None
        dialog = CameraDialog(
            self,
            camera=camera,
            taken_names=self.cameras.names(),
            has_password=camera is not None and userinfo(camera.url)[1] is not None,
            url=url,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def accepted() -> None:
            if dialog.entry is not None:
                self.apply_camera_entry(dialog.entry, name)

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def apply_camera_entry(self, entry: CameraEntry, name: str | None = None) -> None:
        """Add the dialog's camera, or replace camera ``name`` by it; errors are notified."""
        camera = entry.camera
        password = entry.password
        if password is None and name is not None:
            password = userinfo(self.cameras.camera(name).url)[1]  # unchanged
        if password:
            camera = with_password(camera, password)  # in memory; the config keeps a reference
        try:
            if name is None:
                self.add_camera(camera)
                self.select_camera(camera.name)
            else:
                self.edit_camera(name, camera)
        except (CamwallError, ValueError) as exc:
            self.notify_error(f"Cannot {'add' if name is None else 'change'} {camera.name}: {exc}")

    def _on_tile_dropped(self, source: str, target: str) -> None:
        """A tile was dragged onto another: it takes that tile's place in the wall order."""
        names = self.camera_names()
        if source in names and target in names and source != target:
            self.grid.move_tile(source, names.index(target))

    def _on_add_clicked(self) -> None:
        self.open_camera_dialog(url=self._box_url_for_dialog())

    def _on_edit_requested(self, name: str) -> None:
        self.open_camera_dialog(name)

    def _on_rename_requested(self, name: str) -> None:
        self.ask_rename_camera(name)

    def _on_remove_requested(self, name: str) -> None:
        self.ask_remove_camera(name)

    def _box_url_for_dialog(self) -> str:
        """The URL box's text for a new camera, unless it is a masked (or a taken) URL."""
        text = self.urlBox.currentText().strip()
        return "" if MASK in text or self.cameras.find_url(text) else text

    def add_cameras(self, cameras: Iterable[Camera]) -> None:
        """Add and start several cameras (e.g. from a config); a bad one is logged and skipped."""
        for camera in cameras:
            try:
                self.add_camera(camera)
            except (CamwallError, ValueError) as exc:
                log.error("cannot add %s: %s", camera.name, exc, extra={"camera": camera.name})

    def start_camera(self, name: str) -> None:
        """Start camera ``name`` (returns at once; its tile shows the progress)."""
        if not self._shutting_down:
            self.cameras.start(name)
            self._update_connect_button()

    def stop_camera(self, name: str) -> None:
        """Stop camera ``name`` (returns at once; its worker ends in the background)."""
        if self.cameras.is_running(name):
            self.cameras.stop(name)
            log.info("stopped %s", name, extra={"camera": name})
        self._update_connect_button()

    def reconnect_camera(self, name: str) -> None:
        """Drop camera ``name``'s connection and connect again now."""
        log.info("reconnecting %s", name, extra={"camera": name})
        self.cameras.reconnect(name)

    def ask_remove_camera(self, name: str) -> QMessageBox:
        """Ask before taking camera ``name`` off the wall (does not wait for the answer)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove camera",
            f"Remove {name} from the wall?\n\nIt is taken out of the config too. "
            "Undo (Ctrl+Z) brings it back until the wall closes.",
            parent=self,
        )
        box.setObjectName("removeConfirm")
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def answered() -> None:
            if box.clickedButton() is remove and name in self.cameras.names():
                self.remove_camera(name)

        box.finished.connect(lambda _code: answered())
        box.open()
        self._confirm = box
        return box

    def remove_camera(self, name: str) -> None:
        """Stop camera ``name`` and take it off the wall (:meth:`undo_remove` brings it back)."""
        index = self.camera_names().index(name)
        removed = _Removed(self.cameras.camera(name), index, self.cameras.is_running(name))
        self._take_off(name)
        self._removed.append(removed)
        self.actionUndoRemove.setEnabled(True)
        log.info("removed %s", name, extra={"camera": name})
        self.camera_removed.emit(name)
        if not self._shutting_down:
            self.notifications.notify(f"Removed {name}.", actions=[("Undo", self.undo_remove)])
        self._update_connect_button()
        self._update_summary()

    def undo_remove(self) -> None:
        """Put the camera removed last back where it was (and running if it ran)."""
        if not self._removed or self._shutting_down:
            return
        removed = self._removed.pop()
        self.actionUndoRemove.setEnabled(bool(self._removed))
        name = removed.camera.name
        if name in self.cameras.names():
            self.notify_error(f"Cannot bring {name} back: a camera of that name was added since")
            return
        try:
            self._put_on(removed.camera, index=removed.index, start=removed.running)
        except (CamwallError, ValueError) as exc:
            self.notify_error(f"Cannot bring {name} back: {exc}")
            return
        log.info("brought %s back", name, extra={"camera": name})
        self.camera_added.emit(name)
        self._update_summary()

    def notify_error(self, text: str) -> None:
        """Tell people about a failure: a notification over the wall, and the log."""
        log.error("%s", text)
        if not self._shutting_down:
            self.notifications.notify(text, kind="error")

    def set_recording(self, name: str, on: bool) -> None:
        """Record camera ``name`` or stop recording it (the open segment is finished)."""
        if self.remote is not None and self.remote.owns(name):
            self.remote.set_recording(name, on)  # its node records it, not this wall
            return
        try:
            self.runtime.set_recording(name, on)
        except (CamwallError, KeyError) as exc:
            log.error("recording: %s", exc, extra={"camera": name})
            self.statusbar.showMessage(str(exc), 10000)
        self._show_recording(name)

    def _show_recording(self, name: str) -> None:
        if name not in self.cameras.names():
            return
        if self.remote is not None and self.remote.owns(name):
            return  # a remote camera's tile shows what its node says
        stats = self.runtime.recording_stats(name)
        self.cameras.tile(name).set_recording(
            self.runtime.is_recording(name), stats.active, stats.segments, stats.bytes, stats.error
        )

    def _on_runtime_event(self, event: RuntimeEvent) -> None:
        """UI thread: what the tiles do not handle themselves."""
        self.detection.on_event(event)
        self.controls.on_event(event)
        changed = self.event_badges.on_event(event)
        if changed is not None and changed in self.cameras.names():
            self.cameras.tile(changed).set_event_badges(self.event_badges.badges(changed))
        if event.type in ("recording", "camera") and event.camera is not None:
            self._show_recording(event.camera)
            if event.type == "camera":
                self._update_summary()
        elif event.type == "runtime" and event.camera is not None:
            notice = event.to_dict()
            if notice.get("kind") == "error" and event.camera in self.cameras.names():
                message = str(notice.get("message", ""))
                tile = self.cameras.tile(event.camera)
                if message != tile.problem:
                    self.notify_error(f"{event.camera}: {message}")
                tile.set_problem(message)

    def select_camera(self, name: str | None) -> None:
        """Highlight camera ``name`` and put its (masked) URL in the URL box."""
        names = self.cameras.names()
        self._selected = name if name in names else None
        for other in names:
            self.cameras.tile(other).set_highlighted(other == self._selected)
        if self._selected is not None:
            self.urlBox.setEditText(self.cameras.camera(self._selected).display_url)
        self._update_connect_button()
        self.controls.select(self._selected)

    def _is_focused(self, name: str) -> bool:
        """The camera filling the wall, zoomed into, or alone on it: decoded in full."""
        alone = self.grid.focused == name or self.grid.visible_names() == [name]
        return alone or self.cameras.tile(name).zoom.is_zoomed

    def _wanted_stream(self, name: str) -> Stream:
        """Main stream when the camera fills the wall or is zoomed in, else its substream."""
        alone = self.grid.focused == name or (
            self.grid.mode == 1 and self.grid.visible_names() == [name]
        )
        alone = alone or self.cameras.tile(name).zoom.is_zoomed
        return "main" if alone else "sub"

    def _on_grid_changed(self) -> None:
        self.cameras.update_streams()
        self.cameras.schedule_frame_sizes()
        self._update_summary()

    # -- toolbar ----------------------------------------------------------------------------------

    def _url_from_box(self) -> str:
        """The URL in the box; a masked history entry or camera URL maps back to the real one."""
        text = self.urlBox.currentText().strip()
        index = self.urlBox.findText(text, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            data = self.urlBox.itemData(index)
            if isinstance(data, str) and data:
                return data
        name = self.cameras.find_url(text)
        if name is not None:
            return self.cameras.camera(name).url
        if is_masked(text) and self._selected is not None:
            # An edited masked URL (a new path, say) keeps the selected camera's password,
            # but only for the same host and port; anything else must be typed again.
            try:
                return unmask(text, self.cameras.camera(self._selected).url).ffmpeg_url()
            except UrlError:
                return text  # connect_url says "type the password again"
        return text

    def _camera_for_box(self) -> str | None:
        url = self._url_from_box()
        if not url:
            return None
        if self._selected is not None and self.cameras.camera(self._selected).url == url:
            return self._selected
        return self.cameras.find_url(url)

    def _update_connect_button(self) -> None:
        name = self._camera_for_box()
        running = name is not None and self.cameras.is_running(name)
        self.connectButton.setText("&Disconnect" if running else "&Connect")

    def _on_connect_clicked(self) -> None:
        """Connect the URL in the box, or disconnect the camera it names. Never waits."""
        if self._shutting_down or not self.connectButton.isEnabled():
            return
        self.connectButton.setEnabled(False)  # only for this instant: nothing below blocks
        try:
            name = self._camera_for_box()
            if name is not None and self.cameras.is_running(name):
                self.stop_camera(name)
            elif name is not None:
                self.start_camera(name)
            else:
                self.connect_url(self._url_from_box())
        except (CamwallError, ValueError) as exc:
            log.error("cannot connect: %s", exc)
            self.statusbar.showMessage(str(exc), 10000)
        finally:
            QTimer.singleShot(0, lambda: self.connectButton.setEnabled(True))
            self._update_connect_button()

    def connect_url(self, url: str, name: str | None = None) -> CameraTile:
        """Add a camera for ``url`` (named after it unless ``name`` is given) and start it."""
        url = url.strip()
        source_kind(url)  # a clear error before anything else happens
        camera = Camera(name=name or self._unique_name(name_for_url(url)), url=url)
        tile = self.add_camera(camera)
        self._remember_url(url)
        self.select_camera(camera.name)
        return tile

    def _unique_name(self, base: str) -> str:
        names = set(self.cameras.names())
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        return name

    def _remember_url(self, url: str) -> None:
        shown = mask_url(url)
        index = self.urlBox.findText(shown, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            self.urlBox.removeItem(index)
        self.urlBox.insertItem(0, shown, url)
        self.urlBox.setCurrentIndex(0)

    def url_history(self) -> list[str]:
        """Recent URLs as shown in the box (masked), newest first."""
        return [self.urlBox.itemText(i) for i in range(self.urlBox.count())]

    def _on_layout_index(self, index: int) -> None:
        self.set_grid_mode(GRID_MODES[max(0, index)])

    def set_grid_mode(self, mode: GridMode | str | int) -> None:
        """Auto, 1, 4 (2×2), 9 (3×3), 16 (4×4) cameras per page, or 1+5, 1+7, 2+8."""
        parsed = parse_grid_mode(mode)
        index = GRID_MODES.index(parsed)
        if self.layoutBox.currentIndex() != index:
            self.layoutBox.setCurrentIndex(index)  # re-enters through _on_layout_index
            return
        self.grid.set_mode(parsed)

    def set_stats_visible(self, visible: bool) -> None:
        """Show or hide the stats overlay on every tile."""
        self._stats_visible = visible
        if self.statsBox.isChecked() != visible:
            self.statsBox.setChecked(visible)
        for name in self.cameras.names():
            self.cameras.tile(name).set_stats_visible(visible)

    def set_wall_mode(self, on: bool) -> None:
        """Only the tiles, full screen (Esc leaves), or the whole window back."""
        self.layouts.set_wall_mode(on)

    @property
    def wall_mode(self) -> bool:
        """True while only the tiles are on screen."""
        return self.layouts.wall_mode

    @property
    def current_view(self) -> str | None:
        """The named view shown (None: every camera)."""
        return self.layouts.current_view

    def show_view(self, name: str | None) -> None:
        """Show named view ``name`` (None: every camera)."""
        self.layouts.show_view(name)

    def set_theme(self, theme: Theme) -> None:
        """Dark or light (the whole application; remembered with the layout)."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        for name, action in self.theme_actions.items():
            action.setChecked(name == theme)
        if self.layouts.store is not None:
            self.layouts.store.settings.setValue("ui/theme", theme)

    def saved_theme(self) -> Theme:
        """The theme chosen last time (dark when none was)."""
        store = self.layouts.store
        value = store.settings.value("ui/theme") if store is not None else None
        return "light" if value == "light" else "dark"

    def save_layout(self) -> None:
        """Remember grid, tile order, geometry, docks, log and views (if a store was given)."""
        if self.layouts.store is not None:
            self.layouts.store.save(self)

    def restore_layout(self) -> None:
        """Put back what :meth:`save_layout` remembered (call after adding the cameras)."""
        if self.layouts.store is not None:
            self.layouts.store.restore(self)

    def _update_summary(self) -> None:
        names = self.cameras.names()
        live = sum(1 for n in names if self.cameras.tile(n).state is CameraState.STREAMING)
        recording = sum(1 for n in names if self.runtime.is_recording(n))
        detecting = sum(1 for n in names if self.cameras.tile(n).detecting)
        extra = ""
        if self.grid.page_count() > 1 and self.grid.focused is None:
            extra = f"page {self.grid.page + 1}/{self.grid.page_count()} (PgUp/PgDn)"
        self.status.show_counts(len(names), live, recording, detecting, extra)

    # -- snapshots --------------------------------------------------------------------------------

    def save_snapshot(
        self, name: str, kind: SnapshotKind = "png", directory: Path | None = None
    ) -> concurrent.futures.Future[Path]:
        """Save camera ``name``'s current frame at full resolution; the future gives the path.

        Raises CamwallError at once if the camera has no picture. The runtime gets the
        full-size frame and writes the file on its own thread: never block on the future
        from the UI thread.
        """
        if self._shutting_down:
            raise CamwallError("the wall is closing")
        return self.runtime.snapshot(name, directory or self.snapshot_dir, kind)

    def _on_snapshot_requested(self, name: str, kind: str) -> None:
        try:
            future = self.save_snapshot(name, "jpeg" if kind == "jpeg" else "png")
        except CamwallError as exc:
            self.notify_error(f"Snapshot of {name}: {exc}")
            return
        # The runtime's thread finishes it; the answer comes back to the UI thread queued.
        future.add_done_callback(lambda done: self._snapshot_finished.emit(name, done))

    def _on_snapshot_finished(self, name: str, done: concurrent.futures.Future[Path]) -> None:
        if self._shutting_down:
            return
        exc = done.exception()
        if exc is not None:
            self.notify_error(f"Snapshot of {name} failed: {exc}")
            return
        path = done.result()

        def open_folder() -> None:
            self.open_folder(path.parent)

        self.notifications.notify(
            f"Saved a snapshot of {name}: {path.name}", actions=[("Open folder", open_folder)]
        )

    @staticmethod
    def open_folder(folder: Path) -> bool:
        """Show ``folder`` in the desktop's file manager (returns at once)."""
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))

    def _snapshot_all(self) -> None:
        for name in self.grid.visible_names():
            self._on_snapshot_requested(name, "png")

    # -- closing ----------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent | None) -> None:
        """Minimised or restored: the decode budget pauses or resumes every camera."""
        super().changeEvent(event)
        if event is not None and event.type() == QEvent.Type.WindowStateChange:
            self.cameras.update_views()

    def closeEvent(self, event: QCloseEvent | None) -> None:
        """Stop every camera without freezing: the window closes once the workers are gone."""
        if event is None:
            return
        if self._shutdown_done:
            event.accept()
            return
        event.ignore()
        self.begin_shutdown()

    @property
    def is_shut_down(self) -> bool:
        """True once every worker has ended and the window has released everything."""
        return self._shutdown_done

    def begin_shutdown(self) -> None:
        """Start stopping everything in the background; :attr:`shut_down` follows."""
        if self._shutting_down:
            return
        if self.wall_mode:
            self.set_wall_mode(False)  # remember the window, not the full screen
        self.save_layout()
        self._shutting_down = True
        log.info("closing: stopping %d camera(s)", len(self.cameras.names()))
        self.statusbar.showMessage("Stopping cameras…")
        central = self.centralWidget()
        if central is not None:
            central.setEnabled(False)
        self.controls.begin_close()
        self.review.begin_close()
        self.cameras.begin_close()
        self.detection.begin_close()
        if self.remote is not None:
            self.remote.begin_close()
        self.status.stop()
        self._shutdown_thread = threading.Thread(
            target=self._shutdown_worker, name="camwall-shutdown", daemon=True
        )
        self._shutdown_thread.start()

    def _shutdown_worker(self) -> None:
        # Off the UI thread: close() waits (bounded) for the workers to end.
        self._stop_background(SHUTDOWN_TIMEOUT_S)
        self._shutdown_finished.emit()

    def _stop_background(self, timeout: float) -> None:
        # Off the UI thread: close() waits (bounded) for every worker to end.
        self.review.close(timeout)  # playback workers first: they read the runtime's index
        if self.remote is not None:
            self.remote.close(timeout)  # the broker connection of the remote tiles
        if not self.runtime.close(timeout):
            log.warning("some workers were still running after %.1f s", timeout)

    def _finish_shutdown(self) -> None:
        if self._shutdown_done:
            return
        if self._shutdown_thread is not None:
            self._shutdown_thread.join(SHUTDOWN_TIMEOUT_S)
            self._shutdown_thread = None
        self._release()
        self.close()

    def shutdown_now(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Stop everything and wait here (bounded); for application exit without a close."""
        if self._shutdown_done:
            return
        self._shutting_down = True
        self.controls.begin_close()
        self.review.begin_close()
        self.cameras.begin_close()
        self.detection.begin_close()
        if self.remote is not None:
            self.remote.begin_close()
        if self._shutdown_thread is not None:
            self._shutdown_thread.join(timeout)
            self._shutdown_thread = None
        else:
            self._stop_background(timeout)
        self._release()

    def _release(self) -> None:
        self._shutdown_done = True
        self.events_panel.close_loader()
        self.log_panel.uninstall()
        app = QApplication.instance()
        if app is not None:
            try:
                app.aboutToQuit.disconnect(self.shutdown_now)
            except (RuntimeError, TypeError):
                pass  # already disconnected (PySide raises RuntimeError, PyQt TypeError)
        self.shut_down.emit()
