"""Property test: any sequence of publishes and reads behaves like "the newest frame wins"."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from camwall.errors import FrameTooLargeError
from camwall.frames import FrameRing, PixelFormat

CAPACITY = 64 * 48 * 4

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("publish"),
            st.integers(1, 70),
            st.integers(1, 70),
            st.sampled_from([PixelFormat.BGRA, PixelFormat.RGB, PixelFormat.BGR, PixelFormat.GRAY]),
            st.one_of(st.none(), st.integers(-(2**62), 2**62)),
        ),
        st.tuples(st.just("read")),
        st.tuples(st.just("view")),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ops=ops, slots=st.integers(3, 6))
def test_newest_frame_wins(ops: list[tuple[object, ...]], slots: int) -> None:
    ring = FrameRing.create(CAPACITY, slots=slots)
    reader = FrameRing.attach(ring.name)
    try:
        newest: tuple[int, np.ndarray, PixelFormat, int | None] | None = None
        seq = 0
        for op in ops:
            if op[0] == "publish":
                _, h, w, fmt, pts = op
                assert isinstance(h, int) and isinstance(w, int) and isinstance(fmt, PixelFormat)
                shape = (h, w) if fmt is PixelFormat.GRAY else (h, w, fmt.channels)
                img = np.random.default_rng(seq).integers(0, 256, shape, dtype=np.uint8)
                if img.nbytes > CAPACITY:
                    try:
                        ring.publish(img, fmt=fmt, pts=pts)  # type: ignore[arg-type]
                    except FrameTooLargeError:
                        continue
                    raise AssertionError("oversized frame accepted")
                seq += 1
                assert ring.publish(img, fmt=fmt, pts=pts) == seq  # type: ignore[arg-type]
                newest = (seq, img, fmt, pts)  # type: ignore[assignment]
            elif op[0] == "read":
                frame = reader.read_latest()
                if newest is None:
                    assert frame is None
                    continue
                assert frame is not None
                assert (frame.seq, frame.fmt, frame.pts) == (newest[0], newest[2], newest[3])
                assert np.array_equal(frame.array.reshape(newest[1].shape), newest[1])
            else:
                with reader.view_latest() as view:
                    if newest is None:
                        assert view is None
                        continue
                    assert view is not None and view.seq == newest[0]
                    assert np.array_equal(view.array.reshape(newest[1].shape), newest[1])
                    assert view.intact()
        assert reader.torn_reads == 0 and reader.lapped_reads == 0
    finally:
        reader.close()
        ring.unlink()
        ring.close()
