"""Export a span selected on the timeline: one clip per camera into one folder, with progress.

The clips are written by :func:`camwall.record.export.export_clip` (a remux, no re-encoding;
the start snaps to a keyframe, and the dialog says by how much) on the dialog's own worker
thread ("camwall-export"); progress and results arrive queued, so the wall keeps running.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from qtpy.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from camwall.config.names import safe_name
from camwall.errors import RecordError
from camwall.record.export import ExportResult, export_clip
from camwall.record.index import RecordingIndex
from camwall.ui.qt_compat import Signal, connect_queued

log = logging.getLogger(__name__)


def clip_name(camera: str, start: float, end: float) -> str:
    """``<camera>_<from>_<to>.mp4``, as ``camwall export`` names clips in a folder."""

    def stamp(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).strftime("%Y%m%dT%H%M%SZ")

    return f"{safe_name(camera)}_{stamp(start)}_{stamp(end)}.mp4"


class ExportDialog(QDialog):
    """Clips of [start, end) of some cameras into a folder; see the module docstring."""

    #: Every clip is done: the results (a failed camera is missing; see :attr:`errors`).
    finished_export = Signal(object)
    _progress = Signal(float)
    _result = Signal(object, object)  # camera, ExportResult | error text
    _all_done = Signal()

    def __init__(
        self,
        index: RecordingIndex,
        cameras: Sequence[str],
        start: float,
        end: float,
        folder: Path,
        parent: QWidget | None = None,
    ) -> None:
        """Ask where and which cameras; nothing runs until Export."""
        super().__init__(parent)
        self.setObjectName("reviewExportDialog")
        self.setWindowTitle("Export clips")
        self.index, self.start, self.end = index, start, end
        self.results: list[ExportResult] = []
        self.errors: dict[str, str] = {}
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        span = f"{_local(start)} → {_local(end)} ({end - start:.1f} s)"
        self.folderEdit = QLineEdit(str(folder), self)
        self.folderEdit.setObjectName("exportFolder")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        self.boxes: dict[str, QCheckBox] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(span, self))
        row = QHBoxLayout()
        row.addWidget(self.folderEdit, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        for camera in cameras:
            box = QCheckBox(camera, self)
            box.setChecked(True)
            self.boxes[camera] = box
            layout.addWidget(box)
        self.accurateBox = QCheckBox("Cut exactly (re-encode the first GOP)", self)
        layout.addWidget(self.accurateBox)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("exportProgress")
        self.progress.setRange(0, 1000)
        layout.addWidget(self.progress)
        self.statusLabel = QLabel("", self)
        self.statusLabel.setObjectName("exportStatus")
        self.statusLabel.setWordWrap(True)
        layout.addWidget(self.statusLabel)
        self.buttons = QDialogButtonBox(self)
        button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        assert button is not None
        self.exportButton: QPushButton = button
        self.exportButton.setObjectName("exportStart")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.exportButton.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        connect_queued(self._progress, lambda f: self.progress.setValue(int(f * 1000)))
        connect_queued(self._result, self._on_result)
        connect_queued(self._all_done, self._on_all_done)

    def export(self) -> None:
        """Write the clips on the export thread (returns at once)."""
        cameras = [name for name, box in self.boxes.items() if box.isChecked()]
        if not cameras:
            self.statusLabel.setText("Choose at least one camera.")
            return
        folder = Path(self.folderEdit.text()).expanduser()
        accurate = self.accurateBox.isChecked()
        self.exportButton.setEnabled(False)
        self.results, self.errors = [], {}
        self.statusLabel.setText(f"Exporting {len(cameras)} clip(s) into {folder}…")
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="camwall-export"
            )
        self._executor.submit(self._run, cameras, folder, accurate)

    def shutdown(self) -> None:
        """Wait for a running export and stop the thread (off the UI thread, or when idle)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, cameras: list[str], folder: Path, accurate: bool) -> None:
        try:
            self._export_all(cameras, folder, accurate)
        finally:
            self._progress.emit(1.0)
            self._all_done.emit()  # the dialog never waits for ever, whatever happened

    def _export_all(self, cameras: list[str], folder: Path, accurate: bool) -> None:
        n = len(cameras)
        for i, camera in enumerate(cameras):
            out = folder / clip_name(camera, self.start, self.end)

            def progress(fraction: float, i: int = i) -> None:
                self._progress.emit((i + max(0.0, min(1.0, fraction))) / n)

            try:
                result = export_clip(
                    self.index,
                    camera,
                    self.start,
                    self.end,
                    out,
                    accurate=accurate,
                    progress=progress,
                )
            except (RecordError, OSError, ValueError) as exc:
                log.warning("export of %s failed: %s", camera, exc)
                self._result.emit(camera, str(exc))
                continue
            self._result.emit(camera, result)

    def _on_result(self, camera: str, result: ExportResult | str) -> None:
        if isinstance(result, str):
            self.errors[camera] = result
        else:
            self.results.append(result)

    def _on_all_done(self) -> None:
        lines = [
            f"{r.path.name}: {r.end - r.start:.1f} s"
            + (f", starts {r.snapped_s:.2f} s early (keyframe)" if r.snapped_s > 0.001 else "")
            for r in self.results
        ]
        lines += [f"{camera}: {error}" for camera, error in self.errors.items()]
        self.statusLabel.setText("\n".join(lines) or "Nothing exported.")
        self.exportButton.setEnabled(True)
        self.finished_export.emit(list(self.results))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", self.folderEdit.text())
        if folder:
            self.folderEdit.setText(folder)


def _local(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")
