"""The recordings index: segments and events of one recording folder, in SQLite.

The files stay the truth; the index only makes questions fast ("what was recorded on the
door camera between 02:00 and 03:00, and which events?"). It lives in the folder itself,
``<dir>/.camwall-index.sqlite3`` (WAL, so playback workers and ``camwall recordings`` read
while the app writes), and is

- **rebuilt** when it is missing, or corrupt (a truncated or garbage file is moved aside as
  ``.camwall-index.sqlite3.corrupt-<time>`` first);
- **refreshed** when stale: :meth:`RecordingIndex.refresh` compares the segment files'
  names, sizes and modification times with the index (no file is read for that) and probes
  only the new or changed ones (:mod:`camwall.record.probe`), dropping rows of files gone;
- **updated live**: the owner calls :meth:`RecordingIndex.observe` with every runtime event
  payload (it takes :class:`~camwall.record.events.SegmentClosed`, detection ``TrackEvent``
  and capture ``StateEvent`` through :meth:`~RecordingIndex.segment_closed`,
  :meth:`~RecordingIndex.track_event` and :meth:`~RecordingIndex.state_event`), and passes
  :meth:`RecordingIndex.remove` to retention (``on_deleted``).

Events have no other home on disk, so each one is also appended to a journal next to the
segments, ``<dir>/<camera>/events-<UTC date>.jsonl``; a rebuilt index replays the journals.

Times are epoch seconds (UTC) as floats. Cameras are named as their folders are
(:func:`camwall.config.names.safe_name`); every method accepts the display name too.
Thread-safe: one connection behind a lock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camwall.config.names import safe_name
from camwall.errors import RecordError
from camwall.record import journal
from camwall.record.naming import iter_segments, parse_segment_name
from camwall.record.probe import probe_segment
from camwall.record.records import (
    EventKind,
    RecordedEvent,
    RefreshResult,
    SegmentRecord,
)

if TYPE_CHECKING:
    from camwall.capture.events import StateEvent
    from camwall.control.onvif.events import CameraEvent
    from camwall.detect.messages import DetectionResult, TrackEvent
    from camwall.record.events import SegmentClosed

log = logging.getLogger(__name__)

INDEX_NAME = ".camwall-index.sqlite3"
SCHEMA_VERSION = 1
#: Probed segments written per transaction while refreshing.
REFRESH_BATCH = 200
#: Camera states a timeline marks (the others are steps of reconnecting).
MARKED_STATES = frozenset({"streaming", "lost", "failed", "stopped"})
#: Recorded spans closer than this are drawn as one (a segment boundary is not a gap).
JOIN_GAP_S = 1.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segments (
    path TEXT PRIMARY KEY,      -- relative to the recording folder, '/'-separated
    camera TEXT NOT NULL,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ok INTEGER NOT NULL,        -- 0: no readable video (kept so it is not probed again)
    codec TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    frames INTEGER NOT NULL DEFAULT 0,
    keyframes INTEGER NOT NULL DEFAULT 0,
    first_pts INTEGER NOT NULL DEFAULT 0,
    tb_num INTEGER NOT NULL DEFAULT 1,
    tb_den INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS segments_by_time ON segments (camera, start);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    camera TEXT NOT NULL,
    kind TEXT NOT NULL,         -- 'detection' or 'state'
    label TEXT NOT NULL,
    start REAL NOT NULL,
    "end" REAL,                 -- NULL while a track is still on screen
    score REAL,
    snapshot TEXT,
    track_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (camera, start);
-- What the detector found in recorded frames (only frames with detections), so review can
-- draw them at their times. Not journalled: a rebuilt index has the files' segments and
-- events, and the boxes from then on.
CREATE TABLE IF NOT EXISTS boxes (
    camera TEXT NOT NULL,
    time REAL NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    detections TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS boxes_by_time ON boxes (camera, time);
"""


