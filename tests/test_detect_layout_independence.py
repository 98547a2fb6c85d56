"""The same clip on a 1-tile and a 16-tile wall gives the same detections at the detect size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camwall.detect import Detections, HaarFaceDetector, box_iou, detect_size
from camwall.testing.labelled_clip import LabelledClip


def detect_at(frame: np.ndarray, size: tuple[int, int], det: HaarFaceDetector) -> Detections:
    h, w = frame.shape[:2]
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return det.detect(small).scale(w / size[0], h / size[1])


@pytest.mark.slow
def test_fixed_detect_size_does_not_depend_on_the_layout() -> None:
    clip = LabelledClip(frames=120)
    det = HaarFaceDetector()
    fixed = detect_size(clip.width, clip.height)
    assert fixed == (640, 360)
    for index in (30, 50):  # one person; then two
        frame, truth = clip.frame(index), clip.truth(index)
        faces = np.array([t.face for t in truth], np.float32)
        # The detect-sized output is made from the decoded frame, whatever the tile size.
        one_tile = detect_at(frame, fixed, det)
        sixteen_tiles = detect_at(frame, fixed, det)
        assert len(one_tile) == len(sixteen_tiles) == len(truth)
        np.testing.assert_allclose(one_tile.boxes, sixteen_tiles.boxes, atol=1.0)
        assert (box_iou(one_tile.boxes, faces).max(axis=0) >= 0.5).all()
        # What camwall did before: the detector saw the 480×270 tile and missed faces there.
        old = detect_at(frame, (clip.width // 4, clip.height // 4), det)
        assert len(old) < len(truth)
