"""HoldController: press-and-hold camera moves from the UI, always ended by a stop.

A camera that keeps moving because the UI missed a button release is a real failure, so a
held move ends — and the camera is sent a stop — when the press ends for *any* reason: the
button or key is released, the window is deactivated (another window took the focus, the
mouse release went elsewhere), the application goes inactive, the control panel hides, the
camera is switched or removed, the control becomes unavailable, or another move starts.

Below that, the control layer's dead-man switch (:mod:`camwall.control.hold`) still holds:
each move carries a short ONVIF timeout and is re-sent while held, and the hold is *leased*:
this controller renews it every :data:`RENEW_MS` from the UI thread, so a UI thread that
freezes for :data:`LEASE_S` lets the camera stop by itself.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future

from qtpy.QtCore import QEvent, QObject, Qt, QTimer
from qtpy.QtGui import QGuiApplication
from qtpy.QtWidgets import QAbstractButton, QWidget

from camwall.control.hold import HeldMove
from camwall.control.model import StopMethod, Velocity
from camwall.errors import ControlError
from camwall.ui.control.control_hub import AXIS_FEATURE, ControlHub
from camwall.ui.qt_compat import Signal

log = logging.getLogger(__name__)

#: A held move whose lease the UI has not renewed for this long stops by itself.
LEASE_S = 1.5
#: How often the UI renews the lease of a held move.
RENEW_MS = 250


class _Held:
    """The move being held now, and what started it (a button, a key)."""

    def __init__(
        self, camera: str, what: str, velocity: Velocity, source: object, window: QWidget | None
    ) -> None:
        self.camera = camera
        self.what = what
        self.velocity = velocity
        self.source = source
        self.window = window
        self.move: HeldMove | None = None
        self.resend_reported = False


class HoldController(QObject):
    """Starts and ends held moves for the control panel and its shortcuts."""

    #: What is held now ("zoom in", …), or "" once nothing is.
    hold_changed = Signal(str)

    def __init__(self, hub: ControlHub, parent: QObject | None = None) -> None:
        """A controller that starts moves through ``hub``."""
        super().__init__(parent)
        self._hub = hub
        self._held: _Held | None = None
        self._watched: list[QWidget] = []
        self._renew = QTimer(self)
        self._renew.setInterval(RENEW_MS)
        self._renew.timeout.connect(self._renew_lease)
        hub.camera_removed.connect(self._on_camera_removed)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.connect(self._on_application_state)

    # -- state --------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """True while a move is held."""
        return self._held is not None

    @property
    def what(self) -> str:
        """The held move ("zoom in"), or ""."""
        return self._held.what if self._held is not None else ""

    @property
    def camera(self) -> str | None:
        """The camera whose move is held."""
        return self._held.camera if self._held is not None else None

    @property
    def source(self) -> object | None:
        """The button or key that holds the move."""
        return self._held.source if self._held is not None else None

    @property
    def move(self) -> HeldMove | None:
        """The control layer's handle of the held move."""
        return self._held.move if self._held is not None else None

    # -- begin and end ------------------------------------------------------------------------

    def begin(
        self,
        camera: str,
        velocity: Velocity,
        what: str,
        source: object = None,
        window: QWidget | None = None,
    ) -> bool:
        """Start holding a move of ``camera``; False (logged) if it cannot move that way.

        ``source`` is what holds it (a button, a key); ``window`` the window the press
        happened in (by default the source's): its deactivation ends the hold.
        """
        self.end("another move started")
        if window is None and isinstance(source, QWidget):
            window = source.window()
        if window is not None:
            self._watch(window)
        held = _Held(camera, what, velocity, source, window)

        def on_error(err: ControlError) -> None:
            """Control thread: a (re-)send failed; tell the UI thread."""
            self._hub.bridge.call_soon(self._on_resend_error, held, err)

        move = self._hub.start_move(camera, velocity, lease_s=LEASE_S, on_error=on_error)
        if move is None:
            _release(source)
            return False
        held.move = move
        self._held = held
        self._renew.start()
        log.debug("%s: held", what, extra={"camera": camera})
        self._hub.bridge.watch(move.started, lambda f: self._on_started(held, f))
        self._hub.bridge.watch(move.finished, lambda f: self._on_finished(held, f))
        self.hold_changed.emit(what)
        return True

    def end(self, reason: str) -> None:
        """Let go of the held move (if any): the camera is sent a stop."""
        held = self._held
        if held is None:
            return
        self._held = None
        self._renew.stop()
        if held.move is not None:
            held.move.stop()
        _release(held.source)
        log.debug("%s: let go (%s)", held.what, reason, extra={"camera": held.camera})
        self.hold_changed.emit("")

    def end_if(self, source: object, reason: str) -> None:
        """End the held move if ``source`` holds it (a button released, a key let go)."""
        if self._held is not None and self._held.source == source:
            self.end(reason)

    def _renew_lease(self) -> None:
        held = self._held
        if held is not None and held.move is not None:
            held.move.renew()

    # -- what the control layer says ----------------------------------------------------------

    def _on_started(self, held: _Held, future: Future[bool]) -> None:
        exc = None if future.cancelled() else future.exception()
        if exc is None:
            return
        feature = AXIS_FEATURE[min(held.velocity.axes, key=lambda a: a.value)]
        if self._held is held:
            self.end("the camera did not take the move")
        self._hub.report_failure(held.camera, feature, held.what, exc)

    def _on_resend_error(self, held: _Held, err: ControlError) -> None:
        started = held.move.started if held.move is not None else None
        if started is None or not started.done() or started.cancelled() or started.exception():
            return  # the first send failed: _on_started reports that
        if not held.resend_reported:
            held.resend_reported = True
            log.warning(
                "%s: the camera did not take a repeated move: %s (still trying while held; "
                "it stops by itself within its move timeout)",
                held.what,
                err,
                extra={"camera": held.camera},
            )

    def _on_finished(self, held: _Held, future: Future[StopMethod]) -> None:
        if future.cancelled():
            return  # the control service shut down; it stopped or abandoned the move
        exc = future.exception()
        if exc is not None:
            log.error("%s: %s", held.what, exc, extra={"camera": held.camera})
        if self._held is held:
            # Ended by itself while still pressed: lease, time limit, or refused.
            ended_by = held.move.ended_by if held.move is not None else None
            if exc is None and ended_by not in (None, "refused"):
                log.warning(
                    "%s stopped by itself (%s)", held.what, ended_by, extra={"camera": held.camera}
                )
            self.end(ended_by or "ended")

    # -- the press ends for other reasons -----------------------------------------------------

    def _watch(self, window: QWidget) -> None:
        if window not in self._watched:
            window.installEventFilter(self)
            self._watched.append(window)
            window.destroyed.connect(lambda *_: self._forget(window))

    def _forget(self, window: QWidget) -> None:
        if window in self._watched:
            self._watched.remove(window)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        """The window the press happened in was deactivated or hidden: let go."""
        held = self._held
        if event is not None and held is not None and watched is held.window:
            kind = event.type()
            if kind == QEvent.Type.WindowDeactivate:
                self.end("the window was deactivated")
            elif kind == QEvent.Type.Hide:
                self.end("the window was hidden")
        return False

    def _on_application_state(self, state: Qt.ApplicationState) -> None:
        if state != Qt.ApplicationState.ApplicationActive:
            self.end("the application became inactive")

    def _on_camera_removed(self, name: str) -> None:
        if self._held is not None and self._held.camera == name:
            self.end("the camera was removed")


def _release(source: object) -> None:
    """Show a button that held a move as released."""
    if isinstance(source, QAbstractButton) and source.isDown():
        source.setDown(False)
