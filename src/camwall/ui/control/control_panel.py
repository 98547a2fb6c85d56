"""The camera control panel: focus, zoom, pan/tilt, presets and digital zoom of one camera.

The panel shows the selected camera. Focus near/far, zoom in/out and the pan/tilt pad are
press-and-hold buttons: the camera moves while a button is down and is stopped when the
press ends for any reason (see :mod:`camwall.ui.control.hold_control`). Controls the camera does not
have, or that just failed, are disabled, and their tooltip says why. Every request runs on
the control service's thread; the panel only ever shows answers that came back.

Shortcuts (while the panel is shown and no text field has the keyboard) are listed in
:data:`SHORTCUTS` and handled by :mod:`camwall.ui.control.control_keys`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from qtpy.QtCore import Qt, QTimer
from qtpy.QtGui import QHideEvent, QShowEvent
from qtpy.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from camwall.control.model import ControlStatus, Feature, MoveState, Velocity
from camwall.ui.control.control_hub import NO_ONVIF, CameraControlState, ControlHub
from camwall.ui.control.hold_control import HoldController
from camwall.ui.qt_compat import Signal
from camwall.ui.view.zoom import ZoomController

log = logging.getLogger(__name__)

#: How often the panel asks the shown camera where its motors are.
STATUS_POLL_MS = 500
#: Speed of held moves when the panel opens, in percent of the camera's top speed.
DEFAULT_SPEED = 50

#: The panel's keyboard shortcuts, as documented (key, what it does).
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("← → ↑ ↓ (hold)", "pan / tilt"),
    ("+ / − (hold)", "optical zoom in / out"),
    ("N / F (hold)", "focus near / far"),
    ("A", "auto-focus on / off"),
    ("O", "one-push auto-focus"),
    ("S", "stop every motor"),
    ("1 … 9", "go to preset 1 … 9"),
    ("wheel, drag", "digital zoom, pan (on the picture)"),
    ("0 or Home", "reset digital zoom (on the picture)"),
)


@dataclass(frozen=True)
class MoveSpec:
    """A press-and-hold control: its direction (unit speeds) and how people call it."""

    key: str
    label: str
    what: str
    direction: Velocity
    shortcut: str

    def velocity(self, speed: float) -> Velocity:
        """The direction at ``speed`` (0..1)."""
        d = self.direction
        return Velocity(d.pan * speed, d.tilt * speed, d.zoom * speed, d.focus * speed)


_D = 0.7071  # diagonal moves at the same overall speed
MOVES: tuple[MoveSpec, ...] = (
    MoveSpec("zoom_out", "− Wide", "zoom out", Velocity(zoom=-1), "−"),
    MoveSpec("zoom_in", "+ Tele", "zoom in", Velocity(zoom=1), "+"),
    MoveSpec("focus_near", "Near", "focus near", Velocity(focus=-1), "N"),
    MoveSpec("focus_far", "Far", "focus far", Velocity(focus=1), "F"),
    MoveSpec("up_left", "↖", "pan left and tilt up", Velocity(pan=-_D, tilt=_D), ""),
    MoveSpec("up", "↑", "tilt up", Velocity(tilt=1), "↑"),
    MoveSpec("up_right", "↗", "pan right and tilt up", Velocity(pan=_D, tilt=_D), ""),
    MoveSpec("left", "←", "pan left", Velocity(pan=-1), "←"),
    MoveSpec("right", "→", "pan right", Velocity(pan=1), "→"),
    MoveSpec("down_left", "↙", "pan left and tilt down", Velocity(pan=-_D, tilt=-_D), ""),
    MoveSpec("down", "↓", "tilt down", Velocity(tilt=-1), "↓"),
    MoveSpec("down_right", "↘", "pan right and tilt down", Velocity(pan=_D, tilt=-_D), ""),
)
MOVES_BY_KEY = {m.key: m for m in MOVES}
_PAD = {
    "up_left": (0, 0),
    "up": (0, 1),
    "up_right": (0, 2),
    "left": (1, 0),
    "right": (1, 2),
    "down_left": (2, 0),
    "down": (2, 1),
    "down_right": (2, 2),
}


class HoldButton(QPushButton):
    """A button that holds a move while it is down."""

    def __init__(self, spec: MoveSpec, parent: QWidget | None = None) -> None:
        """A button for ``spec``."""
        super().__init__(spec.label, parent)
        self.spec = spec
        self.setObjectName(f"{spec.key}Button")
        self.setAutoRepeat(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the shortcuts instead


class ControlPanel(QWidget):
    """Controls of the selected camera; see the module docstring."""

    #: The shown camera changed (its name, or None).
    camera_changed = Signal(object)

    def __init__(self, hub: ControlHub, parent: QWidget | None = None) -> None:
        """A panel whose requests go through ``hub``; it shows no camera until told."""
        super().__init__(parent)
        self.setObjectName("controlPanel")
        self.hub = hub
        self.holds = HoldController(hub, self)
        self._camera: str | None = None
        self._zoom: ZoomController | None = None
        self._preset_keys: tuple[tuple[str, str], ...] = ()
        self._build()
        hub.changed.connect(self._on_hub_changed)
        self.holds.hold_changed.connect(self._on_hold_changed)
        self._poll = QTimer(self)
        self._poll.setInterval(STATUS_POLL_MS)
        self._poll.timeout.connect(self._poll_status)
        self.refresh()

    # -- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        self.title = QLabel("No camera selected", self)
        self.title.setObjectName("controlTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.connection = QLabel(self)
        self.connection.setObjectName("controlConnection")
        self.connection.setWordWrap(True)
        self.connection.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buttons: dict[str, HoldButton] = {}
        for spec in MOVES:
            button = HoldButton(spec, self)
            button.pressed.connect(lambda b=button: self._pressed(b))
            button.released.connect(lambda b=button: self.holds.end_if(b, "button released"))
            self.buttons[spec.key] = button

        optics = QGroupBox("Lens", self)
        grid = QGridLayout(optics)
        grid.addWidget(QLabel("Zoom", optics), 0, 0)
        grid.addWidget(self.buttons["zoom_out"], 0, 1)
        grid.addWidget(self.buttons["zoom_in"], 0, 2)
        grid.addWidget(QLabel("Focus", optics), 1, 0)
        grid.addWidget(self.buttons["focus_near"], 1, 1)
        grid.addWidget(self.buttons["focus_far"], 1, 2)
        self.auto_focus = QCheckBox("Auto-focus", optics)
        self.auto_focus.setObjectName("autoFocusBox")
        self.auto_focus.toggled.connect(self._on_auto_focus_toggled)
        self.one_push = QPushButton("One-push AF", optics)
        self.one_push.setObjectName("onePushButton")
        self.one_push.clicked.connect(self.one_push_focus)
        grid.addWidget(self.auto_focus, 2, 1)
        grid.addWidget(self.one_push, 2, 2)
        self.speed = QSlider(Qt.Orientation.Horizontal, optics)
        self.speed.setObjectName("speedSlider")
        self.speed.setRange(5, 100)
        self.speed.setValue(DEFAULT_SPEED)
        self.speed.setToolTip("Speed of held moves, in percent of the camera's top speed")
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._speed_label = QLabel(self)
        self.speed.valueChanged.connect(lambda v: self._speed_label.setText(f"{v} %"))
        self._speed_label.setText(f"{DEFAULT_SPEED} %")
        grid.addWidget(QLabel("Speed", optics), 3, 0)
        grid.addWidget(self.speed, 3, 1)
        grid.addWidget(self._speed_label, 3, 2)

        pad_box = QGroupBox("Pan / tilt", self)
        pad = QGridLayout(pad_box)
        for key, (row, col) in _PAD.items():
            self.buttons[key].setMinimumWidth(36)
            pad.addWidget(self.buttons[key], row, col)
        self.stop_button = QPushButton("■", pad_box)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop every motor now (S)")
        self.stop_button.clicked.connect(self.stop_motors)
        pad.addWidget(self.stop_button, 1, 1)

        presets_box = QGroupBox("Presets", self)
        presets = QVBoxLayout(presets_box)
        self.preset_list = QListWidget(presets_box)
        self.preset_list.setObjectName("presetList")
        self.preset_list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.preset_list.setMaximumHeight(120)
        self.preset_list.itemDoubleClicked.connect(lambda _item: self.goto_selected_preset())
        self.preset_list.currentRowChanged.connect(lambda _row: self._update_preset_buttons())
        self.goto_button = QPushButton("Go to", presets_box)
        self.goto_button.setObjectName("gotoPresetButton")
        self.goto_button.clicked.connect(self.goto_selected_preset)
        self.preset_name = QLineEdit(presets_box)
        self.preset_name.setObjectName("presetNameEdit")
        self.preset_name.setPlaceholderText("preset name")
        self.preset_name.returnPressed.connect(self.save_preset)
        self.preset_name.textChanged.connect(lambda _t: self._update_preset_buttons())
        self.save_button = QPushButton("Save", presets_box)
        self.save_button.setObjectName("savePresetButton")
        self.save_button.clicked.connect(self.save_preset)
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.goto_button)
        preset_row.addWidget(self.preset_name, 1)
        preset_row.addWidget(self.save_button)
        presets.addWidget(self.preset_list)
        presets.addLayout(preset_row)

        self.readout = QLabel(self)
        self.readout.setObjectName("controlReadout")
        self.readout.setWordWrap(True)
        self.digital = QLabel(self)
        self.digital.setObjectName("digitalZoomLabel")
        self.reset_zoom = QPushButton("Reset zoom", self)
        self.reset_zoom.setObjectName("resetZoomButton")
        self.reset_zoom.setToolTip("Show the whole picture again (0 or Home on the picture)")
        self.reset_zoom.clicked.connect(self._reset_digital_zoom)
        digital_row = QHBoxLayout()
        digital_row.addWidget(self.digital, 1)
        digital_row.addWidget(self.reset_zoom)

        self.reconnect_button = QPushButton("Reconnect", self)
        self.reconnect_button.setObjectName("reconnectControlButton")
        self.reconnect_button.setToolTip("Log in to the camera's ONVIF service again")
        self.reconnect_button.clicked.connect(self.reconnect)

        help_text = "<br>".join(f"<b>{k}</b> {v}" for k, v in SHORTCUTS)
        shortcuts = QLabel(f"<small>{help_text}</small>", self)
        shortcuts.setObjectName("shortcutHelp")
        shortcuts.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.connection)
        layout.addWidget(optics)
        layout.addWidget(pad_box)
        layout.addWidget(presets_box)
        layout.addWidget(self.readout)
        layout.addLayout(digital_row)
        layout.addWidget(self.reconnect_button)
        layout.addWidget(shortcuts)
        layout.addStretch(1)

    # -- the shown camera ---------------------------------------------------------------------

    @property
    def camera(self) -> str | None:
        """The camera the panel controls."""
        return self._camera

    def set_camera(self, name: str | None, zoom: ZoomController | None = None) -> None:
        """Control camera ``name`` (None: none), whose view zooms with ``zoom``."""
        if name == self._camera and zoom is self._zoom:
            return
        self.holds.end("the camera was switched")
        if self._zoom is not None:
            try:
                self._zoom.changed.disconnect(self._on_zoom_changed)
            except (RuntimeError, TypeError):
                pass  # its view was deleted (PySide raises RuntimeError, PyQt TypeError)
        self._camera, self._zoom = name, zoom
        if zoom is not None:
            zoom.changed.connect(self._on_zoom_changed)
        self._preset_keys = ()
        self.preset_list.clear()
        self.refresh()
        self._poll_status()
        self.camera_changed.emit(name)

    def _state(self) -> CameraControlState | None:
        return self.hub.state(self._camera) if self._camera is not None else None

    # -- showing state ------------------------------------------------------------------------

    def _on_hub_changed(self, name: str) -> None:
        if name == self._camera:
            self.refresh()

    def refresh(self) -> None:
        """Show the camera's state: enabled controls, reasons, presets, read-out."""
        state = self._state()
        self.title.setText(
            f"Camera: {self._camera}" if self._camera is not None else "No camera selected"
        )
        self._on_hold_changed(self.holds.what)
        for spec in MOVES:
            feature = (
                state.move_feature(spec.direction)
                if state is not None
                else Feature.missing(NO_ONVIF if self._camera else "no camera selected")
            )
            shortcut = f" ({spec.shortcut})" if spec.shortcut else ""
            self._offer(self.buttons[spec.key], feature, f"Hold to {spec.what}{shortcut}")
        self._offer_feature(self.auto_focus, state, "auto_focus", "Auto-focus on or off (A)")
        self.auto_focus.blockSignals(True)
        self.auto_focus.setChecked(bool(state is not None and state.auto_focus))
        self.auto_focus.blockSignals(False)
        if state is not None and {"auto_focus", "auto_focus_read"} & state.busy:
            self.auto_focus.setEnabled(False)
        self._offer_feature(
            self.one_push, state, "one_push_focus", "Focus once automatically, then hold it (O)"
        )
        busy_focusing = state is not None and "one_push" in state.busy
        self.one_push.setText("Focusing…" if busy_focusing else "One-push AF")
        if busy_focusing:
            self.one_push.setEnabled(False)
        pad_ok = state is not None and (
            state.feature("pan_tilt_continuous").available
            or state.feature("zoom_continuous").available
            or state.feature("focus_continuous").available
        )
        self.stop_button.setEnabled(pad_ok)
        self._show_presets(state)
        self.reconnect_button.setEnabled(state is not None and state.remote is not None)
        self._show_readout(state)
        self._on_zoom_changed()
        held = self.holds.source
        if isinstance(held, HoldButton) and not held.isEnabled():
            self.holds.end("the control became unavailable")
        if self.holds.active and self.holds.camera == self._camera and state is not None:
            velocity = self.holds.move.velocity if self.holds.move is not None else None
            if velocity is not None and not state.move_feature(velocity).available:
                self.holds.end("the control became unavailable")

    def _offer(self, widget: QWidget, feature: Feature, tip: str) -> None:
        widget.setEnabled(feature.available)
        widget.setToolTip(tip if feature.available else f"Unavailable: {feature.reason}")

    def _offer_feature(
        self, widget: QWidget, state: CameraControlState | None, name: str, tip: str
    ) -> None:
        if state is None:
            reason = NO_ONVIF if self._camera else "no camera selected"
            self._offer(widget, Feature.missing(reason), tip)
        else:
            self._offer(widget, state.feature(name), tip)

    def _show_presets(self, state: CameraControlState | None) -> None:
        feature = (
            state.feature("presets")
            if state is not None
            else Feature.missing(NO_ONVIF if self._camera else "no camera selected")
        )
        self._offer(self.preset_list, feature, "Double-click a preset to go there (1 … 9)")
        presets = state.presets if state is not None else []
        keys = tuple((p.token, p.name) for p in presets)
        if keys != self._preset_keys:
            selected = self.selected_preset_token()
            self._preset_keys = keys
            self.preset_list.clear()
            for i, preset in enumerate(presets):
                number = f"{i + 1}. " if i < 9 else ""
                item = QListWidgetItem(f"{number}{preset.name or preset.token}")
                item.setData(Qt.ItemDataRole.UserRole, preset.token)
                self.preset_list.addItem(item)
                if preset.token == selected:
                    self.preset_list.setCurrentItem(item)
        self.preset_name.setEnabled(feature.available)
        self.preset_name.setToolTip(
            "Name for Save: a new preset, or the name of one to overwrite"
            if feature.available
            else f"Unavailable: {feature.reason}"
        )
        self._update_preset_buttons()

    def _update_preset_buttons(self) -> None:
        state = self._state()
        ok = state is not None and state.feature("presets").available
        reason = (
            state.feature("presets").reason
            if state is not None
            else (NO_ONVIF if self._camera else "no camera selected")
        )
        self.goto_button.setEnabled(ok and self.preset_list.currentItem() is not None)
        self.goto_button.setToolTip(
            "Move the camera to the selected preset" if ok else f"Unavailable: {reason}"
        )
        self.save_button.setEnabled(ok and bool(self.preset_name.text().strip()))
        self.save_button.setToolTip(
            "Save the camera's position under the name typed" if ok else f"Unavailable: {reason}"
        )

    def _show_readout(self, state: CameraControlState | None) -> None:
        if state is None or state.remote is None:
            self.readout.setText("")
            return
        if state.status_error:
            self.readout.setText(f"Status: {state.status_error}")
            return
        status = state.status
        if status is None:
            self.readout.setText("Status: –")
            return
        self.readout.setText(status_text(status))

    def _on_zoom_changed(self, *_: object) -> None:
        zoom = self._zoom
        if zoom is None:
            self.digital.setText("Digital zoom –")
            self.reset_zoom.setEnabled(False)
            return
        self.digital.setText(f"Digital zoom {zoom.factor:.1f}×")
        self.digital.setToolTip("Mouse wheel on the picture zooms, a drag pans, 0 resets")
        self.reset_zoom.setEnabled(zoom.is_zoomed)

    def _reset_digital_zoom(self) -> None:
        if self._zoom is not None:
            self._zoom.reset()

    # -- actions ------------------------------------------------------------------------------

    def speed_fraction(self) -> float:
        """The speed of held moves, 0..1."""
        return self.speed.value() / 100.0

    def _pressed(self, button: HoldButton) -> None:
        self.press(button.spec.key, source=button)

    def press(self, key: str, source: object = None, window: QWidget | None = None) -> bool:
        """Start holding move ``key`` (a :data:`MOVES` key) of the shown camera.

        ``source`` holds it (default: the key name); ``window`` is where the press happened
        (default: the source's window, else the panel's).
        """
        spec = MOVES_BY_KEY[key]
        if self._camera is None:
            return False
        if window is None and not isinstance(source, QWidget):
            window = self.window()
        return self.holds.begin(
            self._camera, spec.velocity(self.speed_fraction()), spec.what, source or key, window
        )

    def release(self, source: object, reason: str = "released") -> None:
        """Let go of the move held by ``source``."""
        self.holds.end_if(source, reason)

    def _on_hold_changed(self, what: str) -> None:
        text = self._state_connection()
        if what and self.holds.camera == self._camera:
            text += f" · {what}…"
        self.connection.setText(text)

    def _state_connection(self) -> str:
        state = self._state()
        if self._camera is None:
            return "Click a camera to control it."
        return state.connection if state is not None else NO_ONVIF

    def _on_auto_focus_toggled(self, on: bool) -> None:
        if self._camera is not None:
            self.hub.set_auto_focus(self._camera, on)
        self.refresh()

    def toggle_auto_focus(self) -> None:
        """Switch auto-focus to the other mode (if the camera offers it)."""
        if self.auto_focus.isEnabled():
            self.auto_focus.toggle()

    def one_push_focus(self) -> None:
        """Focus once automatically."""
        if self._camera is not None and self.one_push.isEnabled():
            self.hub.one_push_focus(self._camera)

    def stop_motors(self) -> None:
        """Let go of any held move and stop every motor of the shown camera."""
        self.holds.end("stop pressed")
        if self._camera is not None:
            self.hub.stop_motors(self._camera)

    def selected_preset_token(self) -> str | None:
        """Token of the selected preset."""
        item = self.preset_list.currentItem()
        token = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return str(token) if token is not None else None

    def goto_selected_preset(self) -> None:
        """Move the camera to the selected preset."""
        self._goto_token(self.selected_preset_token())

    def goto_preset_number(self, number: int) -> None:
        """Move the camera to preset ``number`` (1-based, as listed)."""
        state = self._state()
        if state is not None and 1 <= number <= len(state.presets):
            self.preset_list.setCurrentRow(number - 1)
            self._goto_token(state.presets[number - 1].token)

    def _goto_token(self, token: str | None) -> None:
        state = self._state()
        if state is None or token is None or self._camera is None:
            return
        preset = next((p for p in state.presets if p.token == token), None)
        if preset is not None:
            self.hub.goto_preset(self._camera, preset)

    def save_preset(self) -> None:
        """Save the camera's position under the name typed."""
        name = self.preset_name.text().strip()
        if (
            self._camera is not None
            and name
            and self.save_button.isEnabled()
            and self.hub.save_preset(self._camera, name)
        ):
            self.preset_name.clear()

    def reconnect(self) -> None:
        """Log in to the camera again."""
        if self._camera is not None:
            self.hub.reconnect(self._camera)

    # -- status polling -----------------------------------------------------------------------

    def _poll_status(self) -> None:
        if self._camera is not None and self.isVisible():
            self.hub.poll_status(self._camera)

    def showEvent(self, event: QShowEvent | None) -> None:
        """Poll the camera's status while shown."""
        super().showEvent(event)
        self._poll.start()
        self._poll_status()

    def hideEvent(self, event: QHideEvent | None) -> None:
        """A hidden panel holds nothing and polls nothing."""
        super().hideEvent(event)
        self.holds.end("the control panel was hidden")
        self._poll.stop()


def status_text(status: ControlStatus) -> str:
    """The motors' positions and states in one line."""
    parts = []
    for label, value in (
        ("Focus", status.focus_position),
        ("Zoom", status.zoom_position),
        ("Pan", status.pan),
        ("Tilt", status.tilt),
    ):
        if value is not None:
            parts.append(f"{label} {value:.2f}")
    moving = [
        label
        for label, state in (
            ("focus", status.focus_move),
            ("zoom", status.zoom_move),
            ("pan/tilt", status.pan_tilt_move),
        )
        if state is MoveState.MOVING
    ]
    parts.append("moving: " + ", ".join(moving) if moving else "idle")
    text = " · ".join(parts)
    if status.error:
        text += f"\n(partly: {status.error})"
    return text
