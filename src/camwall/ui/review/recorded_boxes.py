"""Recorded detections drawn on a review tile, at the time of the frame it shows.

The runtime keeps what the detector found in each recorded frame in the recordings index
(``RecordingIndex.detections``). While reviewing, each tile gets one
:class:`RecordedBoxes`: when the tile paints a recorded frame, it looks up the detections
recorded closest to that frame's time (within :data:`MATCH_S`) and draws them with the same
overlay the live view uses. Lookups go to the index on the review's worker thread, a window
of :data:`WINDOW_S` at a time, so painting never waits for SQLite.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QRect, QRectF, QSize
from qtpy.QtGui import QPainter

from camwall.detect.messages import DetectionResult
from camwall.playback.messages import frame_time
from camwall.ui.view.detection_overlay import DetectionOverlay

if TYPE_CHECKING:
    from camwall.record.index import RecordingIndex
    from camwall.ui.review.controller import ReviewController
    from camwall.ui.wall.tile import CameraTile

#: Detections recorded this close to a frame's time belong to it (detection runs at a few
#: frames a second; a box held longer would trail a moving object).
MATCH_S = 0.35
#: Seconds of detections fetched at once around the frame shown.
WINDOW_S = 60.0

Recorded = tuple[float, int, int, list[dict[str, Any]]]


class RecordedBoxes:
    """A review tile's overlay of recorded detections; see the module docstring."""

    def __init__(self, controller: ReviewController, camera: str, tile: CameraTile) -> None:
        """Draw ``camera``'s recorded detections on ``tile`` (added as its review overlay)."""
        self._controller = controller
        self._camera = camera
        self._tile = tile
        self._overlay = DetectionOverlay()
        self._overlay.stale_s = 1e9  # a paused picture keeps its boxes
        self._items: list[Recorded] = []
        self._times: list[float] = []
        self._covered: tuple[float, float] | None = None
        self._asked: tuple[float, float] | None = None
        self._what = f"boxes:{camera}"
        controller.on_result[self._what] = self._arrived

    @property
    def drawn(self) -> int:
        """Boxes drawn so far (tests, diagnostics)."""
        return self._overlay.drawn_boxes

    def _request(self, at: float, index: RecordingIndex) -> None:
        start, end = at - 5.0, at + WINDOW_S
        if self._asked is not None and self._asked[0] <= at < self._asked[1]:
            return  # on its way
        self._asked = (start, end)
        camera = self._camera
        self._controller.submit(
            self._what, lambda: (start, end, index.detections(camera, start, end))
        )

    def _arrived(self, result: tuple[float, float, list[Recorded]]) -> None:
        start, end, items = result
        self._items = items
        self._times = [item[0] for item in items]
        self._covered = (start, end)
        self._tile.update()

    def __call__(self, painter: QPainter, target: QRect, source: QRectF, frame: QSize) -> None:
        """Draw the detections recorded for the frame the tile just painted."""
        at = frame_time(self._tile.painted_pts)
        index = self._controller.index
        if at is None or index is None:
            return
        covered = self._covered
        if covered is None or not covered[0] <= at < covered[1] - 5.0:
            self._request(at, index)
        i = bisect.bisect_left(self._times, at)
        near = [j for j in (i - 1, i) if 0 <= j < len(self._times)]
        near = [j for j in near if abs(self._times[j] - at) <= MATCH_S]
        if not near:
            return
        best = min(near, key=lambda j: abs(self._times[j] - at))
        _, width, height, detections = self._items[best]
        self._overlay.set_result(
            DetectionResult(
                camera=self._camera,
                seq=0,
                capture_ns=0,
                width=width,
                height=height,
                detections=detections,
                inference_ms=0.0,
                detector="recorded",
                motion=None,
                region=None,
            )
        )
        self._overlay(painter, target, source, frame)

    def close(self) -> None:
        """Stop listening for lookups (the tile goes back to live)."""
        self._controller.on_result.pop(self._what, None)
