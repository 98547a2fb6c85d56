"""What the wall's helpers (dock, layouts, menus, config sync) may use of the window.

They are built by :class:`~camwall.ui.wall.main_window.CameraWall` and handed the window;
typing them against this base class instead of the window itself keeps the imports one-way
(the window imports its helpers and this base, never the other way round).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import QMainWindow

if TYPE_CHECKING:
    from camwall.config import Camera
    from camwall.runtime import Runtime
    from camwall.ui.wall.grid import CameraGrid
    from camwall.ui.wall.tile import CameraTile
    from camwall.ui.wall.wall_cameras import WallCameras


class WallHost(QMainWindow):
    """The camera wall window, as its helpers see it (CameraWall implements it)."""

    runtime: Runtime
    cameras: WallCameras
    grid: CameraGrid
    # From the .ui file and Qt: menus, actions, status bar, signals.
    menubar: Any
    menuFile: Any  # noqa: N815
    menuView: Any  # noqa: N815
    statusbar: Any
    actionFullScreen: Any  # noqa: N815 (the .ui file's object names)
    actionShowLog: Any  # noqa: N815
    toolbarLayout: Any  # noqa: N815
    logHost: Any  # noqa: N815
    camera_added: Any
    camera_removed: Any
    camera_changed: Any
    shut_down: Any

    def camera_names(self) -> list[str]:
        """Cameras on the wall, in order."""
        raise NotImplementedError

    def tile(self, name: str) -> CameraTile:
        """The tile of camera ``name``."""
        raise NotImplementedError

    def add_camera(self, camera: Camera, *, start: bool = True) -> CameraTile:
        """Put ``camera`` on the wall."""
        raise NotImplementedError

    def select_camera(self, name: str | None) -> None:
        """Highlight camera ``name``."""
        raise NotImplementedError

    def set_recording(self, name: str, on: bool) -> None:
        """Record camera ``name`` or stop."""
        raise NotImplementedError

    def set_grid_mode(self, mode: Any) -> None:
        """Change the grid."""
        raise NotImplementedError

    def notify_error(self, text: str) -> None:
        """Show an error where people look."""
        raise NotImplementedError

    @property
    def current_view(self) -> str | None:
        """The named view shown, if any."""
        raise NotImplementedError

    def show_view(self, name: str | None) -> None:
        """Show named view ``name`` (None: every camera)."""
        raise NotImplementedError