class RecordingIndex:
    """The index of one recording folder; see the module docstring. Use :meth:`open`."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        """Use :meth:`open`."""
        self.root = root
        self._conn = conn
        self._lock = threading.Lock()
        #: True if this open rebuilt the index from the files (missing or corrupt).
        self.rebuilt = False
        #: Where a corrupt index was moved, if it was.
        self.moved_aside: Path | None = None
        self._last_state: dict[str, str] = {}
        self._open_segments: set[Path] = set()  # being written (SegmentOpened seen)

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, root: str | os.PathLike[str], *, refresh: bool = True) -> RecordingIndex:
        """Open the index of ``root`` (created if needed), rebuilding it if missing or corrupt,
        and (``refresh``) bring it up to date with the files."""
        root = Path(root)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordError(f"cannot use the recording folder {root}: {exc}") from None
        db = root / INDEX_NAME
        existed = db.exists() and db.stat().st_size > 0
        moved: Path | None = None
        conn: sqlite3.Connection | None = None
        try:
            conn = _connect(db)
            if existed:
                _check(conn)
            else:
                _create(conn)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise RecordError(f"the recordings index {db} is locked: {exc}") from None
            if conn is not None:
                conn.close()
            moved = _move_aside(db)
            log.warning(
                "recordings index %s is corrupt (%s); moved to %s, rebuilding", db, exc, moved
            )
            conn = _connect(db)
            _create(conn)
            existed = False
        index = cls(root, conn)
        index.moved_aside = moved
        if not existed:
            index.rebuilt = True
            index._replay_journals()
        if refresh or not existed:
            index.refresh()
        return index

    @classmethod
    def open_readonly(cls, root: str | os.PathLike[str]) -> RecordingIndex:
        """Open an existing index for queries only (a playback worker); never rebuilds."""
        root = Path(root)
        db = root / INDEX_NAME
        try:
            conn = sqlite3.connect(
                f"{db.as_uri()}?mode=ro", uri=True, check_same_thread=False, timeout=10.0
            )
            conn.execute("SELECT 1 FROM segments LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise RecordError(f"cannot read the recordings index {db}: {exc}") from None
        return cls(root, conn)

    def close(self) -> None:
        """Close the connection. Idempotent."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RecordingIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keeping it true -------------------------------------------------------------------

    def refresh(self) -> RefreshResult:
        """Bring the segment rows in line with the files: probe new and changed files, drop
        rows of files that are gone. Cheap when nothing changed (names, sizes, mtimes)."""
        on_disk: dict[str, tuple[Path, str, int, int]] = {}
        for seg in iter_segments(self.root):
            try:
                st = seg.path.stat()
            except FileNotFoundError:
                continue
            on_disk[self._rel(seg.path)] = (seg.path, seg.camera, st.st_size, st.st_mtime_ns)
        with self._lock:
            known = {
                row[0]: (row[1], row[2])
                for row in self._conn.execute("SELECT path, size, mtime_ns FROM segments")
            }
        todo = [
            (rel, entry) for rel, entry in on_disk.items() if known.get(rel) != (entry[2], entry[3])
        ]
        gone = [rel for rel in known if rel not in on_disk]
        added = changed = unreadable = 0
        rows: list[tuple[Any, ...]] = []
        with self._lock, self._conn:
            self._conn.executemany("DELETE FROM segments WHERE path = ?", [(r,) for r in gone])
        # Newest first, committed in batches: after a rebuild of a large folder the latest
        # recordings are reviewable long before the oldest are probed.
        todo.sort(key=lambda item: (item[1][0].parent.name, item[1][0].name[-20:]), reverse=True)
        for rel, (path, camera, size, mtime_ns) in todo:
            row = self._probe_row(rel, path, camera, size, mtime_ns)
            unreadable += not row[6]
            rows.append(row)
            if rel in known:
                changed += 1
            else:
                added += 1
            if len(rows) >= REFRESH_BATCH:
                self._upsert(rows)
        self._upsert(rows)
        if todo or gone:
            log.info(
                "recordings index of %s: %d added, %d changed, %d removed (%d unreadable)",
                self.root,
                added,
                changed,
                len(gone),
                unreadable,
            )
        return RefreshResult(added, changed, len(gone), unreadable)

    def _upsert(self, rows: list[tuple[Any, ...]]) -> None:
        """Write probed rows and empty the list."""
        if rows:
            with self._lock, self._conn:
                self._conn.executemany(_UPSERT, rows)
            rows.clear()

    def segment_closed(self, event: SegmentClosed | Path) -> SegmentRecord | None:
        """Index a segment the recorder has just finished (the runtime calls this for every
        ``SegmentClosed``; a path works too, also of a segment still being written: it is
        indexed as far as it is written). Returns its record, None if unreadable."""
        path = Path(event if isinstance(event, Path) else event.path)
        parsed = parse_segment_name(path.name)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        camera = parsed[0] if parsed is not None else safe_name(path.parent.parent.name)
        rel = self._rel(path)
        row = self._probe_row(rel, path, camera, st.st_size, st.st_mtime_ns)
        with self._lock, self._conn:
            self._conn.execute(_UPSERT, row)
        return self._record(row) if row[6] else None

    def refresh_open(self) -> int:
        """Re-index the segments being written right now (seen through :meth:`observe` as
        ``SegmentOpened``, not yet closed) up to their last complete fragment: the live edge
        of review. A runtime calls this every few seconds; returns how many it re-read."""
        with self._lock:
            paths = sorted(self._open_segments)
        count = 0
        for path in paths:
            if not path.exists():
                with self._lock:
                    self._open_segments.discard(path)
                continue
            self.segment_closed(path)  # the file as it is now
            count += 1
        return count

    def remove(self, paths: Iterable[Path]) -> None:
        """Forget deleted segment files (retention's ``on_deleted`` hook), and the recorded
        detections older than every segment still kept."""
        rels = [(self._rel(Path(p)),) for p in paths]
        with self._lock, self._conn:
            self._conn.executemany("DELETE FROM segments WHERE path = ?", rels)
            self._conn.execute(
                "DELETE FROM boxes WHERE time < "
                "(SELECT COALESCE(MIN(s.start), 0) FROM segments s WHERE s.camera = boxes.camera)"
            )

    def detection_result(self, result: DetectionResult, at: float | None = None) -> None:
        """Keep what the detector found in a frame (frames without detections are skipped);
        ``at``: the frame's wall-clock time (default: now, less how long ago it was captured)."""
        if not result.detections:
            return
        if at is None:
            at = time.time() - max(0.0, (time.monotonic_ns() - result.capture_ns) / 1e9)
        row = (
            safe_name(result.camera),
            at,
            result.width,
            result.height,
            json.dumps(result.detections),
        )
        with self._lock, self._conn:
            self._conn.execute("INSERT INTO boxes VALUES (?, ?, ?, ?, ?)", row)

    def detections(
        self, camera: str, start: float, end: float
    ) -> list[tuple[float, int, int, list[dict[str, Any]]]]:
        """Recorded detections of ``camera`` in [start, end): (time, width, height, boxes)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT time, width, height, detections FROM boxes "
                "WHERE camera = ? AND time >= ? AND time < ? ORDER BY time LIMIT 20000",
                (safe_name(camera), start, end),
            ).fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def add_event(self, event: RecordedEvent) -> RecordedEvent:
        """Store ``event`` (journal, then index); returns it with its row id."""
        event = _normal(event)
        journal.append(self.root, event.camera, event.start, {"op": "add", **_event_fields(event)})
        return self._insert_event(event)

    def track_event(self, event: TrackEvent) -> RecordedEvent | None:
        """Record a detection ``TrackEvent``: "appeared" opens an event, "left" closes it.
        Returns the stored (or closed) event."""
        camera = safe_name(event.camera)
        if event.kind == "appeared":
            return self.add_event(
                RecordedEvent(
                    camera,
                    "detection",
                    event.label,
                    event.time,
                    score=event.best_score,
                    snapshot=event.snapshot,
                    track_id=event.track_id,
                )
            )
        op = {
            "op": "end",
            "camera": camera,
            "track_id": event.track_id,
            "end": event.time,
            "score": event.best_score,
            "label": event.label,
        }
        journal.append(self.root, camera, event.time, op)
        return self._end_track(camera, event.track_id, event.time, event.best_score, event.label)

    def state_event(self, event: StateEvent) -> RecordedEvent | None:
        """Record a camera state change (capture ``StateEvent``) as a point event. Only what a
        timeline marks: streaming, lost, failed and stopped, each once per change (a camera
        retrying for hours does not fill the index). None if skipped."""
        state = str(event.state.value)
        camera = safe_name(event.camera)
        if state not in MARKED_STATES or self._last_state.get(camera) == state:
            return None
        self._last_state[camera] = state
        return self.add_event(
            RecordedEvent(camera, "state", state, event.at, event.at, detail=event.reason)
        )

    def camera_event(self, event: CameraEvent) -> RecordedEvent | None:
        """Record what a camera reported itself (ONVIF motion, tamper, inputs, line crossing)
        as a point event when it starts; its topic is kept as the detail. None if skipped."""
        if not event.active:
            return None
        when = event.time.timestamp() if event.time is not None else time.time()
        return self.add_event(
            RecordedEvent(
                safe_name(event.camera), "camera", event.kind.value, when, when, detail=event.topic
            )
        )

    def observe(self, payload: object) -> None:
        """Feed one runtime event payload; what the index keeps is taken, the rest ignored:
        ``SegmentClosed`` (or a capture ``RecordingEvent`` carrying one), a detection
        ``TrackEvent``, a capture ``StateEvent``, a camera's own ``CameraEvent``. Disk or
        database trouble is logged, never raised, so a runtime can call this for every event."""
        from camwall.capture.events import RecordingEvent, StateEvent
        from camwall.control.onvif.events import CameraEvent
        from camwall.detect.messages import DetectionResult, TrackEvent
        from camwall.record.events import SegmentClosed, SegmentOpened

        if isinstance(payload, RecordingEvent):
            payload = payload.record
        try:
            if isinstance(payload, SegmentOpened):
                with self._lock:
                    self._open_segments.add(Path(payload.path))
            elif isinstance(payload, SegmentClosed):
                with self._lock:
                    self._open_segments.discard(Path(payload.path))
                self.segment_closed(payload)
            elif isinstance(payload, TrackEvent):
                self.track_event(payload)
            elif isinstance(payload, StateEvent):
                self.state_event(payload)
            elif isinstance(payload, CameraEvent):
                self.camera_event(payload)
            elif isinstance(payload, DetectionResult):
                self.detection_result(payload)
        except (sqlite3.Error, OSError) as exc:
            log.warning("recordings index: cannot record %s: %s", type(payload).__name__, exc)

    # -- questions ---------------------------------------------------------------------------

    def cameras(self) -> list[str]:
        """Cameras with readable segments, by folder name."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT camera FROM segments WHERE ok ORDER BY camera"
            ).fetchall()
        return [r[0] for r in rows]

    def segments(
        self, camera: str | None = None, start: float | None = None, end: float | None = None
    ) -> list[SegmentRecord]:
        """Readable segments overlapping [start, end), by camera then time."""
        sql = f"SELECT {_COLUMNS} FROM segments WHERE ok"
        args: list[Any] = []
        if camera is not None:
            sql += " AND camera = ?"
            args.append(safe_name(camera))
        if start is not None:
            sql += ' AND "end" > ?'
            args.append(start)
        if end is not None:
            sql += " AND start < ?"
            args.append(end)
        sql += " ORDER BY camera, start"
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [self._record(r) for r in rows]

    def segment_at(self, camera: str, t: float) -> SegmentRecord | None:
        """The segment of ``camera`` holding instant ``t`` (the later one where two overlap)."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM segments WHERE ok AND camera = ? AND start <= ? "
                'AND "end" > ? ORDER BY start DESC LIMIT 1',
                (safe_name(camera), t, t),
            ).fetchone()
        return None if row is None else self._record(row)

    def segment_after(self, camera: str, t: float) -> SegmentRecord | None:
        """The first segment of ``camera`` starting after ``t``."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM segments WHERE ok AND camera = ? AND start > ? "
                "ORDER BY start LIMIT 1",
                (safe_name(camera), t),
            ).fetchone()
        return None if row is None else self._record(row)

    def segment_before(self, camera: str, t: float) -> SegmentRecord | None:
        """The last segment of ``camera`` starting before ``t``."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM segments WHERE ok AND camera = ? AND start < ? "
                "ORDER BY start DESC LIMIT 1",
                (safe_name(camera), t),
            ).fetchone()
        return None if row is None else self._record(row)

    def spans(
        self,
        camera: str,
        start: float | None = None,
        end: float | None = None,
        join_gap: float = JOIN_GAP_S,
    ) -> list[tuple[float, float]]:
        """Recorded time of ``camera`` in [start, end) as merged (start, end) spans: what a
        timeline draws; the holes between them are gaps."""
        out: list[tuple[float, float]] = []
        for seg in self.segments(camera, start, end):
            if out and seg.start <= out[-1][1] + join_gap:
                out[-1] = (out[-1][0], max(out[-1][1], seg.end))
            else:
                out.append((seg.start, seg.end))
        return out

    def events(
        self,
        camera: str | None = None,
        start: float | None = None,
        end: float | None = None,
        *,
        labels: Sequence[str] | None = None,
        kind: EventKind | None = None,
    ) -> list[RecordedEvent]:
        """Events overlapping [start, end), oldest first, optionally of some labels or kind."""
        sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE 1"
        args: list[Any] = []
        if camera is not None:
            sql += " AND camera = ?"
            args.append(safe_name(camera))
        if start is not None:
            sql += ' AND coalesce("end", start) >= ?'
            args.append(start)
        if end is not None:
            sql += " AND start < ?"
            args.append(end)
        if labels:
            sql += f" AND label IN ({','.join('?' * len(labels))})"
            args.extend(labels)
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY start, id"
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [_event(r) for r in rows]

    # -- internals ---------------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def _probe_row(
        self, rel: str, path: Path, camera: str, size: int, mtime_ns: int
    ) -> tuple[Any, ...]:
        probe = probe_segment(path)
        if probe is None:
            parsed = parse_segment_name(path.name)
            start = parsed[1].timestamp() if parsed is not None else 0.0
            return (rel, camera, start, start, size, mtime_ns, 0, "", 0, 0, 0, 0, 0, 1, 1)
        tb = probe.time_base
        return (
            rel,
            camera,
            probe.start,
            probe.end,
            size,
            mtime_ns,
            1,
            probe.codec,
            probe.width,
            probe.height,
            probe.frames,
            probe.keyframes,
            probe.first_pts,
            tb.numerator,
            tb.denominator,
        )

    def _record(self, row: Sequence[Any]) -> SegmentRecord:
        rel = Path(row[0])
        return SegmentRecord(
            path=rel if rel.is_absolute() else self.root / rel,
            camera=row[1],
            start=row[2],
            end=row[3],
            size=row[4],
            codec=row[7],
            width=row[8],
            height=row[9],
            frames=row[10],
            keyframes=row[11],
            first_pts=row[12],
            time_base=Fraction(row[13], row[14]),
        )

    def _insert_event(self, event: RecordedEvent) -> RecordedEvent:
        fields = _event_fields(event)
        with self._lock, self._conn:
            cur = self._conn.execute(
                'INSERT INTO events (camera, kind, label, start, "end", score, snapshot, '
                "track_id, detail) VALUES (:camera, :kind, :label, :start, :end, :score, "
                ":snapshot, :track_id, :detail)",
                fields,
            )
        return RecordedEvent(**{**fields, "id": cur.lastrowid})

    def _end_track(
        self, camera: str, track_id: int, end: float, score: float | None, label: str
    ) -> RecordedEvent | None:
        with self._lock, self._conn:
            row = self._conn.execute(
                "SELECT id FROM events WHERE camera = ? AND track_id = ? AND kind = 'detection' "
                'AND "end" IS NULL AND start <= ? ORDER BY start DESC LIMIT 1',
                (camera, track_id, end),
            ).fetchone()
            if row is None:
                # The "appeared" was never seen (index created mid-track): a point event.
                cur = self._conn.execute(
                    'INSERT INTO events (camera, kind, label, start, "end", score, track_id) '
                    "VALUES (?, 'detection', ?, ?, ?, ?, ?)",
                    (camera, label, end, end, score, track_id),
                )
                event_id = cur.lastrowid
            else:
                event_id = row[0]
                self._conn.execute(
                    'UPDATE events SET "end" = ?, score = max(coalesce(score, 0), ?) WHERE id = ?',
                    (end, score or 0.0, event_id),
                )
            stored = self._conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)
            ).fetchone()
        return None if stored is None else _event(stored)

    def _replay_journals(self) -> None:
        """Re-enter the events of every journal (a rebuilt index), once: two processes that
        both find the index missing must not both replay."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            done = self._conn.execute("SELECT 1 FROM meta WHERE key = 'replayed'").fetchone()
            if done is None:
                self._conn.execute("INSERT INTO meta VALUES ('replayed', '1')")
            self._conn.commit()
        if done is not None:
            return
        count = 0
        for path in sorted(journal.journals(self.root)):
            for op in journal.read_journal(path):
                try:
                    if op.get("op") == "add":
                        fields: dict[str, Any] = {k: op.get(k) for k in _EVENT_KEYS}
                        fields["detail"] = fields["detail"] or ""
                        self._insert_event(RecordedEvent(**fields))
                    elif op.get("op") == "end":
                        self._end_track(
                            str(op["camera"]),
                            int(op["track_id"]),
                            float(op["end"]),
                            op.get("score"),
                            str(op.get("label", "")),
                        )
                    count += 1
                except (KeyError, TypeError, ValueError) as exc:
                    log.debug("skipping a bad journal line in %s: %s", path, exc)
        if count:
            log.info("recordings index: %d events replayed from the journals", count)


