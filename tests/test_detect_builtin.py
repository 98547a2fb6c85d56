"""OpenCV's built-in detectors on a real photo (scikit-image's astronaut)."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from camwall.detect import HaarFaceDetector, HogPeopleDetector, box_iou
from camwall.errors import ModelLoadError

FACE = np.array([[177, 66, 177 + 95, 66 + 95]], np.float32)


def astronaut_bgr() -> np.ndarray:
    return np.ascontiguousarray(skimage.data.astronaut()[:, :, ::-1])


@pytest.mark.parametrize("channels", [3, 4], ids=["bgr", "bgra"])
def test_face_detector_finds_the_astronaut(channels: int) -> None:
    img = astronaut_bgr()
    if channels == 4:
        img = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    det = HaarFaceDetector()
    det.warm_up()
    faces = det.detect(img)
    assert faces.labels.count("face") >= 1
    iou = box_iou(faces.boxes, FACE)[:, 0]
    assert iou.max() > 0.5, faces.boxes
    assert 0.5 < float(faces.scores[iou.argmax()]) <= 1.0


def test_face_boxes_map_back_from_the_downscaled_copy() -> None:
    # The same photo at 3× size is searched at 640 px wide; boxes come back in 1536 px.
    big = np.repeat(np.repeat(astronaut_bgr(), 3, axis=0), 3, axis=1)
    faces = HaarFaceDetector(work_width=640).detect(big)
    assert box_iou(faces.boxes, FACE * 3)[:, 0].max() > 0.5, faces.boxes


def test_face_detector_finds_nothing_in_flat_grey() -> None:
    assert len(HaarFaceDetector().detect(np.full((480, 640, 3), 128, np.uint8))) == 0


def test_people_detector_runs_and_maps_into_the_frame() -> None:
    img = astronaut_bgr()
    det = HogPeopleDetector()
    det.warm_up()
    people = det.detect(img)
    assert set(people.labels) <= {"person"}
    assert (people.boxes >= 0).all() and (people.boxes[:, [2]] <= 512).all()
    assert len(det.detect(np.full((100, 50, 3), 0, np.uint8))) == 0  # smaller than one window


def test_missing_cascade_file() -> None:
    with pytest.raises(ModelLoadError, match=r"nope\.xml"):
        HaarFaceDetector(cascade="/nonexistent/nope.xml")
