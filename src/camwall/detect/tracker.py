"""A small IoU tracker that turns per-frame detections into ``appeared`` / ``left`` events.

Matching is greedy by IoU within each label. A track counts (and ``appeared`` is sent) only
once the median of its last ``history`` scores passes the label's ``confirm_score`` — frames
where the track was not seen count as 0, and a young track's history is padded with zeros, so
a one-frame spike (median of [0.9, 0, 0] = 0) never appears; with ``min_hits`` / ``hit_window``
it must also have been seen in N of its last M updates. A confirmed track that goes unseen
for ``max_missed`` consecutive updates sends ``left``.

Stationary objects: a track whose box barely moves (IoU with where it settled ≥
``stationary_iou``) for ``stationary_seconds`` becomes *stationary*. A stationary track that
goes unseen is kept for ``stationary_grace_s`` seconds instead of ``max_missed`` updates, so
a parked car the detector misses now and then is not ``left`` and ``appeared`` again every
minute: a detection on its box continues the same track, with no new event. A stationary
track that moves off again is an ordinary track (it already appeared; nothing is re-sent). When the caller examined only
part of the frame (motion-gated detection), tracks outside that part are not aged: nobody
looked, so nobody may say they left.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from camwall.detect.detections import Detections, box_iou
from camwall.detect.filters import per_label
from camwall.detect.messages import BoxTuple, TrackEvent

Region = tuple[int, int, int, int]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker tuning; ``confirm_score`` is per label with ``"*"`` as the default."""

    iou_threshold: float = 0.3
    max_missed: int = 5
    history: int = 3
    confirm_score: Mapping[str, float] = field(default_factory=lambda: {"*": 0.5})
    min_hits: int = 1
    hit_window: int = 1
    stationary_seconds: float = 30.0
    stationary_iou: float = 0.85
    stationary_grace_s: float = 120.0

    def __post_init__(self) -> None:
        """Reject values that cannot work."""
        if not 0.0 < self.iou_threshold <= 1.0:
            raise ValueError(f"tracker iou_threshold must be in (0, 1], not {self.iou_threshold}")
        if self.max_missed < 1 or self.history < 1:
            raise ValueError("tracker max_missed and history must be at least 1")
        if not 1 <= self.min_hits <= self.hit_window:
            raise ValueError(
                f"tracker needs 1 ≤ min_hits ≤ hit_window (N of M frames), not "
                f"{self.min_hits} of {self.hit_window}"
            )
        if not 0.0 < self.stationary_iou <= 1.0:
            raise ValueError(f"stationary_iou must be in (0, 1], not {self.stationary_iou}")
        if self.stationary_seconds <= 0 or self.stationary_grace_s < 0:
            raise ValueError("stationary_seconds must be > 0 and stationary_grace_s ≥ 0")
        for label, v in self.confirm_score.items():
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"confirm_score for {label!r} must be 0..1, not {v}")


@dataclass
class Track:
    """One object followed across frames."""

    track_id: int
    label: str
    box: BoxTuple
    scores: deque[float]
    best_score: float
    confirmed: bool = False
    missed: int = 0
    hits: int = 1
    seen: deque[bool] = field(default_factory=lambda: deque([True]))
    anchor: BoxTuple = (0.0, 0.0, 0.0, 0.0)
    anchor_since: float = 0.0
    last_seen: float = 0.0
    stationary: bool = False

    def median(self, history: int) -> float:
        """Median of the last ``history`` scores, padded with zeros when younger than that."""
        values = list(self.scores) + [0.0] * (history - len(self.scores))
        return float(np.median(values))


_ids = itertools.count(1)


class IoUTracker:
    """Tracks of one camera. ``update`` once per detector run, in frame order."""

    def __init__(
        self,
        camera: str,
        config: TrackerConfig | None = None,
        *,
        ids: Iterator[int] | None = None,
    ) -> None:
        """Track objects of ``camera``; ``ids`` yields track ids (default: process-wide 1, 2, …)."""
        self.camera = camera
        self.config = config or TrackerConfig()
        self._ids = ids if ids is not None else _ids
        self.tracks: list[Track] = []

    def update(
        self,
        detections: Detections,
        *,
        seq: int = 0,
        capture_ns: int = 0,
        region: Region | Literal["full"] | None = "full",
        now: float | None = None,
        snapshot: Callable[[TrackEvent], str | None] | None = None,
    ) -> list[TrackEvent]:
        """Match ``detections`` to tracks; return the events this frame caused.

        ``region``: the frame area that was examined — ``"full"`` (default) for the whole
        frame, a box for a crop, None when nothing was examined (no track ages).
        ``snapshot`` is called for each ``appeared`` event; it returns a path or None.
        """
        cfg = self.config
        when = time.time() if now is None else now
        events: list[TrackEvent] = []
        n_t, n_d = len(self.tracks), len(detections)
        matched_t: set[int] = set()
        matched_d: set[int] = set()
        if n_t and n_d:
            iou = box_iou(np.asarray([t.box for t in self.tracks], np.float32), detections.boxes)
            same = np.array(
                [[t.label == d for d in detections.labels] for t in self.tracks], np.bool_
            )
            iou = np.where(same, iou, 0.0)
            order = np.dstack(np.unravel_index(np.argsort(-iou, axis=None), iou.shape))[0]
            for ti, di in order.tolist():
                if iou[ti, di] < cfg.iou_threshold:
                    break
                if ti in matched_t or di in matched_d:
                    continue
                matched_t.add(ti)
                matched_d.add(di)
                t = self.tracks[ti]
                score = float(detections.scores[di])
                t.box = _box(detections.boxes[di])
                t.scores.append(score)
                t.best_score = max(t.best_score, score)
                t.missed = 0
                t.hits += 1
                t.seen.append(True)
                t.last_seen = when
                self._settle(t, when)
        for ti, t in enumerate(self.tracks):
            if ti in matched_t or not _examined(t.box, region):
                continue
            t.missed += 1
            t.scores.append(0.0)
            t.seen.append(False)
        for di in range(n_d):
            if di in matched_d:
                continue
            score = float(detections.scores[di])
            box = _box(detections.boxes[di])
            self.tracks.append(
                Track(
                    next(self._ids),
                    detections.labels[di],
                    box,
                    deque([score], maxlen=cfg.history),
                    score,
                    seen=deque([True], maxlen=cfg.hit_window),
                    anchor=box,
                    anchor_since=when,
                    last_seen=when,
                )
            )
        kept: list[Track] = []
        for t in self.tracks:
            if self._gone(t, when):
                if t.confirmed:
                    events.append(self._event("left", t, when, capture_ns, seq))
                continue
            kept.append(t)
            if not t.confirmed and t.missed == 0:
                threshold = per_label(cfg.confirm_score, t.label, 0.5)
                if t.median(cfg.history) >= threshold and sum(t.seen) >= cfg.min_hits:
                    t.confirmed = True
                    ev = self._event("appeared", t, when, capture_ns, seq)
                    if snapshot is not None:
                        ev = _with_snapshot(ev, snapshot(ev))
                    events.append(ev)
        self.tracks = kept
        return events

    def _settle(self, t: Track, when: float) -> None:
        """Follow whether a matched track stays put (becomes stationary) or moves."""
        cfg = self.config
        still = (
            box_iou(np.asarray([t.box], np.float32), np.asarray([t.anchor], np.float32))[0, 0]
            >= cfg.stationary_iou
        )
        if still:
            if not t.stationary and when - t.anchor_since >= cfg.stationary_seconds:
                t.stationary = True
                log.debug("%s: %s #%d is stationary", self.camera, t.label, t.track_id)
        else:
            t.anchor, t.anchor_since, t.stationary = t.box, when, False

    def _gone(self, t: Track, when: float) -> bool:
        if t.missed == 0:
            return False
        if t.stationary and t.confirmed:
            # A parked object the detector misses for a while is still parked.
            return when - t.last_seen > self.config.stationary_grace_s
        return t.missed >= self.config.max_missed

    def _event(
        self, kind: Literal["appeared", "left"], t: Track, when: float, capture_ns: int, seq: int
    ) -> TrackEvent:
        return TrackEvent(
            kind,
            self.camera,
            t.label,
            t.track_id,
            when,
            capture_ns,
            seq,
            t.box,
            round(t.best_score, 4),
        )

    @property
    def confirmed(self) -> list[Track]:
        """Tracks that have appeared and not left."""
        return [t for t in self.tracks if t.confirmed]


def _box(b: np.ndarray) -> BoxTuple:
    x0, y0, x1, y1 = (round(float(v), 2) for v in b)
    return (x0, y0, x1, y1)


def _examined(box: BoxTuple, region: Region | Literal["full"] | None) -> bool:
    if region == "full":
        return True
    if region is None:
        return False
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def _with_snapshot(ev: TrackEvent, path: str | None) -> TrackEvent:
    if path is None:
        return ev
    return dataclasses.replace(ev, snapshot=path)
