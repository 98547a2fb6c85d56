"""The wall's Detection menu: which detector runs, detection on every camera, snapshots.

Rebuilt each time it opens, so it always shows the current detector (the config may add a
model) and state. Per-camera switches live in each tile's context menu ("Detect objects").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtpy.QtWidgets import QActionGroup, QMenu, QWidget

from camwall.ui.wall.wall_detection import WallDetection


class DetectionMenu(QMenu):
    """``&Detection``: detector (exclusive), motion gate, all cameras on/off, snapshots."""

    def __init__(
        self,
        detection: WallDetection,
        snapshot_dir: Callable[[], Path],
        parent: QWidget | None = None,
    ) -> None:
        """A menu driving ``detection``; snapshots go to ``snapshot_dir()`` when switched on."""
        super().__init__("&Detection", parent)
        self.setObjectName("menuDetection")
        self._detection = detection
        self._snapshot_dir = snapshot_dir
        self._group: QActionGroup | None = None
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the actions from the detection's current state."""
        self.clear()
        if self._group is not None:
            self._group.deleteLater()
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        current = self._detection.detector
        for i, choice in enumerate(self._detection.choices()):
            action = self._action(choice.text, f"detectorAction{i}")
            action.setCheckable(True)
            action.setChecked(choice.spec == current)
            action.setToolTip(f"Run the {choice.text.lower()} detector on every detecting camera")
            self._group.addAction(action)
            action.triggered.connect(lambda _=False, spec=choice.spec: self._choose(spec))
        gate = self._action("Only where something &moves", "motionGateAction")
        gate.setCheckable(True)
        gate.setChecked(self._detection.motion_gate)
        gate.setEnabled(current.kind != "motion")
        gate.setToolTip("Run the object detector only on moving areas: far less CPU per camera")
        gate.toggled.connect(self._detection.set_motion_gate)
        self.addSeparator()
        every = self._action("Detect on &every camera", "detectAllAction")
        every.triggered.connect(lambda: self._set_all(True))
        none = self._action("&Stop detection on every camera", "detectNoneAction")
        none.setEnabled(bool(self._detection.enabled_cameras()))
        none.triggered.connect(lambda: self._set_all(False))
        self.addSeparator()
        snaps = self._action("Save a snapshot when something &appears", "detectSnapshotAction")
        snaps.setCheckable(True)
        snaps.setChecked(self._detection.snapshot_dir is not None)
        snaps.toggled.connect(self._set_snapshots)

    def _action(self, text: str, name: str) -> Any:
        action = self.addAction(text)
        if action is None:  # only in the stubs: addAction always returns the new action
            raise RuntimeError(f"QMenu.addAction({text!r}) returned no action")
        action.setObjectName(name)
        return action

    def _choose(self, spec: Any) -> None:
        self._detection.set_detector(spec)

    def _set_all(self, enabled: bool) -> None:
        for name in self._detection.camera_names():
            self._detection.set_enabled(name, enabled)

    def _set_snapshots(self, on: bool) -> None:
        self._detection.set_snapshot_dir(self._snapshot_dir() / "detections" if on else None)
