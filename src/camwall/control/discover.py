"""Old path of :mod:`camwall.control.onvif.discover`, kept for ``camwall.ui.control_hub``."""

from camwall.control.onvif.discover import discover_streams, discover_streams_async

__all__ = ["discover_streams", "discover_streams_async"]
