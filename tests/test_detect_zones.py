"""Zones: parsing and validation, bottom-centre membership, entered/left with the right times."""

from __future__ import annotations

import json

import numpy as np
import pytest

from camwall.detect import Detections, IoUTracker, TrackerConfig
from camwall.detect.messages import ZoneEvent
from camwall.detect.zones import Zone, ZoneTracker, bottom_centre
from camwall.errors import ConfigError

W, H = 1000, 500
# The right half of the picture's lower part: x 0.5..1, y 0.4..1.
DRIVEWAY = {"name": "driveway", "points": [[0.5, 0.4], [1.0, 0.4], [1.0, 1.0], [0.5, 1.0]]}
# A band across the middle: x 0.4..0.6.
MIDDLE = {"name": "middle", "points": [[0.4, 0.4], [0.6, 0.4], [0.6, 1.0], [0.4, 1.0]]}


def person_at(x: float, *, label: str = "person") -> Detections:
    """A 60×200 box whose bottom centre is at (x + 30, 400)."""
    return Detections.build([[x, 200.0, x + 60.0, 400.0]], [0.9], [0], [label])


def walk(
    zones: ZoneTracker, xs: list[float], *, label: str = "person", t0: float = 100.0
) -> list[ZoneEvent]:
    """A figure walking through ``xs`` (one frame a second); tracker then zones, as the worker."""
    tracker = IoUTracker("gate", TrackerConfig(history=1, iou_threshold=0.05, max_missed=2))
    events: list[ZoneEvent] = []
    t = t0
    for x in xs:
        tracker.update(person_at(x, label=label), now=t)
        events += zones.update(tracker.confirmed, W, H, now=t, seq=int(t))
        t += 1.0
    for _ in range(3):  # gone: the tracker drops it after max_missed
        tracker.update(Detections.empty(), now=t)
        events += zones.update(tracker.confirmed, W, H, now=t, seq=int(t))
        t += 1.0
    return events


def test_a_figure_crossing_the_zone_enters_and_leaves_at_the_right_times() -> None:
    zones = ZoneTracker("gate", [Zone.from_table(MIDDLE)])
    # Walking right, 40 px a second: feet at 330, 370, 410 (in, t=102) ... 570, 610 (out, t=107).
    events = walk(zones, [300.0 + 40 * i for i in range(10)])
    assert [(e.kind, e.zone, e.label) for e in events] == [
        ("entered", "middle", "person"),
        ("left", "middle", "person"),
    ]
    entered, left = events
    assert entered.time == 102.0 and entered.inside_since == 102.0
    assert left.time == 107.0 and left.inside_since == 102.0
    assert entered.track_id == left.track_id
    assert bottom_centre(entered.box) == (410.0, 400.0)
    assert bottom_centre(left.box) == (570.0, 400.0)  # the last box inside
    d = json.loads(json.dumps(entered.to_dict()))
    assert d["type"] == "zone" and d["kind"] == "entered" and d["camera"] == "gate"


def test_min_seconds_suppresses_a_brief_touch_and_delays_entering() -> None:
    zone = Zone.from_table({**DRIVEWAY, "min_seconds": 3})
    # Two seconds inside (feet at 510, 520), then out again: nothing.
    brief = walk(ZoneTracker("gate", [zone]), [450.0, 480.0, 490.0, 460.0, 430.0, 400.0])
    assert brief == []
    # Standing inside for long enough: entered 3 s after the feet went in, left when gone.
    stay = walk(ZoneTracker("gate", [zone]), [450.0, 480.0, 482, 484, 486, 488, 490])
    assert [e.kind for e in stay] == ["entered", "left"]
    assert stay[0].inside_since == 101.0 and stay[0].time == 104.0
    # The track vanished at t=107; the tracker drops it after 2 misses (t=108).
    assert stay[1].time == 108.0


def test_label_filter() -> None:
    zone = Zone.from_table({**DRIVEWAY, "labels": ["car"]})
    assert walk(ZoneTracker("gate", [zone]), [600.0, 610.0]) == []
    events = walk(ZoneTracker("gate", [zone]), [600.0, 610.0], label="car")
    assert [(e.kind, e.label) for e in events] == [("entered", "car"), ("left", "car")]


def test_zones_are_resolution_independent() -> None:
    zone = Zone.from_table(DRIVEWAY)
    for w, h in ((1000, 500), (2560, 1280), (640, 320)):
        assert zone.contains((0.75 * w, 0.9 * h), w, h)
        assert not zone.contains((0.25 * w, 0.9 * h), w, h)
        assert zone.contains((0.5 * w, 0.4 * h), w, h)  # on the edge counts
    np.testing.assert_allclose(zone.polygon(640, 320)[1], [640, 128])
    drawn = Zone.from_pixels("d", [(500, 200), (1000, 200), (1000, 500)], (1000, 500))
    assert drawn.points == ((0.5, 0.4), (1.0, 0.4), (1.0, 1.0))
    assert Zone.from_table(zone.to_table()).points == zone.points


def test_two_zones_and_two_tracks_are_independent() -> None:
    left = Zone("left", ((0, 0), (0.5, 0), (0.5, 1), (0, 1)))
    right = Zone("right", ((0.5, 0), (1, 0), (1, 1), (0.5, 1)))
    zt = ZoneTracker("cam", [left, right])
    tracker = IoUTracker("cam", TrackerConfig(history=1))
    two = Detections.build(
        [[100, 100, 160, 300], [700, 100, 760, 300]], [0.9, 0.9], [0, 0], ["person", "person"]
    )
    tracker.update(two, now=1.0)
    events = zt.update(tracker.confirmed, W, H, now=1.0)
    assert sorted(e.zone for e in events) == ["left", "right"]
    occ = zt.occupancy()
    assert len(occ["left"]) == 1 and len(occ["right"]) == 1 and occ["left"] != occ["right"]


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"points": DRIVEWAY["points"]}, "zones.name", "needs a name"),
        ({"name": "a", "points": [[0, 0], [1, 0]]}, "zones.a", "at least 3"),
        ({"name": "a", "points": [[0, 0], [1, 0], [1.5, 1]]}, "zones.a", "fractions of the frame"),
        ({"name": "a", "points": [[0, 0], [1, 0], "x"]}, "zones.a", "[x, y] numbers"),
        ({**DRIVEWAY, "labels": "person"}, "zones.driveway.labels", "list of label names"),
        ({**DRIVEWAY, "min_seconds": -1}, "zones.driveway.min_seconds", "≥ 0"),
        ({**DRIVEWAY, "colour": "red"}, "zones.driveway", "unknown key(s) colour"),
    ],
)
def test_from_table_rejects_bad_tables_naming_the_key(table: dict, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        Zone.from_table(table)
    assert info.value.key == key
    assert words in str(info.value)


def test_duplicate_zone_names_are_refused() -> None:
    z = Zone.from_table(DRIVEWAY)
    with pytest.raises(ConfigError, match="repeated: driveway"):
        ZoneTracker("cam", [z, z])
