"""Review of recordings in the wall: a synced timeline, playback through the tiles' rings,
an event list and clip export (issue 15). :class:`WallReview` installs it into a window."""

from __future__ import annotations

from camwall.ui.review.wall_review import WallReview

__all__ = ["WallReview"]
