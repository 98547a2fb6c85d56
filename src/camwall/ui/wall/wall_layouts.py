"""The wall's layouts: wall mode, named views, Alt+1…9, and what is remembered between runs.

* **Wall mode** (F11, ``camwall --wall-mode``): only the tiles, full screen — no menu, URL
  bar, log, docks or status bar; Esc (or F11) leaves. For an unattended monitor.
* **Named views** ("Outside", "Inside"): a saved set of cameras and a layout, from the
  Views menu or Ctrl+1…9; Ctrl+0 shows every camera again.
* **Alt+1…9** fills the window with camera N (again: back to the grid).
* **Remembered** with :class:`~camwall.ui.wall.layout_state.LayoutStore` (QSettings).

The keys are actions on the window itself, so they work while the menu bar is hidden.
"""

from __future__ import annotations

import logging

from qtpy.QtCore import QObject, Qt
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QAction, QDockWidget, QInputDialog, QMenu, QWidget

from camwall.ui.wall.host import WallHost
from camwall.ui.wall.layout_state import LayoutStore, NamedView

__all__ = ["WallLayouts"]

log = logging.getLogger(__name__)

MAX_VIEW_KEYS = 9


class WallLayouts(QObject):
    """Wall mode, named views and camera keys for ``window``; see the module docstring."""

    def __init__(self, window: WallHost, store: LayoutStore | None) -> None:
        """Add the Views menu and the window-wide keys to ``window``."""
        super().__init__(window)
        self._window = window
        #: Where layouts are remembered (None: nothing is, e.g. in tests that do not ask).
        self.store = store
        self.current_view: str | None = None
        self._wall_mode = False
        self._hidden: list[QWidget] = []
        self._was_maximized = False

        window.actionFullScreen.setText("&Wall mode (only the cameras)")
        window.addAction(window.actionFullScreen)  # F11 works with the menu hidden
        self.leave_action = _action(window, "Leave wall mode", "actionLeaveWallMode", "Esc")
        self.leave_action.setEnabled(False)
        self.leave_action.triggered.connect(lambda: self.set_wall_mode(False))
        self.fill_actions = []
        for n in range(1, 10):
            fill = _action(window, f"Camera {n} alone", f"actionFillCamera{n}", f"Alt+{n}")
            fill.triggered.connect(lambda _=False, n=n: self.fill_with_camera(n))
            self.fill_actions.append(fill)

        self.menu = QMenu("View&s", window)
        self.menu.setObjectName("menuViews")
        window.menubar.insertMenu(window.menuView.menuAction(), self.menu)
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.all_action = _action(window, "&All cameras", "actionAllCameras", "Ctrl+0")
        self.all_action.triggered.connect(lambda: self.show_view(None))
        self.view_actions: list[QAction] = []
        for n in range(1, MAX_VIEW_KEYS + 1):
            view = _action(window, "", f"actionView{n}", f"Ctrl+{n}")
            view.triggered.connect(lambda _=False, n=n: self._show_nth_view(n))
            self.view_actions.append(view)
        self.save_action = QAction("&Save this view as…", window)
        self.save_action.setObjectName("actionSaveView")
        self.save_action.triggered.connect(self._on_save_view)
        self.delete_action = QAction("&Delete this view", window)
        self.delete_action.setObjectName("actionDeleteView")
        self.delete_action.triggered.connect(self.delete_current_view)
        self.rebuild_menu()

    # -- wall mode ------------------------------------------------------------------------------

    @property
    def wall_mode(self) -> bool:
        """True while only the tiles are on screen."""
        return self._wall_mode

    def _chrome(self) -> list[QWidget]:
        w = self._window
        widgets: list[QWidget] = [w.menubar, w.statusbar, w.logHost]
        layout = w.toolbarLayout
        for i in range(layout.count()):
            item = layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widgets.append(widget)
        widgets += w.findChildren(QDockWidget)
        return widgets

    def set_wall_mode(self, on: bool) -> None:
        """Only the tiles, full screen (True), or everything back as it was (False)."""
        w = self._window
        if on == self._wall_mode:
            return
        self._wall_mode = on
        if on:
            self._was_maximized = w.isMaximized()
            self._hidden = [x for x in self._chrome() if x.isVisible()]
            for widget in self._hidden:
                widget.hide()
            w.showFullScreen()
        else:
            for widget in self._hidden:
                widget.show()
            self._hidden = []
            if self._was_maximized:
                w.showMaximized()
            else:
                w.showNormal()
        self.leave_action.setEnabled(on)
        if w.actionFullScreen.isChecked() != on:
            w.actionFullScreen.setChecked(on)
        log.info("wall mode %s", "on (Esc to leave)" if on else "off")

    # -- cameras -------------------------------------------------------------------------------

    def fill_with_camera(self, n: int) -> None:
        """Let camera ``n`` (1-based, wall order) fill the window; again: back to the grid."""
        names = self._window.camera_names()
        if 1 <= n <= len(names):
            self._window.grid.toggle_focus(names[n - 1])

    # -- named views ---------------------------------------------------------------------------

    def views(self) -> list[NamedView]:
        """The saved views, in the order they were saved."""
        return list(self.store.views.values()) if self.store is not None else []

    def save_view(self, name: str) -> NamedView:
        """Save the cameras on screen now and the layout as view ``name``."""
        name = name.strip()
        if not name:
            raise ValueError("a view needs a name")
        grid = self._window.grid
        view = NamedView(name, grid.mode, tuple(grid.visible_names()))
        if self.store is None:
            self.store = LayoutStore()
        self.store.put_view(view)
        self.current_view = name
        self.rebuild_menu()
        return view

    def show_view(self, name: str | None) -> None:
        """Show view ``name`` (None: every camera in the layout chosen last)."""
        grid = self._window.grid
        if name is None:
            self.current_view = None
            grid.set_view_names(None)
            return
        views = self.store.views if self.store is not None else {}
        view = views.get(name)
        if view is None:
            raise KeyError(f"no view named {name!r}")
        self.current_view = name
        grid.set_view_names(list(view.cameras))
        self._window.set_grid_mode(view.grid)

    def _show_nth_view(self, n: int) -> None:
        views = self.views()
        if 1 <= n <= len(views):
            self.show_view(views[n - 1].name)

    def _on_save_view(self) -> None:
        self.ask_save_view()

    def ask_save_view(self) -> QInputDialog:
        """Ask for the new view's name (does not wait)."""
        dialog = QInputDialog(self._window)
        dialog.setObjectName("saveViewDialog")
        dialog.setWindowTitle("Save view")
        dialog.setLabelText("Name of this view (e.g. Outside):")
        dialog.setTextValue(self.current_view or "")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.textValueSelected.connect(self._save_from_dialog)
        dialog.open()
        return dialog

    def _save_from_dialog(self, name: str) -> None:
        try:
            self.save_view(name)
        except ValueError as exc:
            self._window.notify_error(f"Cannot save the view: {exc}")

    def delete_current_view(self) -> None:
        """Forget the view shown now and show every camera."""
        if self.current_view is not None and self.store is not None:
            self.store.delete_view(self.current_view)
        self.show_view(None)
        self.rebuild_menu()

    def rebuild_menu(self) -> None:
        """The Views menu: all cameras, each saved view (Ctrl+N), save, delete."""
        self.menu.clear()
        self.menu.addAction(self.all_action)
        views = self.views()
        for n, action in enumerate(self.view_actions, start=1):
            if n <= len(views):
                action.setText(views[n - 1].name)
                action.setEnabled(True)
                self.menu.addAction(action)
            else:
                action.setEnabled(False)
        self.menu.addSeparator()
        self.menu.addAction(self.save_action)
        self.delete_action.setEnabled(self.current_view is not None)
        self.menu.addAction(self.delete_action)


def _action(window: QWidget, text: str, name: str, keys: str) -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    action.setShortcut(QKeySequence(keys))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.addAction(action)
    return action
