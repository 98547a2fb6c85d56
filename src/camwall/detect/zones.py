"""Zones: named polygons of a camera with rules, and the entered/left events of tracks in them.

Points are stored normalised (0..1 of the frame's width and height), so one zone fits the
main stream, the substream and the detect-sized frame alike; :meth:`Zone.polygon` maps it to
whatever size is in use.

A track is *in* a zone when the bottom centre of its box (where a person's feet or a car's
wheels touch the ground, as in Frigate) lies inside or on the polygon. It has *entered* once
it has stayed in for ``min_seconds`` (a brief touch sends nothing) and *left* when its point
is outside again, or when the tracker drops the track. Zones are evaluated after tracking,
on confirmed tracks only, so a one-frame false positive never enters anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from camwall.detect.messages import BoxTuple, ZoneEvent
from camwall.errors import ConfigError

Point = tuple[float, float]
_ZONE_KEYS = frozenset({"name", "points", "labels", "min_seconds"})


def bottom_centre(box: Sequence[float]) -> Point:
    """The point of an xyxy box that counts for zones: the middle of its bottom edge."""
    return ((float(box[0]) + float(box[2])) / 2.0, float(box[3]))


def normalised_points(
    raw: object, *, what: str, key: str, min_points: int = 3
) -> tuple[Point, ...]:
    """Validate a list of [x, y] pairs in 0..1; ConfigError naming ``key`` otherwise."""
    if not isinstance(raw, list | tuple) or len(raw) < min_points:
        raise ConfigError(
            f"{what} needs a list of at least {min_points} [x, y] points, got {raw!r}", key=key
        )
    points: list[Point] = []
    for i, p in enumerate(raw):
        if (
            not isinstance(p, list | tuple)
            or len(p) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
        ):
            raise ConfigError(f"point {i} of {what} must be [x, y] numbers, not {p!r}", key=key)
        x, y = float(p[0]), float(p[1])
        if not (math.isfinite(x) and math.isfinite(y) and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ConfigError(
                f"point {i} of {what} is {[x, y]}; coordinates are fractions of the frame "
                "(0..1, from the top-left corner)",
                key=key,
            )
        points.append((x, y))
    return tuple(points)


@dataclass(frozen=True)
class Zone:
    """A named polygon (normalised points) with the labels that count and a minimum stay."""

    name: str
    points: tuple[Point, ...]
    labels: frozenset[str] | None = None
    min_seconds: float = 0.0
    # Derived from points: equal zones are equal whatever the array's identity.
    _array: npt.NDArray[np.float32] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate name, points (≥3, in 0..1) and rules; ConfigError names the key at fault."""
        key = f"zones.{self.name}" if self.name else "zones"
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError("a zone needs a non-empty name", key="zones.name")
        points = normalised_points(list(self.points), what=f"zone {self.name!r}", key=key)
        object.__setattr__(self, "points", points)
        if not (isinstance(self.min_seconds, int | float) and 0 <= self.min_seconds < math.inf):
            raise ConfigError(
                f"min_seconds must be a number of seconds ≥ 0, not {self.min_seconds!r}",
                key=f"{key}.min_seconds",
            )
        labels: object = self.labels
        if labels is not None:
            if (
                not isinstance(labels, Iterable)
                or isinstance(labels, str)
                or not all(isinstance(s, str) for s in labels)
            ):
                raise ConfigError(
                    f"labels must be a list of label names, not {self.labels!r}",
                    key=f"{key}.labels",
                )
            object.__setattr__(self, "labels", frozenset(labels))
        object.__setattr__(self, "_array", np.asarray(points, np.float32))

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> Zone:
        """A zone from one ``[[cameras.zones]]`` TOML table (name, points, labels, min_seconds)."""
        if not isinstance(table, Mapping):
            raise ConfigError(f"a zone must be a table, not {table!r}", key="zones")
        name = table.get("name")
        key = f"zones.{name}" if isinstance(name, str) and name else "zones"
        unknown = sorted(set(table) - _ZONE_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown key(s) {', '.join(unknown)}; a zone has {', '.join(sorted(_ZONE_KEYS))}",
                key=key,
            )
        if not isinstance(name, str):
            raise ConfigError("a zone needs a name (a string)", key="zones.name")
        labels = table.get("labels")
        if labels is not None and (
            not isinstance(labels, list | tuple) or not all(isinstance(s, str) for s in labels)
        ):
            raise ConfigError(
                f"labels must be a list of label names, not {labels!r}", key=f"{key}.labels"
            )
        return cls(
            name=name,
            points=normalised_points(table.get("points"), what=f"zone {name!r}", key=key),
            labels=None if labels is None else frozenset(labels),
            min_seconds=table.get("min_seconds", 0.0),
        )

    def to_table(self) -> dict[str, Any]:
        """The inverse of :meth:`from_table` (for saving to TOML)."""
        out: dict[str, Any] = {"name": self.name, "points": [[x, y] for x, y in self.points]}
        if self.labels is not None:
            out["labels"] = sorted(self.labels)
        if self.min_seconds:
            out["min_seconds"] = self.min_seconds
        return out

    @classmethod
    def from_pixels(
        cls,
        name: str,
        points: Iterable[Sequence[float]],
        size: tuple[int, int],
        **rules: Any,
    ) -> Zone:
        """A zone from points drawn in pixels of a frame of ``size`` (w, h)."""
        w, h = size
        if w <= 0 or h <= 0:
            raise ValueError(f"frame size must be positive, not {size}")
        pts = tuple((min(1.0, max(0.0, p[0] / w)), min(1.0, max(0.0, p[1] / h))) for p in points)
        return cls(name, pts, **rules)

    def counts(self, label: str) -> bool:
        """Whether tracks of ``label`` count in this zone."""
        return self.labels is None or label in self.labels

    def polygon(self, width: int, height: int) -> npt.NDArray[np.float32]:
        """The polygon in pixels of a width×height frame (N×2 float32)."""
        poly: npt.NDArray[np.float32] = self._array * np.array([width, height], np.float32)
        return poly

    def contains(self, point: Point, width: int, height: int) -> bool:
        """Whether a pixel point of a width×height frame is inside or on the polygon."""
        contour = self.polygon(width, height).reshape(-1, 1, 2)
        return bool(cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0)


