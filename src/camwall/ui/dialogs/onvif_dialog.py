"""The "Add ONVIF camera…" dialog: host, port, user, password → the camera's streams.

*Find streams* asks the camera over ONVIF for its media profiles and their RTSP URLs
(:func:`camwall.control.discover_streams_async`, on the control service's thread: the dialog
stays responsive, shows that it is busy, and can be cancelled). The largest profile becomes
the main stream, the next the substream. *Add* then puts the camera on the wall with its
control endpoint, so its focus, zoom and pan/tilt work at once.

The password is never shown or logged: the URL fields show the camera's URLs as it reports
them (without credentials; any it includes are masked); credentials are added to the URLs
only in the :class:`~camwall.config.Camera` the dialog returns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from camwall.config import Camera, OnvifConfig
from camwall.config.urls import userinfo, with_credentials
from camwall.control.model import OnvifSettings, StreamProfile, StreamRole
from camwall.errors import (
    ControlAuthError,
    ControlConnectionError,
    ControlError,
    ControlTimeoutError,
)
from camwall.redact import mask_url, redact
from camwall.sources import source_kind
from camwall.ui.control.control_hub import ControlHub

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
        self._profiles: list[StreamProfile] = []
        self._found_for: tuple[str, int, str, str] | None = None

        self.name_edit = _line(self, "nameEdit", "camera name (default: the host)")
        self.host_edit = _line(self, "hostEdit", "192.0.2.10 or camera.local")
        self.port_box = QSpinBox(self)
        self.port_box.setObjectName("portBox")
        self.port_box.setRange(1, 65535)
        self.port_box.setValue(80)
        self.user_edit = _line(self, "userEdit", "admin")
        self.password_edit = _line(self, "passwordEdit", "")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.find_button = QPushButton("&Find streams", self)
        self.find_button.setObjectName("findStreamsButton")
        self.find_button.setToolTip("Log in over ONVIF and read the camera's RTSP streams")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("discoveryProgress")
        self.progress.setRange(0, 0)  # busy: how long a camera takes is unknown
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.message = QLabel(self)
        self.message.setObjectName("discoveryMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.main_edit = _line(self, "mainUrlEdit", "found by Find streams")
        self.sub_edit = _line(self, "subUrlEdit", "none")
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
            log.warning("no streams from %s: %s", _label(host, port), _scrub(str(exc), password))
            return
        profiles = future.result()
        if not profiles:
            self._show_error(f"{_label(host, port)} reports no media profiles with a stream")
            return
        self._profiles = profiles
        self._found_for = target
        main = next((p for p in profiles if p.role is StreamRole.MAIN), profiles[0])
        sub = next((p for p in profiles if p.role is StreamRole.SUB), None)
        self.main_edit.setText(mask_url(main.uri))
        self.main_info.setText(_describe(main))
        self.sub_edit.setText(mask_url(sub.uri) if sub is not None else "")
        self.sub_info.setText(_describe(sub) if sub is not None else "no second stream")
        self.message.setStyleSheet("")
        self.message.setText(f"Found {len(profiles)} stream(s). Press Add to put it on the wall.")
        if not self.name_edit.text().strip():
            self.name_edit.setText(self._free_name(host))
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
        self.message.setText(_scrub(text, password))

    def _free_name(self, base: str) -> str:
        name, n = base, 2
        while name in self._taken:
            name, n = f"{base}-{n}", n + 1
        return name

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
        name = self.name_edit.text().strip() or self._free_name(host)
        if name in self._taken:
            raise ValueError(f"the wall already has a camera named {name!r}")
        main = self._real_url(self.main_edit.text().strip(), user, password)
        if not main:
            raise ValueError("no main stream URL yet: press Find streams first")
        source_kind(main)  # a clear InvalidSourceError (a ValueError) for a bad URL
        sub_text = self.sub_edit.text().strip()
        sub = self._real_url(sub_text, user, password) if sub_text else None
        if sub is not None:
            source_kind(sub)
        # The ONVIF password is the stream's (the same account): no second copy of it.
        return Camera(
            name=name,
            url=main,
            substream_url=sub,
            onvif=OnvifConfig(host=host, port=port, user=user or None),
        )

    def _real_url(self, shown: str, user: str, password: str) -> str:
        """The URL to open for a field's text: the camera's own URL, with our credentials."""
        for profile in self._profiles:
            if shown == mask_url(profile.uri):
                url = profile.uri
                break
        else:
            url = shown  # typed or edited by hand
        if not user or userinfo(url)[0] is not None:
            return url
        return with_credentials(url, user, password or None)


def _line(parent: QWidget, name: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    return edit


def _label(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _describe(profile: StreamProfile) -> str:
    size = f"{profile.width}×{profile.height}" if profile.width and profile.height else "size ?"
    parts = [profile.name or profile.token, profile.encoding or "?", size]
    if profile.fps:
        parts.append(f"{profile.fps:g} fps")
    return " · ".join(parts)


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


def _scrub(text: str, password: str) -> str:
    """``text`` without URL credentials and without the password itself."""
    text = redact(text)
    return text.replace(password, "***") if password else text
