"""DigitalZoom: zoom about the cursor, pan, clamp to the frame, pixel rectangles."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camwall.control import DigitalZoom, FrameRect

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
factors = st.floats(min_value=1.0, max_value=16.0, allow_nan=False)


def inside_frame(zoom: DigitalZoom) -> bool:
    x, y, w, h = zoom.visible()
    eps = 1e-9
    return -eps <= x and -eps <= y and x + w <= 1 + eps and y + h <= 1 + eps


def test_starts_showing_the_whole_frame() -> None:
    zoom = DigitalZoom()
    assert zoom.factor == 1.0 and not zoom.is_zoomed
    assert zoom.source_rect(2560, 1440) == FrameRect(0.0, 0.0, 2560.0, 1440.0)


def test_zoom_about_the_centre_shows_the_middle() -> None:
    zoom = DigitalZoom()
    zoom.zoom_to(2.0)
    assert zoom.source_rect(2560, 1440) == FrameRect(640.0, 360.0, 1280.0, 720.0)


def test_zoom_about_the_cursor_keeps_the_point_under_it() -> None:
    zoom = DigitalZoom()
    cursor = (0.3, 0.6)
    before = zoom.view_to_frame(*cursor)
    zoom.zoom_by(1.5, cursor)
    zoom.zoom_by(1.5, cursor)
    assert zoom.view_to_frame(*cursor) == pytest.approx(before)
    assert zoom.factor == pytest.approx(2.25)
    # A second cursor position: again fixed, from a zoomed state.
    cursor2 = (0.8, 0.2)
    before2 = zoom.view_to_frame(*cursor2)
    zoom.zoom_by(1.25, cursor2)
    assert zoom.view_to_frame(*cursor2) == pytest.approx(before2)


@settings(max_examples=300, deadline=None)
@given(f1=factors, f2=factors, u=unit, v=unit, u0=unit, v0=unit)
def test_zoom_keeps_the_anchor_fixed_unless_clamped(
    f1: float, f2: float, u: float, v: float, u0: float, v0: float
) -> None:
    zoom = DigitalZoom()
    zoom.zoom_to(f1, (u0, v0))
    target = zoom.view_to_frame(u, v)
    zoom.zoom_to(f2, (u, v))
    assert inside_frame(zoom)
    # Unless the region had to be pushed back inside the frame, the point stays put.
    _, _, w, h = zoom.visible()
    free_x = target[0] - u * w
    free_y = target[1] - v * h
    if 0 <= free_x <= 1 - w and 0 <= free_y <= 1 - h:
        assert zoom.view_to_frame(u, v) == pytest.approx(target, abs=1e-9)


def test_zooming_in_then_out_at_the_same_point_returns() -> None:
    zoom = DigitalZoom()
    zoom.zoom_by(2.0, (0.7, 0.4))
    zoom.pan(0.1, 0.0)
    visible = zoom.visible()
    zoom.zoom_by(2.0, (0.25, 0.75))
    zoom.zoom_by(0.5, (0.25, 0.75))
    assert zoom.visible() == pytest.approx(visible)


def test_zoom_near_an_edge_stays_inside_the_frame() -> None:
    zoom = DigitalZoom()
    zoom.zoom_to(4.0, (1.0, 1.0))  # cursor in the bottom-right corner
    x, y, w, h = zoom.visible()
    assert (x + w, y + h) == pytest.approx((1.0, 1.0))
    assert zoom.view_to_frame(1.0, 1.0) == pytest.approx((1.0, 1.0))  # the corner stays


def test_factor_is_limited() -> None:
    zoom = DigitalZoom(max_factor=8.0)
    zoom.zoom_by(100.0, (0.2, 0.2))
    assert zoom.factor == 8.0
    zoom.zoom_by(0.001)
    assert zoom.factor == 1.0
    assert zoom.visible() == (0.0, 0.0, 1.0, 1.0)


def test_pan_moves_content_with_the_pointer_and_clamps() -> None:
    zoom = DigitalZoom()
    zoom.zoom_to(2.0)  # visible x in [0.25, 0.75]
    under = zoom.view_to_frame(0.5, 0.5)
    zoom.pan(0.2, 0.0)  # drag right by a fifth of the view
    # The frame point that was in the middle is now 0.2 view widths further right.
    assert zoom.frame_to_view(*under) == pytest.approx((0.7, 0.5))
    zoom.pan(10.0, -10.0)  # far beyond the edges
    x, y, _, h = zoom.visible()
    assert (x, y + h) == pytest.approx((0.0, 1.0))
    assert inside_frame(zoom)


def test_pan_without_zoom_does_nothing() -> None:
    zoom = DigitalZoom()
    zoom.pan(0.3, 0.3)
    assert zoom.visible() == (0.0, 0.0, 1.0, 1.0)


def test_reset() -> None:
    zoom = DigitalZoom()
    zoom.zoom_to(3.0, (0.9, 0.1))
    zoom.reset()
    assert zoom.visible() == (0.0, 0.0, 1.0, 1.0) and zoom.factor == 1.0


def test_anchor_outside_the_image_is_clamped_to_its_edge() -> None:
    zoom = DigitalZoom()
    zoom.zoom_to(2.0, (-0.5, 1.7))  # cursor in the letterbox
    x, y, _, h = zoom.visible()
    assert (x, y + h) == pytest.approx((0.0, 1.0))


def test_source_rect_is_resolution_independent() -> None:
    zoom = DigitalZoom()
    zoom.zoom_to(4.0, (0.25, 0.75))
    main = zoom.source_rect(2560, 1440)
    sub = zoom.source_rect(640, 360)
    assert main.x / 2560 == pytest.approx(sub.x / 640)
    assert main.height / 1440 == pytest.approx(sub.height / 360)
    assert main.width / main.height == pytest.approx(2560 / 1440)


@settings(max_examples=200, deadline=None)
@given(f=factors, u=unit, v=unit, w=st.integers(1, 8000), h=st.integers(1, 5000))
def test_rounded_rect_covers_and_stays_in_the_frame(
    f: float, u: float, v: float, w: int, h: int
) -> None:
    zoom = DigitalZoom()
    zoom.zoom_to(f, (u, v))
    rect = zoom.source_rect(w, h)
    x0, y0, rw, rh = rect.rounded()
    assert 0 <= x0 <= rect.x + 1e-6 and 0 <= y0 <= rect.y + 1e-6
    assert x0 + rw >= rect.x + rect.width - 1e-6 and y0 + rh >= rect.y + rect.height - 1e-6
    assert x0 + rw <= w and y0 + rh <= h
    assert rw >= 1 and rh >= 1


@pytest.mark.parametrize(
    "call",
    [
        lambda z: z.zoom_to(math.nan),
        lambda z: z.zoom_by(0.0),
        lambda z: z.zoom_by(-2.0),
        lambda z: z.pan(math.inf, 0.0),
        lambda z: z.zoom_to(2.0, (math.nan, 0.5)),
        lambda z: z.source_rect(0, 1080),
    ],
)
def test_bad_input_is_rejected(call: object) -> None:
    zoom = DigitalZoom()
    with pytest.raises(ValueError):
        call(zoom)  # type: ignore[operator]
    assert zoom.visible() == (0.0, 0.0, 1.0, 1.0)


def test_max_factor_must_be_at_least_one() -> None:
    with pytest.raises(ValueError):
        DigitalZoom(max_factor=0.5)
