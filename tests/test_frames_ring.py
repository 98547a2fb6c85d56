"""The frame ring in one process: fields, wrap-around, errors, views, permissions."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest

from camwall.errors import (
    FrameTooLargeError,
    RingClosedError,
    RingError,
    RingFormatError,
    RingNotFoundError,
    RingOwnershipError,
)
from camwall.frames import FrameRing, PixelFormat, _shm


@pytest.fixture
def ring() -> FrameRing:
    r = FrameRing.create(FrameRing.capacity_for(640, 360), slots=3)
    yield r
    r.unlink()
    r.close()


def pattern(h: int, w: int, c: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def test_round_trip_every_field(ring: FrameRing) -> None:
    img = pattern(360, 640, 4, 1)
    seq = ring.publish(img, pts=123456, capture_ns=987654321)
    reader = FrameRing.attach(ring.name)
    try:
        frame = reader.read_latest()
        assert frame is not None
        assert frame.seq == seq == 1
        assert (frame.width, frame.height, frame.fmt) == (640, 360, PixelFormat.BGRA)
        assert frame.pts == 123456
        assert frame.capture_ns == 987654321
        assert np.array_equal(frame.array, img)
        # The copy is the reader's: later frames do not change it.
        ring.publish(pattern(360, 640, 4, 2))
        assert np.array_equal(frame.array, img)
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("shape", "fmt", "expected"),
    [
        ((100, 200, 3), None, PixelFormat.RGB),
        ((100, 200, 3), PixelFormat.BGR, PixelFormat.BGR),
        ((100, 200), None, PixelFormat.GRAY),
        ((7, 13, 4), None, PixelFormat.BGRA),
    ],
)
def test_formats_and_odd_sizes(
    ring: FrameRing, shape: tuple[int, ...], fmt: PixelFormat | None, expected: PixelFormat
) -> None:
    img = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    ring.publish(img, fmt=fmt)
    frame = ring.read_latest()
    assert frame is not None
    assert frame.fmt == expected
    assert (frame.height, frame.width) == shape[:2]
    assert np.array_equal(frame.array.reshape(shape), img)
    assert frame.pts is None


def test_empty_ring_reads_none(ring: FrameRing) -> None:
    assert ring.latest_seq == 0
    assert ring.read_latest() is None
    with ring.view_latest() as view:
        assert view is None


def test_wrap_around_many_slots(ring: FrameRing) -> None:
    reader = FrameRing.attach(ring.name)
    try:
        for i in range(1, 101):
            img = np.full((10 + i % 5, 20, 4), i % 256, np.uint8)
            assert ring.publish(img, pts=i) == i
            frame = reader.read_latest()
            assert frame is not None and frame.seq == i and frame.pts == i
            assert frame.array.shape == img.shape and int(frame.array[0, 0, 0]) == i % 256
        assert reader.latest_seq == 100
        assert reader.torn_reads == 0
    finally:
        reader.close()


def test_write_context_publishes_on_exit_only(ring: FrameRing) -> None:
    with ring.write(64, 32, PixelFormat.BGRA, pts=5) as view:
        assert view.shape == (32, 64, 4) and view.flags.writeable
        view[:] = 9
        assert ring.latest_seq == 0
    assert ring.latest_seq == 1
    with pytest.raises(RuntimeError), ring.write(64, 32) as view:
        view[:] = 1
        raise RuntimeError("decoder failed mid-frame")
    frame = ring.read_latest()
    assert frame is not None and frame.seq == 1 and int(frame.array.max()) == 9


def test_frame_too_large(ring: FrameRing) -> None:
    with pytest.raises(FrameTooLargeError) as err:
        ring.publish(np.zeros((361, 640, 4), np.uint8))
    assert isinstance(err.value, RingError) and isinstance(err.value, ValueError)
    assert err.value.needed == 361 * 640 * 4 and err.value.capacity == ring.capacity
    assert "re-create the ring" in str(err.value)
    # The ring is unharmed.
    ring.publish(np.ones((360, 640, 4), np.uint8))
    assert ring.latest_seq == 1


def test_bad_arrays_rejected(ring: FrameRing) -> None:
    with pytest.raises(ValueError, match="uint8"):
        ring.publish(np.zeros((10, 10, 4), np.float32))
    with pytest.raises(ValueError, match="channels"):
        ring.publish(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ValueError, match="BGRA frames have 4 channels"):
        ring.publish(np.zeros((10, 10, 3), np.uint8), fmt=PixelFormat.BGRA)


def test_attach_missing_name_is_clear() -> None:
    with pytest.raises(RingNotFoundError, match="no frame ring named 'camwall-0-nothing'") as err:
        FrameRing.attach("camwall-0-nothing")
    assert isinstance(err.value, FileNotFoundError)


def test_attach_foreign_segment() -> None:
    seg = _shm.create("camwall-test-foreign", 8192)
    try:
        with pytest.raises(RingFormatError, match="not a camwall frame ring"):
            FrameRing.attach("camwall-test-foreign")
    finally:
        seg.mapping.close()
        _shm.unlink("camwall-test-foreign")


def test_segment_mode_is_0600(ring: FrameRing) -> None:
    mode = stat.S_IMODE((Path("/dev/shm") / ring.name).stat().st_mode)
    assert mode == 0o600


def test_name_carries_prefix_pid_and_random_part() -> None:
    import os

    a = FrameRing.create(4096, prefix="camwall_t")
    b = FrameRing.create(4096, prefix="camwall_t")
    try:
        prefix, pid, rand = a.name.split("-")
        assert prefix == "camwall_t" and int(pid) == os.getpid() and len(rand) == 8
        assert a.name != b.name
    finally:
        for r in (a, b):
            r.unlink()
            r.close()
    with pytest.raises(ValueError, match="prefix"):
        FrameRing.create(4096, prefix="bad-prefix")


def test_only_owner_unlinks(ring: FrameRing) -> None:
    reader = FrameRing.attach(ring.name)
    with pytest.raises(RingOwnershipError):
        reader.unlink()
    reader.close()
    assert (Path("/dev/shm") / ring.name).exists()


def test_closed_ring_raises(ring: FrameRing) -> None:
    reader = FrameRing.attach(ring.name)
    reader.close()
    reader.close()  # idempotent
    with pytest.raises(RingClosedError):
        reader.read_latest()


def test_view_latest_intact_until_lapped(ring: FrameRing) -> None:
    ring.publish(np.full((360, 640, 4), 1, np.uint8))
    with ring.view_latest() as view:
        assert view is not None and view.seq == 1
        assert int(view.array[0, 0, 0]) == 1
        assert view.intact()
        # Two more frames fill the other two slots; the viewed slot is still intact...
        ring.publish(np.full((360, 640, 4), 2, np.uint8))
        ring.publish(np.full((360, 640, 4), 3, np.uint8))
        assert view.intact()
        # ...the fourth reuses it: the view must report it.
        ring.publish(np.full((360, 640, 4), 4, np.uint8))
        assert not view.intact()


def test_close_after_views(ring: FrameRing, caplog: pytest.LogCaptureFixture) -> None:
    reader = FrameRing.attach(ring.name)
    ring.publish(np.zeros((360, 640, 4), np.uint8))
    with reader.view_latest() as view:
        assert view is not None and view.intact()
    reader.close()  # the view is released on exit: the mapping closes cleanly
    assert "still referenced" not in caplog.text

    careless = FrameRing.attach(ring.name)
    with careless.view_latest() as view:
        kept = view.array if view is not None else None  # a reference that outlives the block
    careless.close()  # must not raise; the mapping goes when ``kept`` does
    assert "still referenced" in caplog.text
    assert kept is not None and kept.shape == (360, 640, 4)
    del kept


def test_successor(ring: FrameRing) -> None:
    reader = FrameRing.attach(ring.name)
    try:
        assert reader.successor is None
        ring.set_successor("camwall-1-abcdef12")
        assert reader.successor == "camwall-1-abcdef12"
    finally:
        reader.close()


def test_context_manager_unlinks() -> None:
    with FrameRing.create(4096) as r:
        name = r.name
        assert (Path("/dev/shm") / name).exists()
    assert not (Path("/dev/shm") / name).exists()
    assert r.closed
