"""Keeping the config file's camera list in step with the wall: cameras added in the UI persist.

The wall adds and removes cameras; this object mirrors each change into the ``[[camera]]``
list of the config it was opened with and saves the file (atomically, validated first, on a
thread of its own so a slow disk never stalls the window). Everything else in the file is
left as it was loaded. A camera whose URL carries a password is saved with it (the file is
created 0600 and the config loader warns); ``password_env`` is the better home for it.

A password the wall knows (typed in the camera dialog, or in a URL typed in the URL box) is
not written to the file: it goes to the system keyring (or a 0600 file beside the config,
see :mod:`camwall.secrets`) under ``camwall/<camera>``, and the saved URLs carry none.
:func:`camwall.secrets.fill_password` puts it back when the wall starts.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject

from camwall.config import Camera, Config, save
from camwall.errors import ConfigError
from camwall.secrets import (
    Where,
    forget_password,
    reference_for,
    split_password,
    store_password,
)

if TYPE_CHECKING:
    from camwall.ui.wall.main_window import CameraWall

log = logging.getLogger(__name__)


class ConfigSync(QObject):
    """Saves the wall's cameras to ``path`` whenever one is added or removed."""

    def __init__(self, window: CameraWall, path: Path, config: Config | None = None) -> None:
        """Follow ``window``; ``config`` is what ``path`` holds now (None: no file yet)."""
        super().__init__(window)
        self._window = window
        self.path = path
        self.config = config if config is not None else Config()
        self._saver = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="camwall-config"
        )
        self._pending: list[concurrent.futures.Future[Any]] = []
        #: Where removed cameras were in the file (name → index), for an undo.
        self._removed_at: dict[str, int] = {}
        window.camera_added.connect(self._on_added)
        window.camera_removed.connect(self._on_removed)
        window.camera_changed.connect(self._on_changed)
        window.shut_down.connect(self.close)

    def _on_added(self, name: str) -> None:
        if any(c.name == name for c in self.config.cameras):
            return  # it came from the file
        entry = self._entry(name)
        cameras = list(self.config.cameras)
        # A removal undone puts the camera back where it was in the file.
        index = self._removed_at.pop(name, len(cameras))
        cameras.insert(min(index, len(cameras)), entry)
        self._replace(tuple(cameras), f"added {name}")

    def _on_changed(self, old: str, new: str) -> None:
        entry = self._entry(new)
        cameras = list(self.config.cameras)
        index = next((i for i, c in enumerate(cameras) if c.name == old), None)
        if index is None:
            cameras.append(entry)
        else:
            cameras[index] = entry
        if old != new:
            path = self.path
            self._pending.append(
                self._saver.submit(lambda: forget_password(reference_for(old), config_path=path))
            )
        what = f"changed {new}" if old == new else f"renamed {old} to {new}"
        self._replace(tuple(cameras), what)

    def _entry(self, name: str) -> Camera:
        """Camera ``name`` as the file keeps it: its password goes to the keyring instead."""
        entry, password = split_password(self._window.cameras.camera(name))
        if password is not None:
            path, ref = self.path, reference_for(name)
            future = self._saver.submit(store_password, ref, password, config_path=path)
            future.add_done_callback(lambda f: self._report_secret(f, name))
            self._pending.append(future)
        return entry

    def _report_secret(self, future: concurrent.futures.Future[Where], name: str) -> None:
        # Runs on the saver thread; logging is thread-safe.
        try:
            where = future.result()
        except OSError as exc:
            log.error("the password of %s could not be stored: %s", name, exc)
        else:
            place = "system keyring" if where == "keyring" else "private file beside the config"
            log.info("the password of %s is kept in the %s", name, place)

    def _on_removed(self, name: str) -> None:
        names = [c.name for c in self.config.cameras]
        if name in names:
            self._removed_at[name] = names.index(name)
        kept = tuple(c for c in self.config.cameras if c.name != name)
        if len(kept) != len(self.config.cameras):
            self._replace(kept, f"removed {name}")

    def _replace(self, cameras: tuple[Camera, ...], what: str) -> None:
        config = dataclasses.replace(self.config, cameras=cameras)
        self.config = config
        future = self._saver.submit(save, config, self.path)
        future.add_done_callback(lambda f: self._report(f, what))
        self._pending = [f for f in self._pending if not f.done()] + [future]

    def _report(self, future: concurrent.futures.Future[Path], what: str) -> None:
        # Runs on the saver thread; logging is thread-safe and the log panel queues it.
        try:
            path = future.result()
        except (ConfigError, OSError) as exc:
            log.error("%s, but the config file %s could not be saved: %s", what, self.path, exc)
        else:
            log.info("%s: saved the camera list to %s", what, path)

    def wait(self, timeout: float = 10.0) -> None:
        """Wait until every save so far has finished (tests, shutdown)."""
        concurrent.futures.wait(self._pending, timeout=timeout)

    def close(self) -> None:
        """Finish pending saves and stop the saver thread."""
        self._saver.shutdown(wait=True)
