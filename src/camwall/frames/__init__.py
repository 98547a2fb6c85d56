"""The frame ring: newest video frames in shared memory, shared across processes.

No Qt and no FFmpeg here. See :mod:`camwall.frames.ring` for the protocol and
:mod:`camwall.frames._fence` for the memory-ordering argument.
"""

from __future__ import annotations

from camwall.frames.pixfmt import PixelFormat
from camwall.frames.ring import Frame, FrameInfo, FrameRing, FrameView
from camwall.frames.stale import reclaim_stale

__all__ = ["Frame", "FrameInfo", "FrameRing", "FrameView", "PixelFormat", "reclaim_stale"]
