"""Running the wall as an application: QApplication, the window, Ctrl-C, timed exit, screenshot."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Literal

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication

from camwall.capture import CameraState
from camwall.config import Camera, Config
from camwall.errors import ConfigError, MissingExtraError
from camwall.runtime import Runtime
from camwall.secrets import fill_password
from camwall.ui.wall.config_sync import ConfigSync
from camwall.ui.wall.layout_state import LayoutStore
from camwall.ui.wall.main_window import CameraWall

log = logging.getLogger(__name__)


class _Screenshot:
    """Saves the window once every visible tile shows video (or after a timeout), then closes it."""

    def __init__(self, window: CameraWall, path: Path, timeout_s: float, settle_s: float) -> None:
        self.window = window
        self.path = path
        self.ok = False
        self._deadline = time.monotonic() + timeout_s
        self._settle_s = settle_s
        self._ready_since: float | None = None
        self._timer = QTimer(window)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._check)
        self._timer.start()

    def _ready(self) -> bool:
        tiles = [self.window.tile(n) for n in self.window.grid.visible_names()]
        return bool(tiles) and all(
            t.state is CameraState.STREAMING and t.shown_seq > 0 for t in tiles
        )

    def _check(self) -> None:
        now = time.monotonic()
        if self._ready():
            self._ready_since = self._ready_since or now
        else:
            self._ready_since = None
        settled = self._ready_since is not None and now - self._ready_since >= self._settle_s
        if not settled and now < self._deadline:
            return
        self._timer.stop()
        if not settled:
            log.error("screenshot: the cameras did not all show video in time; saving anyway")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ok = bool(self.window.grab().save(str(self.path))) and settled
        if self.ok:
            log.info("screenshot saved to %s", self.path)
        else:
            log.error("screenshot: could not save %s", self.path)
        self.window.close()


def _follow_nodes(window: CameraWall, config: Config) -> None:
    """Put the cameras of the config's remote nodes on the wall (``[wall] nodes``)."""
    assert config.mqtt is not None
    try:
        # Imported here: paho-mqtt is needed only by walls that follow nodes.
        from camwall.ui.wall.remote_cameras import RemoteCameras

        RemoteCameras(window, config.mqtt, config.wall.nodes).start()
    except (ConfigError, MissingExtraError) as exc:
        window.notify_error(f"Cannot follow the remote nodes: {exc}")


#: Signals that close the wall the way its close button does (SIGHUP: the terminal went away).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_wall(
    config: Config | None = None,
    cameras: Sequence[Camera] | None = None,
    *,
    mode: Literal["process", "thread"] = "process",
    seconds: float = 0.0,
    grid: str | int | None = None,
    stats: bool = False,
    screenshot: Path | None = None,
    size: tuple[int, int] = (1280, 860),
    config_path: Path | None = None,
    wall_mode: bool = False,
    remember: bool = True,
) -> int:
    """Open the wall over a runtime for ``config`` and run until it is closed; the exit code.

    ``cameras`` (default: the config's) are put on the wall. ``seconds`` > 0 closes the
    window after that long; ``screenshot`` saves the window to a PNG once every camera shows
    video, then closes it (exit code 1 if that failed). With ``config_path``, cameras added
    or removed on the wall are saved to that file. SIGINT, SIGTERM and SIGHUP close the wall
    as cleanly as its close button: workers stopped, segments finished, no shared memory left.
    ``wall_mode`` opens it showing only the tiles, full screen (Esc leaves). With
    ``remember``, layout, tile order, window geometry and views come back from the last run.
    """
    config = config if config is not None else Config()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("camwall")
    runtime = Runtime(config, mode=mode)
    # A screenshot shows the wall as asked, not as someone last left it.
    store = LayoutStore() if remember and screenshot is None else None
    window = CameraWall(runtime=runtime, layout_store=store)
    window.set_theme(window.saved_theme())  # dark unless light was chosen
    window.set_grid_mode(grid if grid is not None else config.wall.grid)
    window.set_stats_visible(stats)
    if config_path is not None:
        ConfigSync(window, config_path, config)
    chosen = config.cameras if cameras is None else cameras
    if config_path is not None:
        # Passwords typed in the wall live in the keyring (camwall.secrets), not the file.
        chosen = [fill_password(c, config_path=config_path) for c in chosen]
    window.add_cameras(chosen)
    if config.mqtt is not None and config.wall.nodes:
        _follow_nodes(window, config)
    window.resize(*size)
    window.restore_layout()
    if grid is not None:
        window.set_grid_mode(grid)  # asked for on the command line: wins over the last run
    window.show()
    if wall_mode:
        window.set_wall_mode(True)
    # Everything built so far (Qt bindings, modules, the window) lives as long as the app:
    # move it out of the cyclic GC's sight, or every full collection re-scans it on the UI
    # thread (tens of ms with the optional libraries loaded).
    gc.collect()
    gc.freeze()
    if seconds > 0:

        def close_window() -> None:
            """Close (not quit): the window stops its workers first."""
            window.close()

        QTimer.singleShot(int(seconds * 1000), close_window)
    shot = _Screenshot(window, screenshot, timeout_s=60.0, settle_s=1.5) if screenshot else None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        """Ctrl-C, SIGTERM, SIGHUP: close the wall the way the window's close button does."""
        log.info("%s: closing the wall", signal.Signals(signum).name)
        window.close()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    # Qt's event loop does not return to Python on its own; an idle timer lets the signal
    # handler run within a fraction of a second.
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        app.exec()
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        window.shutdown_now()
    if shot is not None and not shot.ok:
        return 1
    return 0
