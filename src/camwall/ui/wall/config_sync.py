"""Keeping the config file's camera list in step with the wall: cameras added in the UI persist.

The wall adds and removes cameras; this object mirrors each change into the config file
through :class:`~camwall.config.ConfigDocument` (tomlkit: the user's comments, order and
formatting stay; atomic save in the file's folder; a symlink is followed; the mode is kept),
on a thread of its own so a slow disk never stalls the window. A file edited by hand while
the wall runs is never overwritten: the document is re-read and camwall's unsaved camera
changes are applied to it, and the log says so. One camera that cannot be saved never
blocks the others. A password that came from the environment is never written.
"""

from __future__ import annotations

import concurrent.futures
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import QObject

from camwall.config import Config, ConfigDocument
from camwall.errors import ConfigConflictError, ConfigError

if TYPE_CHECKING:
    from camwall.ui.wall.main_window import CameraWall

log = logging.getLogger(__name__)


class ConfigSync(QObject):
    """Saves the wall's cameras to ``path`` whenever one is added or removed."""

    def __init__(self, window: CameraWall, path: Path, config: Config | None = None) -> None:
        """Follow ``window``; ``config`` is what ``path`` held when the wall started."""
        super().__init__(window)
        self._window = window
        self.path = path
        self._from_file = {c.name for c in config.cameras} if config is not None else set()
        self._saver = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="camwall-config"
        )
        self._doc: ConfigDocument | None = None  # the saver thread's only
        self._pending: list[concurrent.futures.Future[Path | None]] = []
        window.camera_added.connect(self._on_added)
        window.camera_removed.connect(self._on_removed)
        window.shut_down.connect(self.close)

    def _on_added(self, name: str) -> None:
        if name in self._from_file:
            return  # it came from the file
        camera = self._window.cameras.camera(name)
        self._submit(lambda doc: doc.set_camera(camera), f"added {name}")

    def _on_removed(self, name: str) -> None:
        self._from_file.discard(name)
        self._submit(lambda doc: doc.remove_camera(name), f"removed {name}")

    def _submit(self, change: object, what: str) -> None:
        future = self._saver.submit(self._apply, change, what)
        self._pending = [f for f in self._pending if not f.done()] + [future]

    def _apply(self, change: object, what: str) -> Path | None:
        """Saver thread: apply one change to the document and save it."""
        try:
            if self._doc is None:
                self._doc = ConfigDocument.load(self.path)
            change(self._doc)  # type: ignore[operator]
            try:
                path = self._doc.save()
            except ConfigConflictError:
                failed = self._doc.reload()
                path = self._doc.save()
                log.warning(
                    "%s was edited while the wall ran; camwall merged its camera changes "
                    "into the edited file%s",
                    self.path,
                    "" if not failed else f" (not applied: {'; '.join(map(str, failed))})",
                )
        except (ConfigError, OSError) as exc:
            log.error("%s, but the config file %s could not be saved: %s", what, self.path, exc)
            return None
        log.info("%s: saved the camera list to %s", what, path)
        return path

    def wait(self, timeout: float = 10.0) -> None:
        """Wait until every save so far has finished (tests, shutdown)."""
        concurrent.futures.wait(self._pending, timeout=timeout)

    def close(self) -> None:
        """Finish pending saves and stop the saver thread."""
        self._saver.shutdown(wait=True)
