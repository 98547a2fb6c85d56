"""Stopping the control service while a login is still in progress leaks nothing."""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings

import pytest

from camwall.control import ControlService
from camwall.control.model import OnvifSettings
from camwall.control.onvif.client import OnvifCameraControl
from camwall.control.onvif.errors import load_onvif


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (it was bound and closed again)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_stop_during_login_closes_every_http_session() -> None:
    service = ControlService().start()
    camera = service.open_onvif(OnvifSettings("127.0.0.1", free_port(), "user", "pw"))
    service.stop()  # at once: the login (library import, WSDL parse, refused connect) is under way
    assert camera.connected.done()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], leaks


def test_a_login_cancelled_while_a_service_is_set_up_closes_its_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """onvif-zeep-async opens a service's HTTP session, loads its WSDL (in a worker thread, the
    first time) and only then keeps the service where its close() finds it: a cancel in
    between (the wall closing during a login) must not drop that session unclosed."""
    onvif = load_onvif()
    # Forget the parsed WSDLs: the login waits for the load, as the first one of a process does.
    monkeypatch.setattr(onvif, "_DOCUMENT_CACHE", {})
    control = OnvifCameraControl(OnvifSettings("127.0.0.1", free_port(), "user", "pw"))

    async def cancel_mid_setup() -> None:
        login = asyncio.ensure_future(control.connect(probe=False))
        await asyncio.sleep(0)  # the login runs to its first wait: a service being set up
        login.cancel()
        with pytest.raises(asyncio.CancelledError):
            await login
        await control.close()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(cancel_mid_setup())
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], leaks
