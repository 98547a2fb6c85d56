"""The wall's status bar at a glance: cameras live, recording, detecting, CPU.

Counts come from the runtime's state (the window calls :meth:`WallStatus.show_counts` when
cameras change); CPU is sampled every two seconds with ``psutil.cpu_percent(None)``, which
returns at once (it compares with the previous call; it never sleeps on the UI thread).
"""

from __future__ import annotations

import psutil
from qtpy.QtCore import QObject, QTimer
from qtpy.QtWidgets import QLabel, QStatusBar

__all__ = ["WallStatus"]

CPU_INTERVAL_MS = 2000


def _label(bar: QStatusBar, name: str, tip: str) -> QLabel:
    label = QLabel(bar)
    label.setObjectName(name)
    label.setToolTip(tip)
    bar.addPermanentWidget(label)
    return label


class WallStatus(QObject):
    """Permanent widgets in ``bar``: cameras, recording, detection, CPU."""

    def __init__(self, bar: QStatusBar) -> None:
        """Add the widgets to ``bar`` and start sampling CPU."""
        super().__init__(bar)
        self.cameras = _label(bar, "statusCameras", "Cameras on the wall and how many show video")
        self.recording = _label(bar, "statusRecording", "Cameras recording now")
        self.detecting = _label(bar, "statusDetecting", "Cameras with object detection on")
        self.cpu = _label(bar, "statusCpu", "CPU use of this machine (all cores)")
        psutil.cpu_percent(None)  # the first call only sets the baseline
        self._timer = QTimer(self)
        self._timer.setInterval(CPU_INTERVAL_MS)
        self._timer.timeout.connect(self.sample_cpu)
        self._timer.start()
        self.cpu.setText("CPU –")

    def show_counts(
        self, cameras: int, live: int, recording: int, detecting: int, extra: str = ""
    ) -> None:
        """Show the counts (``extra``: e.g. the page, after the camera count)."""
        text = f"{cameras} camera{'s' if cameras != 1 else ''}, {live} live"
        self.cameras.setText(text + (f"  ·  {extra}" if extra else ""))
        self.recording.setText(f"● REC {recording}" if recording else "REC off")
        self.recording.setStyleSheet("color: #ff5c5c; font-weight: bold;" if recording else "")
        self.detecting.setText(f"detecting {detecting}" if detecting else "detection off")

    def sample_cpu(self) -> None:
        """Read the CPU use since the last sample (returns at once)."""
        self.cpu.setText(f"CPU {psutil.cpu_percent(None):.0f}%")

    def stop(self) -> None:
        """Stop sampling (the window is closing)."""
        self._timer.stop()
