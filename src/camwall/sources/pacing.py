"""Releasing a file's frames at their timestamps' pace, like a live camera."""

from __future__ import annotations

#: Re-anchor the clock instead of sleeping longer than this, or when this late.
PACE_MAX_WAIT_S = 2.0
PACE_MAX_LATE_S = 0.5


class Pacer:
    """The wait before each frame of a file, from its media time (see the module docstring)."""

    def __init__(self) -> None:
        self.origin: tuple[float, float] | None = None  # (monotonic, media seconds)
        self._media_guess = 0.0

    def reset(self) -> None:
        """Forget the clock (after a seek or loop)."""
        self.origin = None

    def wait_for(self, media_s: float | None, fps: float, now: float) -> float:
        """Seconds to wait before showing the frame at ``media_s`` (None: a frame without a
        timestamp, taken to follow the previous one at ``fps``)."""
        if media_s is None:
            media_s = self._media_guess + 1.0 / fps
        self._media_guess = media_s
        return self.delay(media_s, now)

    def delay(self, media_s: float, now: float) -> float:
        """Seconds to wait before showing the frame at ``media_s``."""
        if self.origin is None:
            self.origin = (now, media_s)
            return 0.0
        wait = self.origin[0] + (media_s - self.origin[1]) - now
        if wait > PACE_MAX_WAIT_S or wait < -PACE_MAX_LATE_S:
            # A timestamp jump, or we fell behind: restart the clock instead of bursting.
            self.origin = (now, media_s)
            return 0.0
        return max(0.0, wait)
