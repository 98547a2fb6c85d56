"""Reclaiming frame-ring segments left behind by processes that died without unlinking."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from camwall.frames import _shm

log = logging.getLogger(__name__)

# Header words read here; they must match ring.py's layout (checked by the tests).
_MAGIC = int.from_bytes(b"CAMWRING", "little")
_WORD_MAGIC, _WORD_OWNER_PID, _WORD_OWNER_START = 0, 6, 7


def process_start_ticks(pid: int) -> int:
    """Start time of process ``pid`` in clock ticks since boot (0 when unknown).

    Together with the pid it identifies a process even after the pid has been reused.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # The command name (field 2) may contain spaces and parentheses; fields after the
    # last ')' are space-separated, the start time being field 22 overall.
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _owner_of(name: str) -> tuple[int, int] | None:
    """(owner pid, owner start ticks) from a segment's header, or None if not a ring."""
    try:
        segment = _shm.attach(name)
    except (OSError, ValueError):
        return None
    try:
        if segment.size < 64:
            return None
        words = memoryview(segment.mapping)[:64].cast("q")
        try:
            if words[_WORD_MAGIC] != _MAGIC:
                return None
            return int(words[_WORD_OWNER_PID]), int(words[_WORD_OWNER_START])
        finally:
            words.release()
    finally:
        segment.mapping.close()


def _parse_pid(name: str, prefix: str) -> int | None:
    parts = name.rsplit("-", 2)
    if len(parts) != 3 or parts[0] != prefix:
        return None
    try:
        return int(parts[1])
    except ValueError:
        return None


def reclaim_stale(prefix: str = "camwall") -> list[str]:
    """Unlink ``prefix`` ring segments whose owner process is dead; return their names.

    A segment counts as stale when the pid in its name no longer runs, or runs but is a
    different process than the one that created it (pid reuse, detected by start time).
    """
    removed: list[str] = []
    me = os.getpid()
    for name in _shm.list_names(prefix + "-"):
        pid = _parse_pid(name, prefix)
        if pid is None or pid == me:
            continue
        if _pid_alive(pid):
            owner = _owner_of(name)
            if owner is None:
                continue
            _, start = owner
            current = process_start_ticks(pid)
            if start == 0 or current == 0 or start == current:
                continue
        if _shm.unlink(name):
            log.info("removed stale frame ring %s (owner pid %d is gone)", name, pid)
            removed.append(name)
    return removed


__all__ = ["process_start_ticks", "reclaim_stale"]