class TrackLike(Protocol):
    """What zones read of a track (an :class:`~camwall.detect.tracker.Track` fits)."""

    @property
    def track_id(self) -> int:
        """The track's id."""
        ...

    @property
    def label(self) -> str:
        """Its label."""
        ...

    @property
    def box(self) -> BoxTuple:
        """Its last box, xyxy pixels."""
        ...


@dataclass
class _Presence:
    since: float
    entered: bool = False
    label: str = ""
    box: BoxTuple = (0.0, 0.0, 0.0, 0.0)


class ZoneTracker:
    """Entered/left events of one camera's zones; ``update`` after each tracker update."""

    def __init__(self, camera: str, zones: Iterable[Zone]) -> None:
        """Watch ``zones`` (names must be unique) of ``camera``."""
        self.camera = camera
        self.zones = tuple(zones)
        names = [z.name for z in self.zones]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"zone names must be unique per camera; repeated: {', '.join(dup)}")
        self._inside: dict[tuple[str, int], _Presence] = {}

    def update(
        self,
        tracks: Iterable[TrackLike],
        width: int,
        height: int,
        *,
        now: float,
        capture_ns: int = 0,
        seq: int = 0,
    ) -> list[ZoneEvent]:
        """Events caused by the current ``tracks`` (confirmed ones) in a width×height frame.

        A track missing from ``tracks`` that was inside a zone has left it.
        """
        events: list[ZoneEvent] = []
        seen: set[tuple[str, int]] = set()
        for t in tracks:
            point = bottom_centre(t.box)
            for zone in self.zones:
                if not zone.counts(t.label) or not zone.contains(point, width, height):
                    continue
                key = (zone.name, t.track_id)
                seen.add(key)
                p = self._inside.get(key)
                if p is None:
                    p = self._inside[key] = _Presence(now)
                p.label, p.box = t.label, t.box
                if not p.entered and now - p.since >= zone.min_seconds:
                    p.entered = True
                    events.append(
                        ZoneEvent(
                            kind="entered",
                            camera=self.camera,
                            zone=zone.name,
                            label=t.label,
                            track_id=t.track_id,
                            time=now,
                            inside_since=p.since,
                            capture_ns=capture_ns,
                            seq=seq,
                            box=t.box,
                        )
                    )
        for key in [k for k in self._inside if k not in seen]:
            p = self._inside.pop(key)
            if p.entered:
                events.append(
                    ZoneEvent(
                        kind="left",
                        camera=self.camera,
                        zone=key[0],
                        label=p.label,
                        track_id=key[1],
                        time=now,
                        inside_since=p.since,
                        capture_ns=capture_ns,
                        seq=seq,
                        box=p.box,
                    )
                )
        return events

    def occupancy(self) -> dict[str, list[int]]:
        """Per zone, the ids of tracks that have entered and not left."""
        out: dict[str, list[int]] = {z.name: [] for z in self.zones}
        for (zone, track_id), p in self._inside.items():
            if p.entered:
                out[zone].append(track_id)
        return out
