"""Playback of recordings into the same FrameRings the live view paints (no Qt here).

- :class:`Playback` owns one camera's worker process and ring: seek, play (0.25-16×), pause,
  step ±1 frame, across segment boundaries; spans without recording are events, never
  exceptions.
- :class:`PlaybackGroup` drives several cameras at one instant, in step.
- Ring slots carry the recorded wall-clock time in ``pts`` (ns since the epoch):
  :func:`frame_time`.

See docs/recording.md, "Review and export".
"""

from __future__ import annotations

from camwall.playback.group import PlaybackGroup
from camwall.playback.messages import (
    MAX_SPEED,
    MIN_SPEED,
    NoRecording,
    PlaybackEvent,
    PlaybackPosition,
    PlaybackState,
    PlaybackStateChanged,
    frame_time,
)
from camwall.playback.player import Playback

__all__ = [
    "MAX_SPEED",
    "MIN_SPEED",
    "NoRecording",
    "Playback",
    "PlaybackEvent",
    "PlaybackGroup",
    "PlaybackPosition",
    "PlaybackState",
    "PlaybackStateChanged",
    "frame_time",
]
