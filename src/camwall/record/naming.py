"""Where segments live and what they are called.

Layout under the recording folder, one folder per camera and UTC day::

    <dir>/frontdoor/2026-11-26/frontdoor_20261126T104800Z.mp4
    <dir>/frontdoor/2026-11-26/frontdoor_20261126T104800Z-1.mp4   (same second, rare)

The name carries the sanitised camera name and the UTC time the segment started. Retention
only ever touches files that match this layout exactly — a camera folder whose name is a
possible :func:`~camwall.config.names.safe_name`, a day folder, a file named for that camera
and a start time within that day, a regular file (never a symlink) — so pointing ``dir`` at a
folder holding other files cannot delete them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from camwall.config.names import SAFE_NAME, safe_name

SUFFIX = ".mp4"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
DAY_FORMAT = "%Y-%m-%d"
_NAME = re.compile(
    r"^(?P<camera>[a-z0-9][a-z0-9_-]{0,63})_(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>[1-9]\d{0,5}))?\.mp4$"
)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The MP4 ``comment`` tag carries the exact wall-clock start (the name has whole seconds only).
START_TAG = "camwall start="


def segment_dir(root: Path, camera: str, start: datetime) -> Path:
    """The folder for a segment of ``camera`` starting at ``start`` (UTC)."""
    return root / safe_name(camera) / start.astimezone(UTC).strftime(DAY_FORMAT)


def segment_filename(camera: str, start: datetime, n: int = 0) -> str:
    """``frontdoor_20261126T104800Z.mp4``; ``n`` > 0 appends ``-n`` (a second segment that second)."""
    stamp = start.astimezone(UTC).strftime(STAMP_FORMAT)
    return f"{safe_name(camera)}_{stamp}{f'-{n}' if n else ''}{SUFFIX}"


def start_comment(start: datetime) -> str:
    """``camwall start=2026-11-26T10:48:00.123456+00:00``: the segment's first frame, UTC."""
    return START_TAG + start.astimezone(UTC).isoformat(timespec="microseconds")


def parse_start_comment(text: str | None) -> datetime | None:
    """The start written by :func:`start_comment`, or None if ``text`` holds none."""
    if not text or not text.startswith(START_TAG):
        return None
    try:
        start = datetime.fromisoformat(text[len(START_TAG) :].strip())
    except ValueError:
        return None
    return start if start.tzinfo is not None else start.replace(tzinfo=UTC)


@dataclass(frozen=True, order=True)
class SegmentInfo:
    """A segment file found on disk; orders oldest first."""

    start: datetime
    n: int
    path: Path
    camera: str
    size: int


def parse_segment_name(name: str) -> tuple[str, datetime, int] | None:
    """(sanitised camera, UTC start, n) for a segment file name, or None if it is not one."""
    match = _NAME.match(name)
    if match is None:
        return None
    try:
        start = datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return match["camera"], start, int(match["n"] or 0)


def iter_segments(root: Path) -> Iterator[SegmentInfo]:
    """Every segment file under ``root`` laid out as described above (any order)."""
    for cam_dir in _subdirs(root):
        if not SAFE_NAME.match(cam_dir.name):
            continue
        for day_dir in _subdirs(cam_dir):
            if not _DAY.match(day_dir.name):
                continue
            try:
                entries = list(os.scandir(day_dir))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                parsed = parse_segment_name(entry.name)
                if parsed is None or parsed[0] != cam_dir.name:
                    continue
                if parsed[1].strftime(DAY_FORMAT) != day_dir.name:
                    continue  # camwall files a segment under the day it started
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    size = entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    continue  # deleted meanwhile
                yield SegmentInfo(parsed[1], parsed[2], Path(entry.path), parsed[0], size)


def _subdirs(path: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []
