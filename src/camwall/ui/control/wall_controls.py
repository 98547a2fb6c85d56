"""Camera control in the wall window: the control dock, "Add ONVIF camera…", shortcuts, zoom.

:class:`WallControls` is the one object the window talks to about camera control. It owns
the :class:`~camwall.ui.control.control_hub.ControlHub` (over the runtime's control sessions), the
:class:`~camwall.ui.control.control_panel.ControlPanel` in a dock on the right, the panel's
keyboard shortcuts and the *File → Add ONVIF camera…* action. The window tells it when
cameras come and go, which camera is selected, and when it shuts down. The control sessions
themselves belong to the window's runtime (:mod:`camwall.runtime.control`).

Digital zoom lives in each tile (:mod:`camwall.ui.view.zoom`); here a zoomed tile makes the wall
move that camera to its main stream (and the worker to larger frames, see
``WallCameras._tile_size``), so what is magnified is the camera's full picture.
"""

from __future__ import annotations

import logging

from qtpy.QtCore import QObject, Qt, QTimer
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QAction, QCheckBox, QDockWidget, QScrollArea, QVBoxLayout, QWidget

from camwall.config import Camera
from camwall.control import Capabilities
from camwall.errors import CamwallError, MissingExtraError
from camwall.runtime import CameraChanged, ControlChanged, RuntimeEvent
from camwall.ui.control.control_hub import ControlHub
from camwall.ui.control.control_keys import ControlKeys
from camwall.ui.control.control_panel import ControlPanel
from camwall.ui.control.picture_ptz import PicturePtz
from camwall.ui.dialogs.find_cameras import FindCamerasDialog
from camwall.ui.dialogs.onvif_dialog import OnvifCameraDialog
from camwall.ui.wall.host import WallHost
from camwall.ui.wall.tile import CameraTile

log = logging.getLogger(__name__)


def _preload_onvif() -> None:
    """Import the ONVIF stack now, before the window shows (once per process).

    The first connection imports onvif-zeep-async, zeep and aiohttp: ~0.15 s, parts of it
    (aiohttp builds its TLS context at import) holding the GIL for tens of milliseconds at a
    time. On the control thread of a running wall that is a visible hitch of the UI; before
    the window is shown it is only a slightly later start. A missing extra is reported by the
    connection attempt itself.
    """
    from camwall.control.onvif.errors import load_onvif

    try:
        load_onvif()
    except MissingExtraError:
        pass  # the hub's connection attempt logs it, with what to install


#: A zoom change settles this long before the wall switches the camera's stream.
_STREAM_SETTLE_MS = 300


