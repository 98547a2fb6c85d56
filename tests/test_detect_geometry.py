"""The detect size and mapping normalised zones and masks to it."""

from __future__ import annotations

import numpy as np
import pytest

from camwall.detect import Detections, Mask
from camwall.detect.geometry import DetectGeometry, detect_size
from camwall.detect.zones import Zone


@pytest.mark.parametrize(
    ("frame", "setting", "expected"),
    [
        ((2560, 1440), (None, None), (640, 360)),  # default: 640 wide, keeping 16:9
        ((1920, 1080), (None, None), (640, 360)),
        ((2592, 1944), (None, None), (640, 480)),  # 4:3
        ((2560, 1080), (None, None), (640, 270)),  # odd height rounded to even
        ((2560, 1093), (None, None), (640, 274)),
        ((480, 270), (None, None), (480, 270)),  # a small substream is never enlarged
        ((2560, 1440), (1280, None), (1280, 720)),
        ((2560, 1440), (None, 480), (854, 480)),
        ((2560, 1440), (321, 199), (320, 200)),  # both given: used as given, even
    ],
)
def test_detect_size(
    frame: tuple[int, int], setting: tuple[int | None, int | None], expected: tuple[int, int]
) -> None:
    size = detect_size(*frame, *setting)
    assert size == expected
    assert size[0] % 2 == 0 and size[1] % 2 == 0


def test_detect_size_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        detect_size(0, 100)
    with pytest.raises(ValueError, match="detect width"):
        detect_size(100, 100, 1)


def test_detect_size_does_not_depend_on_what_the_wall_shows() -> None:
    # The detect size is a function of the decoded frame and the camera's settings only.
    sizes = {DetectGeometry.for_frame(2560, 1440).size for _tiles in (1, 4, 16)}
    assert sizes == {(640, 360)}


def test_boxes_map_back_to_frame_pixels() -> None:
    geo = DetectGeometry.for_frame(2560, 1440)
    assert geo.scale == (4.0, 4.0)
    np.testing.assert_allclose(
        geo.to_frame(np.array([[10, 20, 30, 40]], np.float32)), [[40, 80, 120, 160]]
    )


def test_normalised_zone_and_mask_at_the_detect_size() -> None:
    geo = DetectGeometry.for_frame(2560, 1440)
    zone = Zone("z", ((0.5, 0.5), (1, 0.5), (1, 1)))
    np.testing.assert_allclose(geo.zone_polygon(zone), [[320, 180], [640, 180], [640, 360]])
    norm = Mask.of_normalised([[(0, 0), (0.5, 0), (0.5, 1), (0, 1)]])  # left half
    pixel = Mask.of([[(0, 0), (1280, 0), (1280, 1440), (0, 1440)]], (2560, 1440))
    for m in (norm, pixel):
        at = geo.mask(m)
        assert at.reference_size is None and not at.normalised
        np.testing.assert_allclose(at.polygons[0], [(0, 0), (320, 0), (320, 360), (0, 360)])
    assert pixel.to_normalised().polygons == norm.polygons
    # The same normalised mask drops the same detections at every size.
    for w, h in ((640, 360), (2560, 1440), (1280, 720)):
        dets = Detections.build(
            [[0.1 * w, 0.1 * h, 0.2 * w, 0.2 * h], [0.7 * w, 0.1 * h, 0.8 * w, 0.2 * h]],
            [0.9, 0.9], [0, 0], ["a", "b"],
        )  # fmt: skip
        assert norm.apply(dets, w, h).labels == ("b",)
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        Mask.of_normalised([[(0, 0), (2, 0), (0, 1)]])
    with pytest.raises(ValueError, match="needs the frame size"):
        Mask.of([[(0, 0), (2, 0), (0, 1)]]).to_normalised()
