"""The ONVIF backend of camera control (onvif-zeep-async), imported lazily by its users.

* :mod:`~camwall.control.onvif.client` — :class:`OnvifCameraControl`, one camera.
* :mod:`~camwall.control.onvif.errors` — the one place that maps library errors (zeep, lxml,
  aiohttp, HTTP statuses, timeouts, malformed replies) to :class:`camwall.errors.ControlError`.
* :mod:`~camwall.control.onvif.probe`, ``focus``, ``ptz`` — capability probing and moves.
* :mod:`~camwall.control.onvif.discover` — a camera's stream URLs.

Importing this package does not import the ONVIF library; connecting does.
"""

from camwall.control.onvif.client import OnvifCameraControl
from camwall.control.onvif.discover import discover_streams, discover_streams_async
from camwall.control.onvif.errors import load_onvif, map_error

__all__ = [
    "OnvifCameraControl",
    "discover_streams",
    "discover_streams_async",
    "load_onvif",
    "map_error",
]
