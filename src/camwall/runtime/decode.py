"""The decode budget: which cameras decode every frame, only keyframes, or nothing.

Decoding is the cost that grows with cameras. A 1440p H.264 frame costs ~5-9 ms of CPU to
decode on a 2-core box, whether its tile is 480×270 or hidden; 16 such cameras at 25 fps
want ~3 cores. So the runtime chooses per camera:

* **full** — every frame;
* **keyframes** — only I-frames are decoded (FFmpeg's ``skip_frame = NONKEY``): one picture
  per GOP for a few percent of the cost;
* **paused** — nothing is decoded, the connection stays up (and recording goes on: it never
  decodes); the picture comes back at the next keyframe, with no reconnect.

:class:`DecodeController` decides from what the viewer sees (:class:`Demand`: focused,
visible, an event or detection going on) and what the machine has (:class:`Load`: each
worker's measured decode cost and input rate, and the CPU busy fraction), in priority
order — the focused camera is always full; cameras with an active event or detection next;
then the visible ones; hidden cameras pause unless detection needs their frames. Changes
need to hold for a while before they are made (hysteresis), so no camera flaps. Pure logic:
the runtime feeds it and applies its decisions.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field


class DecodePolicy(enum.StrEnum):
    """How much of a camera's stream its worker decodes."""

    FULL = "full"
    KEYFRAMES = "keyframes"
    PAUSED = "paused"


_RANK = {DecodePolicy.PAUSED: 0, DecodePolicy.KEYFRAMES: 1, DecodePolicy.FULL: 2}


@dataclass(frozen=True, slots=True)
class Demand:
    """What the faces need of one camera now."""

    #: Shown somewhere (a tile on the current page of a window that is not minimised).
    visible: bool = True
    #: Enlarged, selected or zoomed: always decoded in full.
    focused: bool = False
    #: An event (camera-reported motion, a track) or detection wants its frames.
    active: bool = False
    #: Detection runs on it: frames are needed even while it is hidden.
    detecting: bool = False
    #: Always decoded in full: a video file standing in for a camera is paced by its own
    #: frames, so reading it without decoding would race through it.
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class Load:
    """What one camera's worker measured over its last stats interval."""

    #: Mean CPU ms per decoded frame.
    decode_ms: float
    #: Frames arriving per second (the camera's rate).
    fps_in: float
    #: Seconds between keyframes, if known.
    gop_s: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy for one camera and why, for stats, JSON lines and the tile's badge."""

    camera: str
    policy: DecodePolicy
    reason: str

    @property
    def badge(self) -> str:
        """What the tile shows: "" in full, "1 fps (CPU)" or "paused"."""
        if self.policy is DecodePolicy.FULL:
            return ""
        if self.policy is DecodePolicy.PAUSED:
            return "paused"
        return f"keyframes only ({self.reason})"


@dataclass
class _Track:
    policy: DecodePolicy = DecodePolicy.FULL
    reason: str = "starting"
    #: The target that differs from the current policy, and since when it has been wanted.
    wanted: DecodePolicy | None = None
    wanted_since: float = 0.0
    #: Smoothed measured cost of a full-rate frame and of a keyframe, ms.
    full_ms: float | None = None
    key_ms: float | None = None
    fps: float = 25.0
    gop_s: float = 1.0