class WallControls(QObject):
    """Camera control for one wall window; see the module docstring."""

    def __init__(self, window: WallHost) -> None:
        """Add the control dock and the ONVIF action to ``window``."""
        super().__init__(window)
        self._window = window
        self.hub = ControlHub(window.runtime.control, self)
        self.panel = ControlPanel(self.hub)
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = scroll.verticalScrollBar()
        bar_w = bar.sizeHint().width() if bar is not None else 16
        # Wide enough for the whole panel: only the height ever scrolls.
        scroll.setMinimumWidth(self.panel.minimumSizeHint().width() + bar_w + 2)
        # Recording is per camera like the controls: the selected camera's switch sits on top.
        self.record_box = QCheckBox("Record this camera")
        self.record_box.setObjectName("recordBox")
        self.record_box.setEnabled(False)
        self.record_box.setToolTip("Record the selected camera's main stream into MP4 segments")
        self.record_box.toggled.connect(self._on_record_toggled)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(6, 6, 6, 0)
        column.addWidget(self.record_box)
        column.addWidget(scroll, 1)
        self.dock = QDockWidget("Camera control", window)
        self.dock.setObjectName("controlDock")
        self.dock.setWidget(holder)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        # Out of the way until a camera with control is selected (most cameras have none).
        self.dock.hide()
        self.keys = ControlKeys(self.panel, home=window)
        self.dialog: OnvifCameraDialog | None = None

        self.add_onvif_action = QAction("Add &ONVIF camera…", window)
        self.add_onvif_action.setObjectName("actionAddOnvifCamera")
        self.add_onvif_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.add_onvif_action.triggered.connect(self._on_add_onvif)
        file_menu = window.menuFile
        first = file_menu.actions()[0] if file_menu.actions() else None
        file_menu.insertAction(first, self.add_onvif_action)
        # "Find cameras…" (WS-Discovery, issue 18): just above "Add ONVIF camera…".
        self.find_dialog: FindCamerasDialog | None = None
        self.find_action = QAction("&Find cameras…", window)
        self.find_action.setObjectName("actionFindCameras")
        self.find_action.triggered.connect(self._on_find)
        file_menu.insertAction(self.add_onvif_action, self.find_action)
        toggle = self.dock.toggleViewAction()
        if toggle is not None:
            toggle.setText("Camera &control panel")
            toggle.setShortcut(QKeySequence("Ctrl+K"))
            window.menuView.addAction(toggle)

        self._streams = QTimer(self)
        self._streams.setSingleShot(True)
        self._streams.setInterval(_STREAM_SETTLE_MS)
        self._streams.timeout.connect(self._update_streams)

    # -- cameras ------------------------------------------------------------------------------

    def attach(self, tile: CameraTile, camera: Camera) -> None:
        """A camera joined the wall: show its control (the runtime connected it, if it has one)."""
        if camera.onvif is not None and not self._window.isVisible():
            _preload_onvif()
        # The runtime opened the camera's control session (if it has one); the hub shows it.
        self.hub.add_camera(camera.name, None, self._window.runtime.control_session(camera.name))
        tile.zoom.changed.connect(self._streams.start)
        # Drag from the picture's centre to pan/tilt (a child of the tile: goes with it).
        PicturePtz(tile, self.hub, self.panel.holds)

    def on_event(self, event: RuntimeEvent) -> None:
        """A runtime event (UI thread): capability changes, recording switched elsewhere."""
        payload = event.payload
        if isinstance(payload, ControlChanged) and isinstance(payload.capabilities, Capabilities):
            self.hub.capabilities_changed(payload.camera, payload.capabilities)
        elif isinstance(payload, CameraChanged) and payload.camera == self.panel.camera:
            self._show_record_box(payload.camera)

    def _show_record_box(self, name: str | None) -> None:
        runtime = self._window.runtime
        known = name is not None and name in runtime.cameras()
        blocked = self.record_box.blockSignals(True)
        self.record_box.setEnabled(known)
        self.record_box.setChecked(known and runtime.is_recording(name))  # type: ignore[arg-type]
        self.record_box.blockSignals(blocked)

    def _on_record_toggled(self, on: bool) -> None:
        name = self.panel.camera
        if name is not None:
            self._window.set_recording(name, on)
            self._show_record_box(name)

    def detach(self, name: str) -> None:
        """A camera leaves the wall: let go of its moves and close its control."""
        if self.panel.camera == name:
            self.panel.set_camera(None)
        self.hub.remove_camera(name)

    def select(self, name: str | None) -> None:
        """Show camera ``name`` (None: none) in the control panel; the dock shows only for a
        camera with control (Ctrl+K still opens it for any camera)."""
        tile = self._window.tile(name) if name is not None else None
        self.panel.set_camera(name, tile.zoom if tile is not None else None)
        self._show_record_box(name)
        if not getattr(self._window, "wall_mode", False):
            self.dock.setVisible(self.has_control(name))

    def has_control(self, name: str | None) -> bool:
        """True if camera ``name`` has optical control (ONVIF settings or a runtime session)."""
        state = self.hub.state(name) if name is not None else None
        return state is not None and (state.settings is not None or state.remote is not None)

    def _update_streams(self) -> None:
        if not self.hub.closing:
            self._window.cameras.update_streams()

    # -- adding an ONVIF camera ----------------------------------------------------------------

    def _on_add_onvif(self) -> None:
        self.open_onvif_dialog()

    def open_onvif_dialog(self) -> OnvifCameraDialog:
        """Open "Add ONVIF camera…" (not blocking); an accepted camera joins the wall."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        dialog = OnvifCameraDialog(self.hub, self._window, taken_names=self._window.camera_names())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.accepted.connect(lambda: self._add_from_dialog(dialog))
        dialog.destroyed.connect(self._forget_dialog)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _forget_dialog(self, *_: object) -> None:
        self.dialog = None

    def _add_from_dialog(self, dialog: OnvifCameraDialog) -> None:
        try:
            camera = dialog.camera()
            self._window.add_camera(camera)
        except (CamwallError, ValueError) as exc:
            log.error("cannot add the ONVIF camera: %s", exc)
            self._window.statusbar.showMessage(str(exc), 10000)
            return
        self._window.select_camera(camera.name)

    def _on_find(self) -> None:
        self.open_find_dialog()

    def open_find_dialog(self) -> FindCamerasDialog:
        """Open "Find cameras…" (not blocking); each camera it adds joins the wall."""
        if self.find_dialog is not None and self.find_dialog.isVisible():
            self.find_dialog.activateWindow()
            return self.find_dialog
        if self.find_dialog is not None:
            self.find_dialog.deleteLater()  # closed: a new search starts afresh
        self.find_dialog = FindCamerasDialog(
            self.hub, self._add_found, self._window, taken_names=self._window.camera_names
        )
        self.find_dialog.show()
        return self.find_dialog

    def _add_found(self, camera: Camera) -> None:
        self._window.add_camera(camera)
        self._window.select_camera(camera.name)

    # -- closing ------------------------------------------------------------------------------

    def begin_close(self) -> None:
        """The window is closing: let go of held moves, stop taking keys and requests."""
        self.panel.holds.end("the wall is closing")
        self._streams.stop()
        self.keys.uninstall()
        if self.dialog is not None:
            self.dialog.cancel_search()
        if self.find_dialog is not None:
            self.find_dialog.close()
        self.hub.begin_close()
