"""The "Find cameras…" dialog: a WS-Discovery probe, each camera's streams, "Add" to the wall.

*Search* probes the LAN by multicast and, optionally, a list of addresses by unicast (a camera
on another subnet) with :func:`camwall.control.onvif.find.probe` on a thread the dialog owns
(the probe is bounded by its timeout; closing the dialog stops and joins it). Every answer is listed:
cameras with their address, model and name, and anything unusable (a printer, garbage, a
camera that answered with parts missing) with its reason. *Streams* logs in to the selected
camera with the user and password typed in and reads its profiles
(:func:`~camwall.control.onvif.find.inspect_devices_async` on the control service's thread);
a camera that refuses the password or cannot be reached shows why in its row. The largest
profile becomes the main stream, the next the substream; both stay editable
(:mod:`camwall.ui.dialogs.found_streams`, shared with "Add ONVIF camera…"). *Add* hands a
:class:`~camwall.config.Camera` with ``[camera.onvif]`` to the ``add`` callback (the wall's
``add_camera``; its ConfigSync saves it). The password travels in the stream URLs' userinfo
to the wall, as in "Add ONVIF camera…"; ConfigSync keeps it in the keyring
(:mod:`camwall.secrets`), not in the config file. It is never shown or logged.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import replace

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from camwall.config import Camera
from camwall.control.model import OnvifSettings
from camwall.control.onvif.find import (
    WSD_PORT,
    Discovery,
    FoundDevice,
    inspect_devices_async,
    probe,
)
from camwall.errors import CamwallError
from camwall.redact import redact
from camwall.ui.control.control_hub import ControlHub
from camwall.ui.dialogs.fields import busy_bar, editable_combo, line_edit, message_label
from camwall.ui.dialogs.found_streams import FoundStreams, describe, free_name, scrub, shown_url

log = logging.getLogger(__name__)

#: How long the probe listens for answers.
PROBE_TIMEOUT_S = 3.0
#: Login and each ONVIF call while reading a camera's streams (the whole is bounded by
#: ``connect + 3 × call``, see :func:`~camwall.control.onvif.find.inspect_devices_async`).
CONNECT_TIMEOUT_S = 8.0
CALL_TIMEOUT_S = 4.0

#: How long closing the dialog waits for a stopped probe's thread (it stops within 0.1 s).
_PROBE_JOIN_S = 2.0

AddCamera = Callable[[Camera], object]
_COLUMNS = ("Address", "Model", "Name", "Status")
_ROLE = Qt.ItemDataRole.UserRole


def parse_targets(text: str) -> list[tuple[str, int]]:
    """``"10.0.0.5, cam.local:3702"`` → [(host, port)]; the WS-Discovery port by default.

    Raises ValueError naming the entry that is not ``host`` or ``host:port``.
    """
    out: list[tuple[str, int]] = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        host, sep, port_text = entry.rpartition(":")
        if not sep:
            host, port_text = entry, str(WSD_PORT)
        host = host.strip("[]")
        if not host or any(c in host for c in "/@"):
            raise ValueError(f"{entry!r} is not an address: give host or host:port")
        try:
            port = int(port_text)
        except ValueError:
            raise ValueError(f"{entry!r}: the port must be a number") from None
        if not 0 < port < 65536:
            raise ValueError(f"{entry!r}: the port must be 1..65535")
        out.append((host, port))
    return out


class FindCamerasDialog(QDialog):
    """Find ONVIF cameras on the network and add them to the wall; see the module docstring."""

    def __init__(
        self,
        hub: ControlHub,
        add: AddCamera,
        parent: QWidget | None = None,
        *,
        taken_names: Callable[[], Iterable[str]] = lambda: (),
        probe_timeout_s: float = PROBE_TIMEOUT_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        """A dialog that inspects through ``hub`` and adds with ``add(camera)`` (may raise)."""
        super().__init__(parent)
        self.setWindowTitle("Find cameras")
        self.setObjectName("findCamerasDialog")
        self._hub = hub
        self._add = add
        self._taken = taken_names
        self._probe_timeout_s = probe_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._probe_thread: threading.Thread | None = None
        self._probe_stop = threading.Event()
        self._inspecting: Future[list[FoundDevice]] | None = None
        self._generation = 0
        self.devices: list[FoundDevice] = []
        self.bad_answers: list[tuple[str, str]] = []
        self._found = FoundStreams()
        self._inspected: FoundDevice | None = None
        self._closed = False

        self.multicast_box = QCheckBox("Search the &local network (multicast)", self)
        self.multicast_box.setObjectName("multicastBox")
        self.multicast_box.setChecked(True)
        self.targets_edit = line_edit(self, "targetsEdit", "also ask: 10.1.2.3, cam.example:3702")
        self.search_button = QPushButton("&Search", self)
        self.search_button.setObjectName("searchButton")
        self.progress = busy_bar(self, "findProgress")
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("deviceTree")
        self.tree.setColumnCount(len(_COLUMNS))
        self.tree.setHeaderLabels(list(_COLUMNS))
        self.tree.setRootIsDecorated(False)
        header = self.tree.header()
        if header is not None:
            header.setSectionResizeMode(len(_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.details = message_label(self, "deviceDetails")
        self.user_edit = line_edit(self, "userEdit", "admin")
        self.password_edit = line_edit(self, "passwordEdit", "")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.inspect_button = QPushButton("Read s&treams", self)
        self.inspect_button.setObjectName("inspectButton")
        self.inspect_button.setToolTip("Log in over ONVIF and read the selected camera's streams")
        self.name_edit = line_edit(self, "nameEdit", "camera name")
        self.main_box = editable_combo(self, "mainStreamBox")
        self.sub_box = editable_combo(self, "subStreamBox")
        self.message = message_label(self, "findMessage")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.add_button = QPushButton("&Add to wall", self)
        self.add_button.setObjectName("addButton")
        self.buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)

        search_row = QHBoxLayout()
        search_row.addWidget(self.targets_edit, 1)
        search_row.addWidget(self.search_button)
        form = QFormLayout()
        form.addRow("&User:", self.user_edit)
        form.addRow("Pass&word:", self.password_edit)
        form.addRow("", self.inspect_button)
        form.addRow("&Name:", self.name_edit)
        form.addRow("&Main stream:", self.main_box)
        form.addRow("S&ubstream:", self.sub_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.multicast_box)
        layout.addLayout(search_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.details)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.search_button.clicked.connect(self.search)
        self.inspect_button.clicked.connect(self.inspect_selected)
        self.add_button.clicked.connect(self.add_selected)
        self.tree.currentItemChanged.connect(self._on_selected)
        self.main_box.editTextChanged.connect(self._update_buttons)
        self._update_buttons()
        self.resize(720, 560)

    # -- searching ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a probe or a login is under way."""
        return self._probe_thread is not None or self._inspecting is not None

    def search(self) -> None:
        """Probe for cameras (returns at once; the list fills when the probe is over)."""
        if self.busy or self._closed:
            return
        try:
            targets = parse_targets(self.targets_edit.text())
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        multicast = self.multicast_box.isChecked()
        if not targets and not multicast:
            self._say("Give an address to ask, or search the local network.", error=True)
            return
        self._generation += 1
        generation = self._generation
        timeout_s = self._probe_timeout_s
        bridge = self._hub.bridge
        self._probe_stop = stop = threading.Event()

        def run() -> None:
            """Probe thread: bounded by ``timeout_s`` and ``stop``; the result crosses to the
            UI thread."""
            try:
                found: Discovery | CamwallError = probe(
                    timeout_s, targets=targets, multicast=multicast, stop=stop
                )
            except CamwallError as exc:  # the onvif extra is missing
                found = exc
            except OSError as exc:  # no network at all
                found = CamwallError(f"cannot send the probe: {exc}")
            bridge.call_soon(self._on_probed, generation, found)

        self._probe_thread = threading.Thread(target=run, name="camwall-find", daemon=True)
        self._set_busy(True)
        self._say(f"Searching for {timeout_s:g} s…")
        log.info(
            "searching for cameras (%s%s)",
            "multicast" if multicast else "no multicast",
            f", asking {', '.join(f'{h}:{p}' for h, p in targets)}" if targets else "",
        )
        self._probe_thread.start()

    def _on_probed(self, generation: int, found: Discovery | CamwallError) -> None:
        thread, self._probe_thread = self._probe_thread, None
        if thread is not None:
            thread.join(1.0)  # it has just handed over its result: ends at once
        if self._closed:
            return  # the widgets may be gone
        self._set_busy(False)
        if generation != self._generation:
            return
        if isinstance(found, CamwallError):
            self._say(str(found), error=True)
            return
        self.devices = list(found.devices)
        self.bad_answers = [(b.address, b.reason) for b in found.bad_answers]
        self._fill()
        cameras = len(found.cameras)
        self._say(
            f"Found {cameras} camera(s); {len(self.devices) - cameras} other device(s), "
            f"{len(self.bad_answers)} unusable answer(s)."
        )
        log.info(
            "found %d camera(s), %d device(s), %d bad answer(s)",
            cameras,
            len(self.devices),
            len(self.bad_answers),
        )
        for address, reason in self.bad_answers:
            log.info("discovery: an answer from %s is unusable: %s", address, reason)
        first = next((i for i, d in enumerate(self.devices) if d.problem is None), None)
        if first is not None:
            self.tree.setCurrentItem(self.tree.topLevelItem(first))

    def _fill(self) -> None:
        self.tree.clear()
        for index, device in enumerate(self.devices):
            item = QTreeWidgetItem(
                [device.address, device.model or "?", device.name or "?", _status(device)]
            )
            item.setData(0, _ROLE, index)
            item.setToolTip(3, device.problem or "")
            self.tree.addTopLevelItem(item)
        for address, reason in self.bad_answers:
            item = QTreeWidgetItem([address, "", "", f"unusable: {reason}"])
            item.setData(0, _ROLE, -1)
            item.setToolTip(3, reason)
            self.tree.addTopLevelItem(item)
        for column in range(len(_COLUMNS) - 1):
            self.tree.resizeColumnToContents(column)

    def selected(self) -> FoundDevice | None:
        """The device selected in the list (None: none, or an unusable answer)."""
        item = self.tree.currentItem()
        index = item.data(0, _ROLE) if item is not None else None
        return self.devices[index] if isinstance(index, int) and index >= 0 else None

    def row_text(self, device_name: str) -> list[str]:
        """The columns shown for the device named ``device_name`` (for tests and screen readers)."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.text(2) == device_name:
                return [item.text(c) for c in range(len(_COLUMNS))]
        raise KeyError(device_name)

    def _on_selected(self, *_: object) -> None:
        device = self.selected()
        if device is None:
            self.details.setText("")
        else:
            lines = [
                f"Endpoint: {device.endpoint}",
                f"Service: {', '.join(device.xaddrs) or 'none'}",
                f"Scopes: {' '.join(device.scopes) or 'none'}",
            ]
            if device.answers > 1:
                lines.append(f"Answered {device.answers} times (listed once).")
            if device.problem:
                lines.append(f"Problem: {redact(device.problem)}")
            self.details.setText("\n".join(lines))
        if device is not self._inspected:
            self._show_streams(device if device is not None and device.streams else None)
        self._update_buttons()

    # -- streams ------------------------------------------------------------------------------

    def inspect_selected(self) -> None:
        """Log in to the selected camera and read its streams (returns at once)."""
        device = self.selected()
        if self.busy or device is None or device.service is None or not device.is_camera:
            return
        user, password = self.user_edit.text().strip(), self.password_edit.text()
        host, port = device.service
        login = OnvifSettings(
            host,
            port,
            user,
            password,
            connect_timeout_s=self._connect_timeout_s,
            call_timeout_s=CALL_TIMEOUT_S,
        )
        # Inspect the device as discovered, not a stale "wrong password" from a try before.
        fresh = replace(device, problem=None, info=None, streams=())
        bound = self._connect_timeout_s + 3 * CALL_TIMEOUT_S + 2.0
        try:
            future = self._hub.service.submit(
                inspect_devices_async([fresh], login), timeout_s=bound
            )
        except RuntimeError as exc:  # the wall is closing
            self._say(str(exc), error=True)
            return
        self._generation += 1
        generation = self._generation
        self._inspecting = future
        self._set_busy(True)
        self._say(f"Reading the streams of {device.name or device.address}…")
        self._hub.bridge.watch(future, lambda f: self._on_inspected(generation, device, f))

    def _on_inspected(
        self, generation: int, device: FoundDevice, future: Future[list[FoundDevice]]
    ) -> None:
        if generation != self._generation or future.cancelled() or self._closed:
            return
        self._inspecting = None
        self._set_busy(False)
        exc = future.exception()
        failed = replace(device, problem=redact(str(exc))) if exc is not None else None
        result = failed or future.result()[0]
        index = self.devices.index(device)
        self.devices[index] = result
        item = self.tree.topLevelItem(index)
        if item is not None:
            item.setText(1, result.model or "?")
            item.setText(3, _status(result))
            item.setToolTip(3, result.problem or "")
        if result.problem is not None:
            self._say(f"{result.name or result.address}: {redact(result.problem)}", error=True)
            log.warning("cannot read the streams of %s: %s", result.address, result.problem)
            self._show_streams(None)
        else:
            self._say(f"{len(result.streams)} stream(s). Check the name, then Add to wall.")
            log.info("%s offers %s", result.address, "; ".join(str(s) for s in result.streams))
            self._show_streams(result)
        self._on_selected()

    def _show_streams(self, device: FoundDevice | None) -> None:
        self._inspected = device
        self._found = found = FoundStreams(device.streams if device is not None else ())
        profiles = list(found.profiles)
        self.main_box.clear()
        self.sub_box.clear()
        self.sub_box.addItem("")  # no substream
        for profile in profiles:
            self.main_box.addItem(shown_url(profile))
            self.sub_box.addItem(shown_url(profile))
        main, sub = found.main, found.sub
        if device is None or main is None:
            self.main_box.setEditText("")
            self.sub_box.setEditText("")
            return
        self.main_box.setCurrentIndex(profiles.index(main))
        self.sub_box.setCurrentIndex(profiles.index(sub) + 1 if sub is not None else 0)
        for box in (self.main_box, self.sub_box):
            for i, profile in enumerate(profiles):
                box.setItemData(
                    i + (box is self.sub_box), describe(profile), Qt.ItemDataRole.ToolTipRole
                )
        self.name_edit.setText(free_name(device.name or device.address, self._taken()))

    # -- adding -------------------------------------------------------------------------------

    def camera(self) -> Camera:
        """The camera the fields describe; raises ValueError (or InvalidSourceError) if none."""
        device = self._inspected
        if device is None or device.service is None:
            raise ValueError("read a camera's streams first")
        name = self.name_edit.text().strip()
        if not name:
            raise ValueError("give the camera a name")
        host, port = device.service
        return self._found.camera(
            name,
            self.main_box.currentText(),
            self.sub_box.currentText(),
            host=host,
            port=port,
            user=self.user_edit.text().strip(),
            password=self.password_edit.text(),
            taken=self._taken(),
        )

    def add_selected(self) -> None:
        """Put the camera the fields describe on the wall; the dialog stays open for more."""
        try:
            camera = self.camera()
            self._add(camera)
        except (CamwallError, ValueError) as exc:
            self._say(scrub(str(exc), self.password_edit.text()), error=True)
            return
        self._say(f"Added {camera.name} to the wall.")
        self.name_edit.setText(free_name(camera.name, self._taken()))

    # -- state --------------------------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self._update_buttons()

    def _update_buttons(self, *_: object) -> None:
        device = self.selected()
        self.search_button.setEnabled(not self.busy)
        self.inspect_button.setEnabled(
            not self.busy and device is not None and device.is_camera and device.service is not None
        )
        self.add_button.setEnabled(
            not self.busy
            and self._inspected is not None
            and bool(self.main_box.currentText().strip())
        )

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c0392b;" if error else "")
        self.message.setText(text)

    def done(self, result: int) -> None:
        """Closing: a running probe is stopped and its thread joined; late results are dropped."""
        self._closed = True
        self._generation += 1
        future, self._inspecting = self._inspecting, None
        if future is not None:
            future.cancel()
        thread, self._probe_thread = self._probe_thread, None
        if thread is not None:
            self._probe_stop.set()
            # probe() looks at its stop event every STOP_POLL_S: a short wait.
            thread.join(_PROBE_JOIN_S)
            if thread.is_alive():
                log.warning("the camera search did not stop within %.0f s", _PROBE_JOIN_S)
        super().done(result)


def _status(device: FoundDevice) -> str:
    if device.problem is not None:
        return redact(device.problem)
    if device.streams:
        return f"{len(device.streams)} stream(s)"
    return "camera" if device.answers == 1 else f"camera (answered {device.answers}×)"


__all__: Sequence[str] = ["FindCamerasDialog", "parse_targets"]
