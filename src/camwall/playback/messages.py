"""Messages between a :class:`~camwall.playback.Playback` and its worker: small dataclasses.

Commands go to the worker; every command carries an ``id`` that the worker echoes in the
:class:`PlaybackPosition` it sends once the command took effect, so an owner can wait for
exactly that answer. Events come back: positions, state changes, spans without recording
(log records travel as :class:`camwall.childproc.LogRecordMessage`). No pixels travel here:
frames go through the playback's FrameRing, whose slot ``pts`` is the frame's recorded
wall-clock time in nanoseconds since the epoch (:func:`frame_time`).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any

#: Slowest and fastest playback speeds.
MIN_SPEED = 0.25
MAX_SPEED = 16.0


class PlaybackState(enum.StrEnum):
    """What a playback worker is doing."""

    STARTING = "starting"  # the worker is opening the ring and the index
    PAUSED = "paused"  # showing one frame (after a seek, a step, a pause)
    PLAYING = "playing"
    NO_RECORDING = "no_recording"  # the position is in a gap, or its segment is missing/corrupt
    ENDED = "ended"  # played past the last recorded frame
    FAILED = "failed"  # the worker cannot run (no index, no ring); reason says why
    STOPPED = "stopped"  # the worker has exited


# -- commands (owner → worker) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seek:
    """Show the frame recorded at wall-clock ``t`` (epoch s): the last frame at or before it."""

    id: int
    t: float


@dataclass(frozen=True, slots=True)
class Play:
    """Play at ``speed``. Timeline instant ``at`` is due at ``anchor_ns`` (``time.monotonic_ns``):
    workers given the same pair stay in step without talking to each other. ``at`` None: from
    the frame shown now, starting at once."""

    id: int
    speed: float = 1.0
    at: float | None = None
    anchor_ns: int | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop playing; ``at`` given: show the frame of that instant (a group pauses in sync)."""

    id: int
    at: float | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """Pause and move ``frames`` frames (±1 usually), across segment boundaries."""

    id: int
    frames: int = 1


Command = Seek | Play | Pause | Step


# -- events (worker → owner) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaybackPosition:
    """The frame shown: recorded at ``t`` (epoch s; None: none shown), ring sequence ``seq``.

    Sent when a command took effect (``done`` is its id) and a few times a second while
    playing (``done`` 0).
    """

    camera: str
    t: float | None
    seq: int
    state: PlaybackState
    done: int = 0
    #: Frames decoded but not shown since the last Play (playing faster than it can show).
    dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON lines."""
        return {"type": "playback_position", **asdict(self)}


@dataclass(frozen=True, slots=True)
class PlaybackStateChanged:
    """The worker entered ``state`` at timeline instant ``t``; ``reason`` for people."""

    camera: str
    state: PlaybackState
    t: float | None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON lines."""
        return {"type": "playback_state", **asdict(self)}


@dataclass(frozen=True, slots=True)
class NoRecording:
    """Nothing to show for [start, end) (epoch s; None: open-ended): a gap between segments,
    or a segment that is ``missing`` or ``corrupt``. A view shows "no recording" there."""

    camera: str
    start: float | None
    end: float | None
    reason: str  # "gap", "missing", "corrupt", "before", "after"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON lines."""
        return {"type": "no_recording", **asdict(self)}


PlaybackEvent = PlaybackPosition | PlaybackStateChanged | NoRecording


def frame_time(pts: int | None) -> float | None:
    """The recorded wall-clock time (epoch s) of a playback ring frame, from its slot ``pts``."""
    return None if pts is None else pts / 1e9


def clamp_speed(speed: float) -> float:
    """``speed`` checked against [MIN_SPEED, MAX_SPEED]; ValueError outside."""
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValueError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, not {speed}")
    return float(speed)
