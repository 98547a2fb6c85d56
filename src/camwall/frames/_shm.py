"""POSIX shared-memory segments without multiprocessing's resource tracker.

``multiprocessing.shared_memory.SharedMemory`` on Python 3.11 registers *every* segment it
opens with the resource tracker, attachments included, so a reader process that exits makes
the tracker unlink a segment it never owned and print "leaked shared_memory" warnings
(CPython gh-82300; ``track=False`` arrived only in 3.13). camwall's rings have exactly one
owner who unlinks them, so this module opens segments directly and registers nothing.
"""

from __future__ import annotations

import _posixshmem
import mmap
import os
import stat
from dataclasses import dataclass
from pathlib import Path

SHM_DIR = Path("/dev/shm")


@dataclass
class Segment:
    """A mapped shared-memory segment."""

    name: str
    mapping: mmap.mmap

    @property
    def size(self) -> int:
        """Mapped size in bytes."""
        return len(self.mapping)


def create(name: str, size: int) -> Segment:
    """Create a new segment of ``size`` bytes readable and writable by this user only."""
    fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
    try:
        # shm_open applies the umask; 0600 must hold whatever the umask is.
        os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
        os.ftruncate(fd, size)
        mapping = mmap.mmap(fd, size)
    except BaseException:
        os.close(fd)
        unlink(name)
        raise
    os.close(fd)
    return Segment(name, mapping)


def attach(name: str) -> Segment:
    """Map an existing segment; raises FileNotFoundError when there is none."""
    fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            raise ValueError(f"shared-memory segment {name!r} is empty")
        mapping = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    return Segment(name, mapping)


def unlink(name: str) -> bool:
    """Remove a segment's name; True if it existed. Existing mappings stay valid."""
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        return False
    return True


def list_names(prefix: str) -> list[str]:
    """Names of the segments in /dev/shm that start with ``prefix``."""
    try:
        return sorted(p.name for p in SHM_DIR.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []
