"""False-positive controls: N of M frames, minimum area, stationary-object suppression."""

from __future__ import annotations

import numpy as np
import pytest

from camwall.detect import Detections, IoUTracker, ObjectFilter, TrackerConfig, TrackEvent

CAR = (400.0, 300.0, 600.0, 400.0)


def one(label: str, box: tuple[float, float, float, float], score: float = 0.9) -> Detections:
    return Detections.build([box], [score], [0], [label])


def kinds(events: list[TrackEvent]) -> list[str]:
    return [e.kind for e in events]


def test_n_of_m_frames() -> None:
    cfg = TrackerConfig(history=1, min_hits=3, hit_window=5, max_missed=3)
    tr = IoUTracker("cam", cfg)
    box = (10.0, 10.0, 60.0, 110.0)
    seen = [True, False, True, False, True]  # 3 of 5: appears on the fifth update
    events = [
        tr.update(one("person", box) if s else Detections.empty(), now=i)
        for i, s in enumerate(seen)
    ]
    assert [len(e) for e in events] == [0, 0, 0, 0, 1]
    # 2 of 5 never appears: a flicker.
    tr = IoUTracker("cam", cfg)
    flicker = [True, False, False, True, False, False]
    events = [
        tr.update(one("dog", box) if s else Detections.empty(), now=i)
        for i, s in enumerate(flicker)
    ]
    assert sum(len(e) for e in events) == 0
    # The default (1 of 1) keeps the old behaviour: one good frame is enough with history 1.
    assert kinds(IoUTracker("cam", TrackerConfig(history=1)).update(one("dog", box))) == [
        "appeared"
    ]
    with pytest.raises(ValueError, match="N of M"):
        TrackerConfig(min_hits=4, hit_window=3)


def test_minimum_area_in_pixels_and_as_a_fraction_of_the_frame() -> None:
    dets = Detections.build(
        [[0, 0, 10, 10], [0, 0, 40, 40], [0, 0, 100, 100]], [0.9] * 3, [0] * 3, ["bird"] * 3
    )
    assert len(ObjectFilter(min_area={"*": 500}).apply(dets)) == 2
    frac = ObjectFilter(min_area_fraction={"bird": 0.01})  # 1 % of the frame
    assert frac.apply(dets, (200, 200)).boxes[:, 2].tolist() == [40.0, 100.0]  # ≥ 400 px²
    assert frac.apply(dets, (1000, 1000)).boxes[:, 2].tolist() == [100.0]  # ≥ 10,000 px²
    with pytest.raises(ValueError, match="needs the frame size"):
        frac.apply(dets)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        ObjectFilter(min_area_fraction={"*": 2.0})


def test_a_parked_car_is_one_event_not_one_a_minute() -> None:
    cfg = TrackerConfig(history=1, max_missed=3, stationary_seconds=20, stationary_grace_s=300)
    tr = IoUTracker("street", cfg)
    events: list[TrackEvent] = []
    rng = np.random.default_rng(1)
    t = 0.0
    # Ten minutes at 1 detection a second; the detector misses the car for 5-20 s every minute.
    while t < 600:
        missing = (t % 60) >= 60 - rng.integers(5, 21)
        jitter = rng.normal(0, 1.0, 4)
        box = tuple(float(v) for v in np.asarray(CAR) + jitter)
        events += tr.update(Detections.empty() if missing else one("car", box), now=t)
        t += 1.0
    assert kinds(events) == ["appeared"]
    (track,) = tr.tracks
    assert track.stationary
    # It drives off: the track moves, stops being stationary, and is left max_missed later.
    for i in range(1, 6):
        events += tr.update(one("car", (400.0 + 60 * i, 300.0, 600.0 + 60 * i, 400.0)), now=t)
        t += 1
    assert not tr.tracks[0].stationary
    for _ in range(3):
        events += tr.update(Detections.empty(), now=t)
        t += 1
    assert kinds(events) == ["appeared", "left"]


def test_without_stationary_suppression_the_same_car_flaps() -> None:
    # The baseline the previous test improves on: a moving-object tracker sees the misses as
    # the car leaving and coming back.
    cfg = TrackerConfig(history=1, max_missed=3, stationary_seconds=1e9)
    tr = IoUTracker("street", cfg)
    events: list[TrackEvent] = []
    for t in range(300):
        missing = (t % 60) >= 50
        events += tr.update(Detections.empty() if missing else one("car", CAR), now=float(t))
    assert kinds(events).count("appeared") == 5


def test_a_stationary_track_that_is_gone_longer_than_the_grace_leaves() -> None:
    cfg = TrackerConfig(history=1, max_missed=2, stationary_seconds=5, stationary_grace_s=30)
    tr = IoUTracker("street", cfg)
    events: list[TrackEvent] = []
    for t in range(10):
        events += tr.update(one("car", CAR), now=float(t))
    assert tr.tracks[0].stationary
    for t in range(10, 45):
        ev = tr.update(Detections.empty(), now=float(t))
        if ev:
            left_at = t
        events += ev
    assert kinds(events) == ["appeared", "left"]
    assert left_at == 40  # last seen at 9, grace 30 s: gone once more than 30 s have passed
