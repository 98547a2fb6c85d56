"""The IoU tracker: appeared/left events, the median-score gate, examined regions."""

from __future__ import annotations

import json

import numpy as np

from camwall.detect import Detections, IoUTracker, TrackerConfig, TrackEvent


def dets(*items: tuple[str, float, tuple[float, float, float, float]]) -> Detections:
    if not items:
        return Detections.empty()
    return Detections.build(
        [b for _, _, b in items],
        [s for _, s, _ in items],
        [0] * len(items),
        [n for n, _, _ in items],
    )


def walk(x: float) -> tuple[float, float, float, float]:
    return (x, 100.0, x + 50.0, 220.0)


def kinds(events: list[TrackEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.label) for e in events]


def test_person_appears_then_leaves() -> None:
    tr = IoUTracker("door", TrackerConfig(max_missed=3, history=3))
    log: list[list[TrackEvent]] = []
    for i in range(6):
        log.append(tr.update(dets(("person", 0.8, walk(100 + 5 * i))), seq=i + 1, now=1000.0 + i))
    # Median of [0.8, 0, 0] is 0, of [0.8, 0.8, 0] is 0.8: the second frame confirms.
    assert [len(e) for e in log] == [0, 1, 0, 0, 0, 0]
    appeared = log[1][0]
    assert appeared.kind == "appeared" and appeared.camera == "door" and appeared.seq == 2
    assert appeared.box == walk(105.0)
    for i in range(2):
        assert tr.update(dets(), seq=10 + i) == []
    left = tr.update(dets(), seq=12, now=2000.0)
    assert kinds(left) == [("left", "person")]
    assert left[0].track_id == appeared.track_id and left[0].best_score == 0.8
    assert left[0].box == walk(125.0) and left[0].time == 2000.0
    assert tr.tracks == []
    assert json.loads(json.dumps(left[0].to_dict()))["type"] == "track"


def test_one_frame_spike_never_appears() -> None:
    tr = IoUTracker("yard")
    events = tr.update(dets(("dog", 0.99, walk(10))))
    for _ in range(10):
        events += tr.update(dets())
    assert events == []
    # A flickering detection (seen every third frame) never reaches the median either.
    for i in range(12):
        seen = dets(("cat", 0.9, walk(300))) if i % 3 == 0 else dets()
        events += tr.update(seen)
    assert events == []


def test_low_scores_need_a_high_median() -> None:
    tr = IoUTracker("cam", TrackerConfig(confirm_score={"person": 0.7, "*": 0.4}))
    events: list[TrackEvent] = []
    for _ in range(6):
        events += tr.update(dets(("person", 0.6, walk(50)), ("car", 0.5, (400, 10, 600, 100))))
    assert kinds(events) == [("appeared", "car")]
    for s in (0.75, 0.8):
        events += tr.update(dets(("person", s, walk(50)), ("car", 0.5, (400, 10, 600, 100))))
    # The person's last three scores are now 0.6, 0.75, 0.8: median 0.75 passes 0.7.
    assert kinds(events) == [("appeared", "car"), ("appeared", "person")]


def test_labels_do_not_match_each_other_and_two_people_are_two_tracks() -> None:
    tr = IoUTracker("cam")
    events: list[TrackEvent] = []
    for i in range(3):
        events += tr.update(
            dets(
                ("person", 0.9, walk(100 + 3 * i)),
                ("person", 0.9, walk(400 - 3 * i)),
                ("dog", 0.9, walk(100 + 3 * i)),
            )
        )
    assert sorted(kinds(events)) == [
        ("appeared", "dog"),
        ("appeared", "person"),
        ("appeared", "person"),
    ]
    assert len({e.track_id for e in events}) == 3


def test_tracks_outside_the_examined_region_do_not_age() -> None:
    tr = IoUTracker("cam", TrackerConfig(max_missed=2))
    for _ in range(3):
        tr.update(dets(("car", 0.9, (10, 10, 60, 60))))
    assert len(tr.confirmed) == 1
    # Motion-gated frames that looked elsewhere (or nowhere) say nothing about the car.
    for _ in range(5):
        assert tr.update(dets(), region=(300, 300, 600, 600)) == []
        assert tr.update(dets(), region=None) == []
    assert len(tr.confirmed) == 1
    # A frame that looked where the car was, and did not see it, does count.
    tr.update(dets(), region=(0, 0, 100, 100))
    assert kinds(tr.update(dets(), region=(0, 0, 100, 100))) == [("left", "car")]


def test_snapshot_callback_fills_the_event() -> None:
    tr = IoUTracker("cam")
    seen: list[TrackEvent] = []

    def snap(ev: TrackEvent) -> str:
        seen.append(ev)
        return f"/snaps/{ev.track_id}.jpg"

    events: list[TrackEvent] = []
    for _ in range(2):
        events += tr.update(dets(("person", 0.9, walk(0))), snapshot=snap)
    assert len(seen) == 1 and events[0].snapshot == f"/snaps/{seen[0].track_id}.jpg"
    assert np.isclose(events[0].best_score, 0.9)