@dataclass
class DecodeController:
    """Chooses every camera's decode policy; see the module docstring."""

    #: CPU cores the machine has.
    cores: float
    #: Fraction of the cores decoding may use (the UI, conversion and paint need the rest).
    budget: float = 0.75
    #: A camera moves to a cheaper policy after its target held this long, a dearer one after
    #: ``up_after_s`` (slower: dearer moves are what overloads the box).
    down_after_s: float = 1.0
    up_after_s: float = 4.0
    #: The box is overloaded beyond this CPU busy fraction: the budget shrinks.
    overload: float = 0.92
    #: Off: every camera decodes in full (``[wall] decode_budget = false``).
    enabled: bool = True
    _tracks: dict[str, _Track] = field(default_factory=dict)
    _scale: float = 1.0

    def start_as(self, camera: str) -> DecodePolicy:
        """The policy a camera's worker starts with: in full only when the budget is off,
        else keyframes until the first decision (moments later) — sixteen workers starting
        in full at once would swamp the machine before anything could be decided."""
        policy = DecodePolicy.FULL if not self.enabled else DecodePolicy.KEYFRAMES
        self._tracks[camera] = _Track(policy=policy, reason="starting")
        return policy

    def forget(self, camera: str) -> None:
        """Camera ``camera`` is gone."""
        self._tracks.pop(camera, None)

    def policy(self, camera: str) -> DecodePolicy:
        """The current policy of ``camera`` (full for cameras it has not seen)."""
        track = self._tracks.get(camera)
        return track.policy if track is not None else DecodePolicy.FULL

    def update(
        self,
        now: float,
        demands: dict[str, Demand],
        loads: dict[str, Load],
        cpu_busy: float | None = None,
    ) -> list[Decision]:
        """New decisions (only the cameras whose policy changes) at monotonic time ``now``.

        ``cpu_busy`` is the machine's busy fraction (0..1) over the last interval, if known:
        above ``overload`` the budget shrinks until it is not; well below, it recovers.
        """
        for name in list(self._tracks):
            if name not in demands:
                del self._tracks[name]
        for name, load in loads.items():
            self._measure(name, load)
        if cpu_busy is not None:
            if cpu_busy > self.overload:
                self._scale = max(0.3, self._scale * 0.85)
            elif cpu_busy < self.overload - 0.2:
                self._scale = min(1.0, self._scale * 1.05)
        targets = self._targets(demands)
        changes: list[Decision] = []
        for name, (policy, reason) in targets.items():
            track = self._tracks.setdefault(name, _Track())
            if policy == track.policy:
                track.wanted = None
                track.reason = reason
                continue
            if track.wanted != policy:
                track.wanted, track.wanted_since = policy, now
            up = _RANK[policy] > _RANK[track.policy]
            # At once: the focused camera, a first decision, and what a view change asks
            # (hidden → paused, shown again → decode): the viewer is waiting for it.
            urgent = demands[name].focused or "hidden" in (reason, track.reason)
            urgent = urgent or track.reason == "starting"
            hold = 0.0 if urgent else (self.up_after_s if up else self.down_after_s)
            if now - track.wanted_since >= hold:
                track.policy, track.reason, track.wanted = policy, reason, None
                changes.append(Decision(name, policy, reason))
        return changes

    def decisions(self) -> list[Decision]:
        """Every camera's current policy."""
        return [Decision(n, t.policy, t.reason) for n, t in self._tracks.items()]

    # -- the choice ----------------------------------------------------------------------------

    def _measure(self, name: str, load: Load) -> None:
        track = self._tracks.setdefault(name, _Track())
        if load.fps_in > 0:
            track.fps = load.fps_in
        if load.gop_s is not None and load.gop_s > 0:
            track.gop_s = load.gop_s
        if not load.decode_ms > 0 or not math.isfinite(load.decode_ms):
            return
        if track.policy is DecodePolicy.FULL:
            track.full_ms = _smooth(track.full_ms, load.decode_ms)
        elif track.policy is DecodePolicy.KEYFRAMES:
            track.key_ms = _smooth(track.key_ms, load.decode_ms)

    def _cost(self, name: str, policy: DecodePolicy) -> float:
        """Cores ``policy`` costs for camera ``name`` (estimated where not yet measured)."""
        track = self._tracks.setdefault(name, _Track())
        known = [t.full_ms for t in self._tracks.values() if t.full_ms is not None]
        full_ms = track.full_ms or (sum(known) / len(known) if known else 8.0)
        if policy is DecodePolicy.FULL:
            return full_ms * track.fps / 1000.0
        if policy is DecodePolicy.KEYFRAMES:
            # An I-frame costs several P-frames; one of them per GOP.
            key_ms = track.key_ms or 3.0 * full_ms
            return key_ms / max(0.2, track.gop_s) / 1000.0
        return 0.0

    def _targets(self, demands: dict[str, Demand]) -> dict[str, tuple[DecodePolicy, str]]:
        if not self.enabled:
            return {name: (DecodePolicy.FULL, "decode budget off") for name in demands}
        budget = self.cores * self.budget * self._scale
        targets: dict[str, tuple[DecodePolicy, str]] = {}
        # The floor every camera gets: the focused one full, hidden ones paused unless
        # detection needs frames, everything else keyframes.
        for name, demand in demands.items():
            if demand.focused:
                targets[name] = (DecodePolicy.FULL, "focused")
            elif demand.pinned:
                targets[name] = (DecodePolicy.FULL, "file")
            elif not demand.visible and not demand.detecting:
                targets[name] = (DecodePolicy.PAUSED, "hidden")
            else:
                targets[name] = (DecodePolicy.KEYFRAMES, "CPU")
        used = sum(self._cost(n, p) for n, (p, _) in targets.items())
        # Then upgrades to full, in priority order, while they fit; a camera already full
        # keeps its place in the queue ahead of equals (less churn).
        order = sorted(
            (n for n, (p, _) in targets.items() if p is DecodePolicy.KEYFRAMES),
            key=lambda n: (
                not demands[n].active,
                not demands[n].visible,
                self.policy(n) is not DecodePolicy.FULL,
                n,
            ),
        )
        for name in order:
            extra = self._cost(name, DecodePolicy.FULL) - self._cost(name, DecodePolicy.KEYFRAMES)
            # Dearer moves need a margin; staying full does not (hysteresis in cost too).
            margin = 1.0 if self.policy(name) is DecodePolicy.FULL else 0.9
            if used + extra <= budget * margin:
                used += extra
                reason = "event" if demands[name].active else "visible"
                targets[name] = (DecodePolicy.FULL, reason)
        return targets


def _smooth(old: float | None, new: float, weight: float = 0.3) -> float:
    return new if old is None else old + weight * (new - old)
