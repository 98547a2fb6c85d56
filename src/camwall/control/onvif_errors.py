"""Old path of :mod:`camwall.control.onvif.errors`, kept for ``camwall.ui.wall_controls``."""

from camwall.control.onvif.errors import load_onvif, map_error

__all__ = ["load_onvif", "map_error"]
