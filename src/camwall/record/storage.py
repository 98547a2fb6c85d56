"""Files on disk for recording: locked append-only segment files and clear storage errors.

A segment file is held under an exclusive ``flock`` while it is being written. Retention (in
any process) takes the same lock before deleting, so it can never delete a segment that a
recorder is still writing; the kernel drops the lock when the writer exits, even on SIGKILL.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
import time
from pathlib import Path

from camwall.errors import StorageError

log = logging.getLogger(__name__)

FILE_MODE = 0o640  # footage is private: owner writes, group may read
DIR_MODE = 0o750

_HINTS = {
    errno.ENOSPC: "the disk is full; free space or lower [recording] max_total_gb",
    errno.EDQUOT: "the disk quota is exhausted; free space or lower [recording] max_total_gb",
    errno.EFBIG: "the file size limit was reached (ulimit -f) or the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied; choose another [recording] dir or fix its permissions",
    errno.EPERM: "permission denied; choose another [recording] dir or fix its permissions",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EEXIST: "a file of that name is in the way",
    errno.EIO: "an I/O error occurred (failing disk or lost network share?)",
}


def storage_error(action: str, path: Path, exc: OSError) -> StorageError:
    """A :class:`StorageError` saying what failed on which path, why, and what to do."""
    reason = exc.strerror or str(exc)
    hint = _HINTS.get(exc.errno or -1)
    message = f"cannot {action} {path}: {reason}" + (f" ({hint})" if hint else "")
    err = StorageError(message)
    # Only errno: OSError.__str__ would replace the message once filename is set too.
    err.errno = exc.errno
    return err


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; StorageError naming the path on failure."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error("create the directory", path, exc) from None
    if not path.is_dir():
        raise storage_error(
            "use", path, NotADirectoryError(errno.ENOTDIR, "it is a file, not a directory")
        )
    return path


def ensure_writable(directory: str | os.PathLike[str]) -> Path:
    """Check that recordings can be written under ``directory`` (creating it), or raise.

    Writes and removes a small probe file, so a read-only mount or a full disk shows up
    now rather than at the first segment.
    """
    path = ensure_dir(Path(directory))
    probe = path / f".camwall-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
        try:
            os.write(fd, b"camwall")
        finally:
            os.close(fd)
    except OSError as exc:
        raise storage_error("write into", path, exc) from None
    finally:
        probe.unlink(missing_ok=True)
    return path


class SegmentFile:
    """A new file written strictly by appending, locked while open; a file object for PyAV.

    Not seekable on purpose: the fragmented-MP4 muxer then never rewrites earlier bytes, so
    whatever reached the file is final and playable.
    """

    def __init__(self, path: Path) -> None:
        """Create ``path`` exclusively (FileExistsError if it exists) and lock it."""
        self.path = path
        self.bytes_written = 0
        self._fd: int | None = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE
        )
        self.locked = _lock(self._fd, path)

    def write(self, data: bytes) -> int:
        """Write all of ``data`` (looping over short writes); OSError on failure."""
        if self._fd is None:
            raise OSError(errno.EBADF, f"{self.path} is closed")
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
            self.bytes_written += n
        return len(data)

    def truncate(self, size: int) -> None:
        """Cut the file back to ``size`` bytes (dropping a fragment that was cut short)."""
        if self._fd is not None:
            os.ftruncate(self._fd, size)
        else:
            os.truncate(self.path, size)
        self.bytes_written = min(self.bytes_written, size)

    def writable(self) -> bool:
        """Always True (PyAV asks)."""
        return True

    def seekable(self) -> bool:
        """Always False: see the class docstring."""
        return False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._fd is None

    def close(self) -> None:
        """Close the file, releasing the lock. Idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


#: Errors of file systems without flock (some network shares): recording goes on unlocked.
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}
#: Without locks, a segment modified this recently counts as being written.
UNLOCKED_BUSY_S = 180.0


def _lock(fd: int, path: Path) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in _NO_LOCKS:
            raise
        log.warning("%s: the file system does not support locks; recording without", path)
        return False
    return True


def _held(fd: int, path: Path) -> bool:
    """True if another open file description holds the lock on ``fd``'s file."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError as exc:
        if exc.errno not in _NO_LOCKS:
            raise
        return time.time() - os.fstat(fd).st_mtime < UNLOCKED_BUSY_S
    return False


def in_use(path: Path) -> bool:
    """True if a recorder (in any process) holds ``path`` open for writing."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        return _held(fd, path)
    finally:
        os.close(fd)


def delete_if_idle(path: Path) -> bool:
    """Delete ``path`` unless a recorder holds it; True if it was deleted (or already gone).

    Only a regular file is deleted: a symlink (or anything else) put in its place raises
    OSError, and nothing a link points to is ever touched.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return True
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EPERM, "not a regular file; left alone", str(path))
        if _held(fd, path):
            return False
        # Unlinking while holding the lock: no recorder can be writing this file now.
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)
    return True
