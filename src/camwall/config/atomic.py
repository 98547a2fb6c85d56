"""Writing a user's file safely: atomic, through symlinks, keeping its mode; and noticing edits.

:func:`write_atomic` writes a temp file next to the real target (a symlink is followed, and
stays a link), fsyncs it, renames it over the target and fsyncs the folder, so a crash leaves
either the old or the new file, never half of one. :class:`FileStamp` remembers what a file
held when camwall read it, so a save can tell that someone edited it since.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Mode of a config file camwall creates: it may hold a user name, or a password in a URL.
NEW_FILE_MODE = 0o600


@dataclass(frozen=True)
class FileStamp:
    """What a file held at one moment: enough to tell that it changed since."""

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of_bytes(cls, data: bytes, st: os.stat_result) -> FileStamp:
        """The stamp of ``data`` read from a file whose stat is ``st``."""
        return cls(len(data), st.st_mtime_ns, hashlib.sha256(data).hexdigest())

    def same_content(self, other: FileStamp) -> bool:
        """True if both stamps saw the same bytes (a touched file is not an edited one)."""
        return (self.size, self.sha256) == (other.size, other.sha256)

    @classmethod
    def read(cls, path: Path) -> FileStamp | None:
        """The stamp of the file at ``path`` now, or None if there is no file."""
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                return cls.of_bytes(fh.read(), st)
        except FileNotFoundError:
            return None


def real_target(path: Path) -> Path:
    """The file a write to ``path`` must replace: symlinks (also dangling ones) resolved."""
    return Path(os.path.realpath(path))


def file_mode(path: Path) -> int | None:
    """The permission bits of the file at ``path`` (following links), or None if absent."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def write_atomic(path: Path, text: str) -> Path:
    """Replace the file at ``path`` by ``text`` atomically; returns the real file written.

    A symlink is followed to its target, which is replaced (the link stays a link). An
    existing file keeps its mode; a new one is created :data:`NEW_FILE_MODE`.
    """
    target = real_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            os.fchmod(fh.fileno(), NEW_FILE_MODE if mode is None else mode)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Make the rename itself durable: a power cut right after must not bring back the old file.
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return target
