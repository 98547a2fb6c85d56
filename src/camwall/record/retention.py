"""Retention: delete old segments by age and by total size, oldest first.

:func:`enforce` does one pass; :class:`RetentionService` runs it in a thread it owns, every
``interval_s`` and whenever a recorder finishes a segment or hits a full disk
(:meth:`RetentionService.trigger`). One service per recording folder, in the app process;
recorders in capture processes need none, because a segment being written is locked (see
:mod:`camwall.record.storage`) and is never deleted, whichever process holds it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from camwall.config.model import RecordingConfig
from camwall.record.naming import iter_segments
from camwall.record.storage import delete_if_idle

log = logging.getLogger(__name__)

#: After a failed pass, retry this soon, doubling up to the normal interval.
_RETRY_FIRST_S = 1.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How much to keep; None means no limit of that kind."""

    max_age_s: float | None = None
    max_total_bytes: int | None = None

    @classmethod
    def from_config(cls, recording: RecordingConfig) -> RetentionPolicy:
        """The policy a ``[recording]`` section asks for."""
        return cls(recording.max_age_s, recording.max_total_bytes)


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What one pass did."""

    deleted: tuple[Path, ...] = ()
    freed_bytes: int = 0
    kept_bytes: int = 0
    kept_segments: int = 0
    #: Segments that were due but are being written right now (left alone).
    in_use: int = 0


def enforce(
    root: str | os.PathLike[str],
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
    on_deleted: Callable[[list[Path]], None] | None = None,
) -> RetentionResult:
    """Delete segments under ``root`` older than the age limit, then oldest first until the
    total fits the size limit. A segment a recorder holds open is never deleted.
    ``on_deleted`` gets the deleted paths (e.g. ``RecordingIndex.remove``)."""
    if policy.max_age_s is None and policy.max_total_bytes is None:
        return RetentionResult()
    root = Path(root)
    segments = sorted(iter_segments(root))
    total = sum(s.size for s in segments)
    cutoff = None
    if policy.max_age_s is not None:
        try:
            cutoff = (now or datetime.now(UTC)) - timedelta(seconds=policy.max_age_s)
        except OverflowError:
            cutoff = None  # older than year 1: nothing on disk is that old
    deleted: list[Path] = []
    freed = in_use = 0
    for seg in segments:
        too_old = cutoff is not None and seg.start < cutoff
        too_big = policy.max_total_bytes is not None and total > policy.max_total_bytes
        if not (too_old or too_big):
            break  # oldest first: every later segment is newer and the total already fits
        try:
            removed = delete_if_idle(seg.path)
        except OSError as exc:
            log.warning("retention: cannot delete %s: %s", seg.path, exc.strerror or exc)
            continue
        if not removed:
            in_use += 1
            continue
        deleted.append(seg.path)
        freed += seg.size
        total -= seg.size
    _remove_empty_days({p.parent for p in deleted})
    if deleted and on_deleted is not None:
        on_deleted(deleted)
    if deleted:
        log.info(
            "retention: deleted %d segments (%.1f MB) under %s",
            len(deleted),
            freed / 1e6,
            root,
        )
    return RetentionResult(tuple(deleted), freed, total, len(segments) - len(deleted), in_use)


def _remove_empty_days(days: set[Path]) -> None:
    for day in days:
        # rmdir refuses a non-empty folder, which is exactly the check wanted; a recorder
        # that creates its next segment there right now simply re-creates the folder.
        with contextlib.suppress(OSError):
            day.rmdir()


class RetentionService:
    """Runs :func:`enforce` in an owned thread: periodically and on :meth:`trigger`.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        policy: RetentionPolicy,
        *,
        interval_s: float = 60.0,
        on_result: Callable[[RetentionResult], None] | None = None,
        on_deleted: Callable[[list[Path]], None] | None = None,
    ) -> None:
        """Prepare; nothing runs until :meth:`start`. ``on_deleted``: see :func:`enforce`."""
        self.root = Path(root)
        self.policy = policy
        self.interval_s = interval_s
        self.passes = 0  # completed
        self._started = 0
        self.last_result: RetentionResult | None = None
        self._on_result = on_result
        self._on_deleted = on_deleted
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        #: Passes that raised (logged with their traceback; the service went on).
        self.failures = 0

    def start(self) -> RetentionService:
        """Start the thread (runs a first pass at once). Returns self."""
        if self._thread is not None:
            raise RuntimeError("RetentionService already started")
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"camwall-retention:{self.root.name}", daemon=True
        )
        self._thread.start()
        return self

    def trigger(self) -> None:
        """Ask for a pass soon (thread-safe, never blocks)."""
        self._wake.set()

    def run_now(self, timeout: float = 30.0) -> RetentionResult | None:
        """Trigger a pass and wait for it; the result, or None if none finished in time.

        The pass waited for is one that starts after this call, so it sees every segment
        finished before it.
        """
        with self._idle:
            target = self._started + 1
            self.trigger()
            self._idle.wait_for(lambda: self.passes >= target, timeout)
            return self.last_result if self.passes >= target else None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (a pass in progress finishes first)."""
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning(
                    "retention thread for %s did not stop within %.0f s", self.root, timeout
                )

    def __enter__(self) -> RetentionService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        failures_in_a_row = 0
        while not self._stopping.is_set():
            with self._idle:
                self._wake.clear()
                self._started += 1
            started = time.monotonic()
            result: RetentionResult | None = None
            try:
                result = enforce(self.root, self.policy, on_deleted=self._on_deleted)
                if self._on_result is not None:
                    self._on_result(result)
                failures_in_a_row = 0
            except OSError as exc:
                failures_in_a_row += 1
                self.failures += 1
                log.warning("retention pass over %s failed: %s", self.root, exc)
            except Exception:
                # The loop level is the one place a broad catch belongs: a bug or a surprise
                # in one pass must not end retention for good (a full disk would follow).
                failures_in_a_row += 1
                self.failures += 1
                log.exception("retention pass over %s failed; retrying", self.root)
            log.debug("retention pass took %.3f s", time.monotonic() - started)
            with self._idle:
                self.last_result = result
                self.passes += 1
                self._idle.notify_all()
            wait = self.interval_s
            if failures_in_a_row:
                wait = min(self.interval_s, _RETRY_FIRST_S * 2 ** min(failures_in_a_row - 1, 10))
            self._wake.wait(wait)
