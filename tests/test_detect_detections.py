"""Detections, masks and filters: validation, transport as plain data, geometry."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from camwall.detect import Detections, Mask, ObjectFilter, box_iou


def sample() -> Detections:
    return Detections.build(
        [[0, 0, 10, 10], [100, 100, 300, 200], [50, 50, 60, 70]],
        [0.9, 0.4, 0.7],
        [0, 2, 0],
        ["person", "car", "person"],
    )


def test_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match="boxes has shape"):
        Detections(
            np.zeros((2, 4), np.float32), np.zeros(1, np.float32), np.zeros(1, np.int32), ("a",)
        )
    with pytest.raises(TypeError, match="scores must be float32"):
        Detections(np.zeros((1, 4), np.float32), np.zeros(1), np.zeros(1, np.int32), ("a",))
    with pytest.raises(TypeError, match="class_ids must be int32"):
        Detections(np.zeros((1, 4), np.float32), np.zeros(1, np.float32), np.zeros(1), ("a",))
    with pytest.raises(TypeError, match="labels"):
        Detections(
            np.zeros((1, 4), np.float32), np.zeros(1, np.float32), np.zeros(1, np.int32), ["a"]
        )  # type: ignore[arg-type]


def test_empty_len_filter_and_transforms() -> None:
    assert len(Detections.empty()) == 0
    d = sample()
    assert len(d) == 3
    people = d.filter(np.array([s == "person" for s in d.labels]))
    assert people.labels == ("person", "person")
    assert d.filter([1]).labels == ("car",)
    np.testing.assert_allclose(d.areas, [100, 20000, 200])
    np.testing.assert_allclose(d.centers[1], [200, 150])
    moved = d.translate(5, 7).scale(2, 1)
    np.testing.assert_allclose(moved.boxes[0], [10, 7, 30, 17])
    with pytest.raises(ValueError):
        d.filter(np.array([True]))
    both = Detections.concat([d, Detections.empty(), people])
    assert len(both) == 5 and both.labels[-1] == "person"


def test_plain_data_round_trip_is_small_and_json() -> None:
    d = sample()
    items = d.to_dicts()
    assert json.loads(json.dumps(items)) == items
    back = Detections.from_dicts(items)
    np.testing.assert_allclose(back.boxes, d.boxes)
    np.testing.assert_allclose(back.scores, d.scores)
    assert back.labels == d.labels and back.class_ids.tolist() == d.class_ids.tolist()
    assert len(pickle.dumps(items)) < 400
    assert len(Detections.from_dicts([])) == 0
    with pytest.raises(ValueError, match="box, score"):
        Detections.from_dicts([{"box": [0, 0, 1, 1]}])


def test_box_iou() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(box_iou(a, b)[0], [1.0, 1 / 3, 0.0], atol=1e-6)
    assert box_iou(a, np.zeros((0, 4), np.float32)).shape == (1, 0)


def test_mask_drops_detections_whose_centre_is_inside() -> None:
    mask = Mask.of([[(0, 0), (100, 0), (100, 100), (0, 100)]])
    d = sample()  # centres (5,5) inside, (200,150) outside, (55,60) inside
    assert mask.apply(d, 640, 480).labels == ("car",)
    # Drawn on a 1280×960 frame: on a 640×480 frame the square is 50×50, so (55, 60) is out.
    scaled = Mask.of([[(0, 0), (100, 0), (100, 100), (0, 100)]], reference_size=(1280, 960))
    assert scaled.apply(d, 640, 480).labels == ("car", "person")
    raster = mask.raster(640, 480, (320, 240))
    assert raster[10, 10] == 255 and raster[60, 60] == 0
    with pytest.raises(ValueError, match="at least 3"):
        Mask.of([[(0, 0), (1, 1)]])
    assert pickle.loads(pickle.dumps(mask)).apply(d, 640, 480).labels == ("car",)


def test_object_filter_per_label() -> None:
    d = sample()
    f = ObjectFilter(min_score={"person": 0.8, "*": 0.3}, min_area={"car": 50000})
    assert f.apply(d).labels == ("person",)
    assert ObjectFilter(labels=frozenset({"car"})).apply(d).labels == ("car",)
    assert ObjectFilter().apply(d) is d
    with pytest.raises(ValueError, match="person"):
        ObjectFilter(min_score={"person": 1.5})
