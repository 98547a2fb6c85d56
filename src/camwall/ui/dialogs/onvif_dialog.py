"""The "Add ONVIF camera…" dialog: host, port, user, password → the camera's streams.

*Find streams* asks the camera over ONVIF for its media profiles and their RTSP URLs
(:func:`camwall.control.discover_streams_async`, on the control service's thread: the dialog
stays responsive, shows that it is busy, and can be cancelled). The largest profile becomes
the main stream, the next the substream (:mod:`camwall.ui.dialogs.found_streams`, shared with
"Find cameras…"). *Add* then puts the camera on the wall with its
control endpoint, so its focus, zoom and pan/tilt work at once.

The password is never shown or logged: the URL fields show the camera's URLs as it reports
them (without credentials; any it includes are masked); credentials are added to the URLs
only in the :class:`~camwall.config.Camera` the dialog returns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future

from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from camwall.config import Camera
from camwall.control.model import OnvifSettings, StreamProfile
from camwall.errors import (
    ControlAuthError,
    ControlConnectionError,
    ControlError,
    ControlTimeoutError,
)
from camwall.ui.control.control_hub import ControlHub
from camwall.ui.dialogs.fields import busy_bar, line_edit, message_label
from camwall.ui.dialogs.found_streams import FoundStreams, describe, free_name, scrub, shown_url

log = logging.getLogger(__name__)

#: How long discovery may take (login, profiles, stream URLs) before it is given up.
DISCOVERY_TIMEOUT_S = 20.0


class OnvifCameraDialog(QDialog):
    """Asks for an ONVIF camera and finds its streams; :meth:`camera` is the result."""

    def __init__(
        self,
        hub: ControlHub,
        parent: QWidget | None = None,
        *,
        taken_names: Iterable[str] = (),
        timeout_s: float = DISCOVERY_TIMEOUT_S,
    ) -> None:
        """A dialog that discovers through ``hub``; ``taken_names`` are names in use."""
        super().__init__(parent)
        self.setWindowTitle("Add ONVIF camera")
        self.setObjectName("onvifDialog")
        self._hub = hub
        self._taken = set(taken_names)
        self._timeout_s = timeout_s
        self._search: Future[list[StreamProfile]] | None = None
        self._generation = 0
        self._found = FoundStreams()

        self.name_edit = line_edit(self, "nameEdit", "camera name (default: the host)")
        self.host_edit = line_edit(self, "hostEdit", "192.0.2.10 or camera.local")
        self.port_box = QSpinBox(self)
        self.port_box.setObjectName("portBox")
        self.port_box.setRange(1, 65535)
        self.port_box.setValue(80)
        self.user_edit = line_edit(self, "userEdit", "admin")
        self.password_edit = line_edit(self, "passwordEdit", "")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.find_button = QPushButton("&Find streams", self)
        self.find_button.setObjectName("findStreamsButton")
        self.find_button.setToolTip("Log in over ONVIF and read the camera's RTSP streams")
        self.progress = busy_bar(self, "discoveryProgress")
        self.message = message_label(self, "discoveryMessage")
        self.main_edit = line_edit(self, "mainUrlEdit", "found by Find streams")
        self.sub_edit = line_edit(self, "subUrlEdit", "none")
        self.main_info = QLabel(self)
        self.sub_info = QLabel(self)
        self.buttons = QDialogButtonBox(self)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Ok)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setText("&Add")
        self.buttons.accepted.connect(self._on_accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("&Name:", self.name_edit)
        form.addRow("&Host:", self.host_edit)
        form.addRow("&Port:", self.port_box)
        form.addRow("&User:", self.user_edit)
        form.addRow("Pass&word:", self.password_edit)
        form.addRow("", self.find_button)
        form.addRow("", self.progress)
        form.addRow("", self.message)
        form.addRow("&Main stream:", self.main_edit)
        form.addRow("", self.main_info)
        form.addRow("S&ubstream:", self.sub_edit)
        form.addRow("", self.sub_info)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

        self.find_button.clicked.connect(self.find_streams)
        for edit in (self.host_edit, self.user_edit, self.password_edit):
            edit.textChanged.connect(self._update_buttons)
        self.main_edit.textChanged.connect(self._update_buttons)
        self.port_box.valueChanged.connect(self._update_buttons)
        self._update_buttons()
        self.resize(520, self.sizeHint().height())

    # -- discovery ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while the camera is being asked for its streams."""
        return self._search is not None

    def _target(self) -> tuple[str, int, str, str]:
        return (
            self.host_edit.text().strip(),
            self.port_box.value(),
            self.user_edit.text().strip(),
            self.password_edit.text(),
        )

    def find_streams(self) -> None:
        """Ask the camera for its streams (returns at once; the dialog shows the progress)."""
        if self.busy:
            return
        host, port, user, password = target = self._target()
        try:
            OnvifSettings(host, port, user, password)  # checks the host and port
        except ValueError as exc:
            self._show_error(str(exc))
            return
        try:
            future = self._hub.discover_streams(
                host, port, user, password, timeout_s=self._timeout_s
            )
        except RuntimeError as exc:  # the wall is closing
            self._show_error(str(exc))
            return
        self._generation += 1
        generation = self._generation
        self._search = future
        self._set_busy(True)
        self.message.setStyleSheet("")
        self.message.setText(f"Asking {_label(host, port)} for its streams…")
        log.info("looking for the streams of %s", _label(host, port))
        self._hub.bridge.watch(future, lambda f: self._on_found(generation, target, f))

    def cancel_search(self) -> None:
        """Stop waiting for the camera."""
        future, self._search = self._search, None
        if future is not None:
            future.cancel()
            self._generation += 1
            self._set_busy(False)
            self.message.setText("Cancelled.")

    def _on_found(
        self,
        generation: int,
        target: tuple[str, int, str, str],
        future: Future[list[StreamProfile]],
    ) -> None:
        if generation != self._generation or future.cancelled():
            return
        self._search = None
        self._set_busy(False)
        host, port, _user, password = target
        exc = future.exception()
        if exc is not None:
            self._show_error(_explain(exc, host, port), password)
            log.warning("no streams from %s: %s", _label(host, port), scrub(str(exc), password))
            return
        profiles = future.result()
        if not profiles:
            self._show_error(f"{_label(host, port)} reports no media profiles with a stream")
            return
        self._found = found = FoundStreams(tuple(profiles))
        main, sub = found.main, found.sub
        assert main is not None  # there are profiles
        self.main_edit.setText(shown_url(main))
        self.main_info.setText(describe(main))
        self.sub_edit.setText(shown_url(sub) if sub is not None else "")
        self.sub_info.setText(describe(sub) if sub is not None else "no second stream")
        self.message.setStyleSheet("")
        self.message.setText(f"Found {len(profiles)} stream(s). Press Add to put it on the wall.")
        if not self.name_edit.text().strip():
            self.name_edit.setText(free_name(host, self._taken))
        log.info(
            "found %d stream(s) on %s: %s",
            len(profiles),
            _label(host, port),
            "; ".join(str(p) for p in profiles),
        )
        self._update_buttons()

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        for widget in (
            self.host_edit,
            self.port_box,
            self.user_edit,
            self.password_edit,
            self.find_button,
        ):
            widget.setEnabled(not busy)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setText("Stop" if busy else "Cancel")
        self._update_buttons()

    def _show_error(self, text: str, password: str = "") -> None:
        self.message.setStyleSheet("color: #c0392b;")
        self.message.setText(scrub(text, password))

    # -- result -------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setEnabled(not self.busy and bool(self.main_edit.text().strip()))
        self.find_button.setEnabled(not self.busy and bool(self.host_edit.text().strip()))

    def reject(self) -> None:
        """Cancel stops a running search first; a second Cancel closes the dialog."""
        if self.busy:
            self.cancel_search()
            return
        super().reject()

    def _on_accept(self) -> None:
        try:
            self.camera()
        except ValueError as exc:
            self._show_error(str(exc), self.password_edit.text())
            return
        self.accept()

    def camera(self) -> Camera:
        """The camera to add: its streams with credentials, and its ONVIF endpoint."""
        host, port, user, password = self._target()
        return self._found.camera(
            self.name_edit.text().strip() or free_name(host, self._taken),
            self.main_edit.text(),
            self.sub_edit.text(),
            host=host,
            port=port,
            user=user,
            password=password,
            taken=self._taken,
        )


def _label(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _explain(exc: BaseException, host: str, port: int) -> str:
    """A message that says what went wrong and what to try."""
    where = _label(host, port)
    if isinstance(exc, ControlAuthError):
        return f"Login failed: the camera rejected the user name or password.\n{exc}"
    if isinstance(exc, ControlTimeoutError):
        return f"{where} did not answer in time; check the host and port (ONVIF is often on 80 or 8000).\n{exc}"
    if isinstance(exc, ControlConnectionError):
        return f"Cannot reach {where}: is it on, and is this its ONVIF port?\n{exc}"
    if isinstance(exc, ControlError):
        return f"{where} answered, but not with its streams.\n{exc}"
    return f"Looking for streams failed unexpectedly: {exc!r}"
