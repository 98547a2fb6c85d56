"""The Add/Edit camera dialog: name, main and substream URL, user, password, options, ONVIF.

The dialog only checks and collects; the wall acts on :attr:`CameraDialog.entry`. Checks
give reasons a person can act on: a URL camwall cannot open says why (the text of
:class:`~camwall.errors.InvalidSourceError`), a taken name says so, and a URL shown masked
(``***`` in place of the password) is refused — a masked URL never becomes a URL again;
the password must be typed again.

The password is kept apart from the URLs: :class:`CameraEntry` carries the camera as the
config keeps it (URLs without a password) and the password typed, if any. A password
written into a URL field is moved out of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from camwall.config import Camera, OnvifConfig
from camwall.config.model import Transport
from camwall.config.urls import userinfo
from camwall.errors import InvalidSourceError, UrlError
from camwall.redact import MASK
from camwall.secrets import strip_password
from camwall.sources import source_kind
from camwall.ui.dialogs.fields import line_edit, message_label
from camwall.urls import parse_url

__all__ = ["CameraDialog", "CameraEntry", "name_for_url"]

_TRANSPORTS = ("tcp", "udp")


@dataclass(frozen=True)
class CameraEntry:
    """What the dialog returns: the camera without a password, and the password typed."""

    camera: Camera
    #: The password typed (or moved out of a URL); None: none typed (keep the stored one).
    password: str | None = dataclasses.field(default=None, repr=False)


def name_for_url(url: str) -> str:
    """A readable camera name from its URL: the host, the file name, the synthetic camera's
    name — never the user name or the password (the one URL parser decides what is what)."""
    try:
        return parse_url(url).default_name()
    except UrlError:
        return "camera"


class CameraDialog(QDialog):
    """Add a camera, or edit ``camera``; on OK, :attr:`entry` holds the result."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        camera: Camera | None = None,
        taken_names: Iterable[str] = (),
        has_password: bool = False,
        url: str = "",
    ) -> None:
        """``camera``: the one to edit (None: a new one, its URL field set to ``url``).

        ``taken_names``: names already on the wall (the edited camera's own is allowed).
        ``has_password``: a password is stored for it (an empty field keeps it).
        """
        super().__init__(parent)
        editing = camera is not None
        self.setObjectName("cameraDialog")
        self.setWindowTitle(f"Edit camera {camera.name}" if camera else "Add camera")
        self._own_name = camera.name if camera else None
        #: The camera edited: settings the dialog does not show (masks, password_env, …) stay.
        self._original = camera
        self._taken = set(taken_names) - {self._own_name}
        #: The result, once accepted.
        self.entry: CameraEntry | None = None

        self.name_edit = line_edit(self, "nameEdit", "default: the camera's host or ONVIF name")
        self.main_edit = line_edit(
            self, "mainUrlEdit", "rtsp://camera/stream · a file · synthetic://x"
        )
        self.sub_edit = line_edit(self, "subUrlEdit", "optional: a smaller stream for the grid")
        self.user_edit = line_edit(self, "userEdit", "if the URL does not carry one")
        self.password_edit = line_edit(
            self,
            "passwordEdit",
            "unchanged (stored in the keyring)" if has_password else "kept in the system keyring",
        )
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.transport_box = QComboBox(self)
        self.transport_box.setObjectName("transportBox")
        self.transport_box.addItems(list(_TRANSPORTS))
        self.record_box = QCheckBox("&Record", self)
        self.record_box.setObjectName("recordBox")
        self.detect_box = QCheckBox("&Detect objects", self)
        self.detect_box.setObjectName("detectBox")
        self.onvif_group = QGroupBox("ONVIF control (focus, zoom, pan/tilt)", self)
        self.onvif_group.setObjectName("onvifGroup")
        self.onvif_group.setCheckable(True)
        self.onvif_group.setChecked(False)
        self.onvif_host_edit = line_edit(self, "onvifHostEdit", "default: the URL's host")
        self.onvif_port_box = QSpinBox(self)
        self.onvif_port_box.setObjectName("onvifPortBox")
        self.onvif_port_box.setRange(1, 65535)
        self.onvif_port_box.setValue(80)
        onvif_form = QFormLayout(self.onvif_group)
        onvif_form.addRow("&Host:", self.onvif_host_edit)
        onvif_form.addRow("P&ort:", self.onvif_port_box)
        self.message = message_label(self, "cameraDialogMessage")
        self.message.setStyleSheet("color: #ff6b6b;")
        self.buttons = QDialogButtonBox(self)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Ok)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setText("&Save" if editing else "&Add")
        self.buttons.accepted.connect(self._on_accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("&Name:", self.name_edit)
        form.addRow("&Main stream:", self.main_edit)
        form.addRow("S&ubstream:", self.sub_edit)
        form.addRow("&User:", self.user_edit)
        form.addRow("Pass&word:", self.password_edit)
        form.addRow("&Transport:", self.transport_box)
        options = QVBoxLayout()
        options.addWidget(self.record_box)
        options.addWidget(self.detect_box)
        form.addRow("", options)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.onvif_group)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        if camera is not None:
            self._fill(camera)
        else:
            self.main_edit.setText(url)

    def _fill(self, camera: Camera) -> None:
        self.name_edit.setText(camera.name)
        # Shown without its password (there is no way to see it again, only to replace it).
        self.main_edit.setText(strip_password(camera.url))
        self.sub_edit.setText(strip_password(camera.substream_url or ""))
        self.user_edit.setText(camera.user or "")
        self.transport_box.setCurrentText(camera.transport)
        self.record_box.setChecked(camera.record)
        self.detect_box.setChecked(camera.detect)
        if camera.onvif is not None:
            self.onvif_group.setChecked(True)
            self.onvif_host_edit.setText(camera.onvif.host or "")
            self.onvif_port_box.setValue(camera.onvif.port)

    # -- checking --------------------------------------------------------------------------

    def _check_url(self, text: str, what: str) -> tuple[str, str | None, str | None]:
        """(URL without password, its user, its password); ValueError with the reason."""
        url = text.strip()
        if MASK in url:
            raise ValueError(
                f"the {what} URL shows a masked password ({MASK}): a masked URL cannot be "
                "used; type the password again in the Password field and remove it from "
                "the URL"
            )
        try:
            source_kind(url)
        except InvalidSourceError as exc:
            raise ValueError(f"{what}: {exc}") from None
        if urlsplit(url).scheme.lower() not in ("rtsp", "rtsps", "http", "https"):
            return url, None, None
        user, password = userinfo(url)
        return strip_password(url), user, password

    def collect(self) -> CameraEntry:
        """The camera the fields describe; ValueError with a reason a person can act on."""
        main_text = self.main_edit.text().strip()
        if not main_text:
            raise ValueError("enter the camera's URL (rtsp://…, a file, a webcam number)")
        main, url_user, url_password = self._check_url(main_text, "main stream")
        sub: str | None = None
        sub_password = None
        if self.sub_edit.text().strip():
            sub, _, sub_password = self._check_url(self.sub_edit.text(), "substream")
        typed = self.password_edit.text()
        password = typed or url_password or sub_password
        user = self.user_edit.text().strip() or None
        if user is not None and url_user == user:
            user = None  # the URL says it already
        onvif = None
        if self.onvif_group.isChecked():
            host = self.onvif_host_edit.text().strip() or None
            before = self._original.onvif if self._original is not None else None
            onvif = (
                dataclasses.replace(before, host=host, port=self.onvif_port_box.value())
                if before is not None
                else OnvifConfig(host=host, port=self.onvif_port_box.value())
            )
        name = self.name_edit.text().strip() or self._default_name(main, onvif)
        if name in self._taken:
            raise ValueError(f"the wall already has a camera named {name!r}; choose another name")
        transport: Transport = "udp" if self.transport_box.currentText() == "udp" else "tcp"
        base = self._original if self._original is not None else Camera(name=name, url=main)
        camera = dataclasses.replace(
            base,
            name=name,
            url=main,
            substream_url=sub,
            transport=transport,
            user=user,
            onvif=onvif,
            detect=self.detect_box.isChecked(),
            record=self.record_box.isChecked(),
        )
        return CameraEntry(camera, password or None)

    def _default_name(self, url: str, onvif: OnvifConfig | None) -> str:
        """The ONVIF host or the URL's host (never a user name), made unique."""
        base = (onvif.host if onvif is not None and onvif.host else None) or name_for_url(url)
        name, n = base, 2
        while name in self._taken:
            name, n = f"{base}-{n}", n + 1
        return name

    def _on_accept(self) -> None:
        try:
            self.entry = self.collect()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self.message.clear()
        self.accept()