_COLUMNS = (
    'path, camera, start, "end", size, mtime_ns, ok, codec, width, height, frames, keyframes, '
    "first_pts, tb_num, tb_den"
)
_UPSERT = f"INSERT OR REPLACE INTO segments ({_COLUMNS}) VALUES ({','.join('?' * 15)})"
_EVENT_KEYS = ("camera", "kind", "label", "start", "end", "score", "snapshot", "track_id", "detail")
_EVENT_COLUMNS = 'id, camera, kind, label, start, "end", score, snapshot, track_id, detail'


def _event(row: Sequence[Any]) -> RecordedEvent:
    return RecordedEvent(
        id=row[0],
        camera=row[1],
        kind=row[2],
        label=row[3],
        start=row[4],
        end=row[5],
        score=row[6],
        snapshot=row[7],
        track_id=row[8],
        detail=row[9],
    )


def _normal(event: RecordedEvent) -> RecordedEvent:
    fields = _event_fields(event)
    fields["camera"] = safe_name(event.camera)
    return RecordedEvent(**fields)


def _event_fields(event: RecordedEvent) -> dict[str, Any]:
    return {k: getattr(event, k) for k in _EVENT_KEYS}


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, check_same_thread=False, timeout=10.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _create(conn: sqlite3.Connection) -> None:
    with conn:
        conn.executescript(_SCHEMA)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))


def _check(conn: sqlite3.Connection) -> None:
    """Raise sqlite3.DatabaseError unless ``conn`` is an intact index of this version."""
    result = conn.execute("PRAGMA quick_check").fetchall()
    if result != [("ok",)]:
        raise sqlite3.DatabaseError(f"integrity check failed: {result[:3]}")
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is None or row[0] != str(SCHEMA_VERSION):
        raise sqlite3.DatabaseError(f"schema version {row and row[0]}, expected {SCHEMA_VERSION}")
    conn.execute(f"SELECT {_COLUMNS} FROM segments LIMIT 1").fetchall()
    conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events LIMIT 1").fetchall()


def _move_aside(db: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = db.with_name(f"{db.name}.corrupt-{stamp}")
    try:
        db.replace(target)
    except OSError as exc:
        raise RecordError(f"cannot move the corrupt recordings index {db} aside: {exc}") from None
    for suffix in ("-wal", "-shm"):
        # The write-ahead log belongs to the broken file; a new index must not replay it.
        with contextlib.suppress(OSError):
            db.with_name(db.name + suffix).replace(target.with_name(target.name + suffix))
    return target
