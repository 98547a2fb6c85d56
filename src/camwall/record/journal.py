"""The event journal: every indexed event also goes to ``<dir>/<camera>/events-<UTC date>.jsonl``.

Segments carry their own facts; events have no other home on disk, so a rebuilt index
replays these files. One JSON object a line: ``{"op": "add", <event fields>}`` or
``{"op": "end", "camera", "track_id", "end", "score", "label"}`` (a track left).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from camwall.record.naming import DAY_FORMAT

log = logging.getLogger(__name__)

PREFIX = "events-"


def append(root: Path, camera: str, t: float, op: dict[str, Any]) -> None:
    """Append ``op`` to ``camera``'s journal of the UTC day of ``t`` (logs, never raises)."""
    day = datetime.fromtimestamp(t, UTC).strftime(DAY_FORMAT)
    folder = root / camera
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{PREFIX}{day}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(op, separators=(",", ":")) + "\n")
    except OSError as exc:
        # The index row is still written; only a rebuild would lose this event.
        log.warning("cannot append to the event journal in %s: %s", folder, exc)


def journals(root: Path) -> Iterator[Path]:
    """Every journal file under ``root``."""
    try:
        cams = [Path(e.path) for e in os.scandir(root) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for cam in cams:
        yield from cam.glob(f"{PREFIX}*.jsonl")


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """The operations in one journal, skipping lines a crash cut short."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    op = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash
                if isinstance(op, dict):
                    yield op
    except OSError as exc:
        log.warning("cannot read the event journal %s: %s", path, exc)
