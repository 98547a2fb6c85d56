"""Keeping the config file's camera list in step with the wall: cameras added in the UI persist.

The wall adds and removes cameras; this object mirrors each change into the config file
through :class:`~camwall.config.ConfigDocument` (tomlkit: the user's comments, order and
formatting stay; atomic save in the file's folder; a symlink is followed; the mode is kept),
on a thread of its own so a slow disk never stalls the window. A file edited by hand while
the wall runs is never overwritten: the document is re-read and camwall's unsaved camera
changes are applied to it, and the log says so. One camera that cannot be saved never
blocks the others. A password that came from the environment is never written.

A password the wall knows (typed in the camera dialog, or in a URL typed in the URL box) is
not written to the file either: it goes to the system keyring (or a 0600 file beside the
config, see :mod:`camwall.secrets`) under ``camwall/<camera>``, and the saved URLs carry
none. :func:`camwall.secrets.fill_password` puts it back when the wall starts.
"""

from __future__ import annotations

import concurrent.futures
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject

from camwall.config import Camera, Config, ConfigDocument
from camwall.errors import ConfigConflictError, ConfigError
from camwall.secrets import (
    Where,
    forget_password,
    reference_for,
    split_password,
    store_password,
)

if TYPE_CHECKING:
    from camwall.ui.wall.host import WallHost

log = logging.getLogger(__name__)


class ConfigSync(QObject):
    """Saves the wall's cameras to ``path`` whenever one is added or removed."""

    def __init__(self, window: WallHost, path: Path, config: Config | None = None) -> None:
        """Follow ``window``; ``config`` is what ``path`` held when the wall started."""
        super().__init__(window)
        self._window = window
        self.path = path
        self._from_file = {c.name for c in config.cameras} if config is not None else set()
        self._saver = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="camwall-config"
        )
        self._doc: ConfigDocument | None = None  # the saver thread's only
        self._pending: list[concurrent.futures.Future[Any]] = []
        window.camera_added.connect(self._on_added)
        window.camera_removed.connect(self._on_removed)
        window.camera_changed.connect(self._on_changed)
        window.shut_down.connect(self.close)

    def _on_added(self, name: str) -> None:
        if name in self._from_file:
            return  # it came from the file
        camera = self._entry(name)
        self._submit(lambda doc: doc.set_camera(camera), f"added {name}")

    def _on_removed(self, name: str) -> None:
        self._from_file.discard(name)
        self._submit(lambda doc: doc.remove_camera(name), f"removed {name}")

    def _on_changed(self, old: str, new: str) -> None:
        """Camera ``old`` was edited (and maybe renamed ``new``): the file follows."""
        camera = self._entry(new)
        if old == new:
            # In place: the camera keeps its table, its place and its comments.
            self._submit(lambda doc: doc.set_camera(camera), f"changed {new}")
            return
        self._from_file.discard(old)
        path = self.path

        def rename(doc: ConfigDocument) -> None:
            doc.remove_camera(old)
            doc.set_camera(camera)
            forget_password(reference_for(old), config_path=path)

        self._submit(rename, f"renamed {old} to {new}")

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
