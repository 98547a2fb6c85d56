"""PlaybackGroup: several cameras at one instant — "what happened at 02:14 everywhere?".

One :class:`~camwall.playback.Playback` per camera, driven together: :meth:`seek` sends every
worker to the same instant; :meth:`play` gives every worker the same (instant, monotonic
anchor) pair, so they stay in step by the clock without talking to each other; :meth:`pause`
stops them all at one instant. The group keeps the cursor (:attr:`position`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from camwall.errors import RecordError
from camwall.playback.messages import PlaybackPosition, clamp_speed
from camwall.playback.player import EventCallback, Playback
from camwall.record.index import RecordingIndex

log = logging.getLogger(__name__)

#: Frames per second of a step when nothing recorded says otherwise.
DEFAULT_FPS = 25.0
#: Play starts this far in the future, so every worker has its command before the anchor.
START_LEAD_S = 0.1


class PlaybackGroup:
    """Plays ``cameras`` of one recording folder in sync; owns their Playbacks."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        cameras: Sequence[str],
        *,
        on_event: EventCallback | None = None,
        max_size: tuple[int, int] | None = None,
        decoder_threads: int = 2,
        notify: Connection | None = None,
    ) -> None:
        """Configure one Playback per camera; :meth:`start` (or ``with``) starts them.
        ``notify``: a frame-notification pipe for every worker (see Playback)."""
        if not cameras:
            raise ValueError("a playback group needs at least one camera")
        self.root = Path(root)
        self.players = {
            name: Playback(
                self.root,
                name,
                on_event=on_event,
                max_size=max_size,
                decoder_threads=decoder_threads,
                notify=notify,
            )
            for name in cameras
        }
        self._cursor: float | None = None
        self._speed = 1.0
        self._anchor_ns: int | None = None  # set while playing

    def start(self) -> PlaybackGroup:
        """Start every camera's worker."""
        try:
            for player in self.players.values():
                player.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every worker (all asked at once) and unlink every ring; blocks until they
        have exited."""
        for player in self.players.values():
            player.stop()
        for player in self.players.values():
            player.close()

    def __enter__(self) -> PlaybackGroup:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def position(self) -> float | None:
        """The group's cursor (epoch s): where it was sent, advancing while it plays."""
        if self._cursor is None or self._anchor_ns is None:
            return self._cursor
        return self._cursor + (time.monotonic_ns() - self._anchor_ns) / 1e9 * self._speed

    @property
    def playing(self) -> bool:
        """True between :meth:`play` and :meth:`pause`/:meth:`seek`."""
        return self._anchor_ns is not None

    def seek(self, t: float, *, wait: float | None = None) -> dict[str, PlaybackPosition | None]:
        """Show every camera at instant ``t`` (pauses). ``wait`` s: wait for all to get there
        and return their positions (None for a camera that did not answer in time)."""
        self._cursor, self._anchor_ns = t, None
        ids = {name: p.seek(t) for name, p in self.players.items()}
        return self._wait_all(ids, wait)

    def play(self, speed: float = 1.0) -> None:
        """Play every camera from the cursor at ``speed``, in step."""
        speed = clamp_speed(speed)
        at = self.position
        if at is None:
            raise RuntimeError("seek the group to an instant before playing it")
        anchor = time.monotonic_ns() + int(START_LEAD_S * 1e9)
        self._cursor, self._speed, self._anchor_ns = at, speed, anchor
        for player in self.players.values():
            player.play(speed, at=at, anchor_ns=anchor)

    def pause(self, *, wait: float | None = None) -> dict[str, PlaybackPosition | None]:
        """Stop every camera at one instant (the cursor now)."""
        at = self.position
        self._cursor, self._anchor_ns = at, None
        ids = {name: p.pause(at) for name, p in self.players.items()}
        return self._wait_all(ids, wait)

    def step(
        self, frames: int = 1, *, fps: float | None = None, wait: float | None = None
    ) -> dict[str, PlaybackPosition | None]:
        """Move the cursor by ``frames`` frames and show every camera there. ``fps``: the
        frame rate a step is taken at; None: the rate recorded around the cursor (of the
        first camera that has one), else 25."""
        at = self.position
        if at is None:
            raise RuntimeError("seek the group to an instant before stepping")
        if fps is None:
            fps = self._recorded_fps(at) or DEFAULT_FPS
        return self.seek(at + frames / fps, wait=wait)

    def _recorded_fps(self, t: float) -> float | None:
        try:
            with RecordingIndex.open_readonly(self.root) as index:
                for name in self.players:
                    segment = index.segment_at(name, t)
                    if segment is not None and segment.fps > 0:
                        return segment.fps
        except RecordError:
            return None
        return None

    def _wait_all(
        self, ids: dict[str, int], wait: float | None
    ) -> dict[str, PlaybackPosition | None]:
        if wait is None:
            return {}
        deadline = time.monotonic() + wait
        return {
            name: self.players[name].wait(i, max(0.0, deadline - time.monotonic()))
            for name, i in ids.items()
        }
