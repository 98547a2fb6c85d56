"""Stopping the control service while a login is still in progress leaks nothing."""

from __future__ import annotations

import gc
import socket
import warnings

from camwall.control import ControlService
from camwall.control.model import OnvifSettings


def test_stop_during_login_closes_every_http_session() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    service = ControlService().start()
    camera = service.open_onvif(OnvifSettings("127.0.0.1", port, "user", "pw"))
    service.stop()  # at once: the login (library import, WSDL parse, refused connect) is under way
    assert camera.connected.done()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], leaks
