"""What the wall remembers between runs: layout, tile order, window geometry, docks, views.

Kept with ``QSettings`` (the platform's place for per-user UI state; tests pass an INI file):
window geometry and dock state as Qt saves them (``saveGeometry``/``saveState``), the grid
layout, the tile order, whether the log shows, and the named views. A named view
("Outside", "Inside") is a saved set of cameras and a layout, switched from the Views menu
or with Ctrl+1…9. Lists are stored as JSON text: every Qt binding and settings format reads
a string back the same way.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from qtpy.QtCore import QByteArray, QSettings

from camwall.ui.wall.grid import GridMode, parse_grid_mode
from camwall.ui.wall.host import WallHost

__all__ = ["LayoutStore", "NamedView"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NamedView:
    """A saved set of cameras (in order) and the layout to show them in."""

    name: str
    grid: GridMode
    cameras: tuple[str, ...]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class LayoutStore:
    """Saves and restores a wall's layout in ``settings`` (default: the user's camwall settings)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        """Use ``settings``, or QSettings("camwall", "wall")."""
        self.settings = settings if settings is not None else QSettings("camwall", "wall")
        self.views: dict[str, NamedView] = self._load_views()

    # -- the window ---------------------------------------------------------------------------

    def save(self, window: WallHost) -> None:
        """Remember ``window``'s geometry, docks, layout, tile order and log visibility."""
        s = self.settings
        s.setValue("window/geometry", window.saveGeometry())
        s.setValue("window/state", window.saveState())
        s.setValue("wall/grid", str(window.grid.mode))
        s.setValue("wall/order", json.dumps(window.camera_names()))
        s.setValue("wall/log", "1" if window.actionShowLog.isChecked() else "0")
        s.setValue("wall/view", window.current_view or "")
        self._save_views()
        s.sync()

    def restore(self, window: WallHost) -> None:
        """Put back what :meth:`save` remembered (missing or broken values are skipped)."""
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes) and len(geometry):
            window.restoreGeometry(QByteArray(geometry))
        state = s.value("window/state")
        if isinstance(state, QByteArray | bytes) and len(state):
            window.restoreState(QByteArray(state))
        grid = _text(s.value("wall/grid"))
        if grid:
            try:
                window.set_grid_mode(parse_grid_mode(grid))
            except ValueError:
                log.warning("ignoring the saved grid layout %r", grid)
        order = self._json_list(s.value("wall/order"))
        if order:
            window.grid.set_order(order)
        shown = _text(s.value("wall/log"))
        if shown in ("0", "1"):
            window.actionShowLog.setChecked(shown == "1")
        view = _text(s.value("wall/view"))
        if view in self.views:
            window.show_view(view)

    def saved_order(self) -> list[str]:
        """The tile order saved last, for tiles that join after :meth:`restore` (remote ones)."""
        return self._json_list(self.settings.value("wall/order"))

    # -- named views ------------------------------------------------------------------------

    def _load_views(self) -> dict[str, NamedView]:
        raw = _text(self.settings.value("views"))
        try:
            data = json.loads(raw) if raw else []
        except json.JSONDecodeError:
            log.warning("ignoring unreadable saved views")
            return {}
        views: dict[str, NamedView] = {}
        for item in data if isinstance(data, list) else []:
            try:
                view = NamedView(
                    str(item["name"]),
                    parse_grid_mode(item["grid"]),
                    tuple(str(c) for c in item["cameras"]),
                )
            except (KeyError, TypeError, ValueError):
                continue
            views[view.name] = view
        return views

    def _save_views(self) -> None:
        data = [
            {"name": v.name, "grid": str(v.grid), "cameras": list(v.cameras)}
            for v in self.views.values()
        ]
        self.settings.setValue("views", json.dumps(data))

    def put_view(self, view: NamedView) -> None:
        """Save ``view`` (replacing one of the same name) now."""
        self.views[view.name] = view
        self._save_views()
        self.settings.sync()

    def delete_view(self, name: str) -> None:
        """Forget view ``name``."""
        if self.views.pop(name, None) is not None:
            self._save_views()
            self.settings.sync()

    @staticmethod
    def _json_list(value: object) -> list[str]:
        try:
            data = json.loads(_text(value) or "[]")
        except json.JSONDecodeError:
            return []
        return [str(x) for x in data] if isinstance(data, list) else []
