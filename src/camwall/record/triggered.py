"""Recording on event: the last seconds of compressed packets in memory, written when triggered.

A camera set to record on its own events (``record_on_events``) runs a
:class:`TriggeredRecorder` in its capture worker instead of continuous recording. While
nothing happens it only keeps a :class:`PreRoll`: whole GOPs (from a keyframe, so the
recording can start decoding at once) covering at least ``pre_roll_s`` of stream time,
bounded by bytes too (a 4K camera's five seconds are ~10 MB; a camera sending a keyframe a
minute would otherwise pile up). :meth:`TriggeredRecorder.trigger` writes that pre-roll into a
new segment and records every packet until ``post_roll_s`` after the last trigger, then
finishes the segment and starts keeping a pre-roll again from the next keyframe. The segment
is named and stamped by the arrival time of its first (pre-roll) packet, so its start says
when its picture was seen, not when the event came.

The packets are the demuxer's own (PyAV gives a new packet each read and the decoder does
not change them); they are written by the same :class:`~camwall.record.recorder.SegmentRecorder`
as continuous recording, with all its segment, timestamp and failure handling.
Not thread-safe: call it from the capture thread only.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from camwall.record.recorder import EventCallback, SegmentRecorder

log = logging.getLogger(__name__)

#: Default memory bound of one camera's pre-roll.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class _Gop:
    """Packets from one keyframe up to (not including) the next, with their arrival times."""

    __slots__ = ("bytes", "packets", "start_s")

    def __init__(self, start_s: float) -> None:
        self.start_s = start_s
        self.packets: list[tuple[float, Any]] = []
        self.bytes = 0


class PreRoll:
    """The newest whole GOPs covering at least ``seconds`` of stream time, within ``max_bytes``."""

    def __init__(self, seconds: float, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Keep ``seconds`` of stream (0: just the current GOP) and never more than ``max_bytes``."""
        if not seconds >= 0:
            raise ValueError(f"pre-roll seconds must not be negative, got {seconds}")
        if max_bytes <= 0:
            raise ValueError(f"pre-roll max_bytes must be positive, got {max_bytes}")
        self.seconds = float(seconds)
        self.max_bytes = max_bytes
        self._gops: deque[_Gop] = deque()
        self._bytes = 0
        self._newest_s = 0.0

    @property
    def bytes(self) -> int:
        """Bytes of packet data held now."""
        return self._bytes

    @property
    def span_s(self) -> float:
        """Stream seconds from the oldest keyframe held to the newest packet (0: empty)."""
        return self._newest_s - self._gops[0].start_s if self._gops else 0.0

    def __len__(self) -> int:
        return sum(len(g.packets) for g in self._gops)

    def add(self, packet: Any, time_base: Fraction, arrival: float) -> None:
        """Keep ``packet`` (arrived at wall time ``arrival``); a packet before any keyframe is
        dropped: a recording cannot start in the middle of a GOP."""
        ts = packet.dts if packet.dts is not None else packet.pts
        if ts is None:
            return
        at = float(ts * time_base)
        if packet.is_keyframe:
            self._gops.append(_Gop(at))
        elif not self._gops:
            return
        gop = self._gops[-1]
        gop.packets.append((arrival, packet))
        gop.bytes += packet.size
        self._bytes += packet.size
        self._newest_s = at
        self._trim()

    def _trim(self) -> None:
        # The oldest GOP goes once the next one alone reaches back far enough.
        while len(self._gops) >= 2 and self._newest_s - self._gops[1].start_s >= self.seconds:
            self._drop()
        while self._bytes > self.max_bytes and self._gops:
            self._drop()  # over the memory bound: even the current GOP, until a keyframe

    def _drop(self) -> None:
        gop = self._gops.popleft()
        self._bytes -= gop.bytes

    def take(self) -> list[tuple[float, Any]]:
        """Every packet held, oldest first (starting at a keyframe), and forget them."""
        out = [p for gop in self._gops for p in gop.packets]
        self.clear()
        return out

    def clear(self) -> None:
        """Forget everything (a new connection: its packets start afresh)."""
        self._gops.clear()
        self._bytes = 0


class TriggeredRecorder:
    """Records around triggers with pre- and post-roll; see the module docstring.

    It stands where the capture worker otherwise puts a ``SegmentRecorder``: the same
    ``write``, ``switch_stream``, ``close``, ``camera`` and ``current_path``.
    """

    def __init__(
        self,
        camera_name: str,
        directory: str | Path,
        segment_seconds: float,
        input_stream: Any,
        *,
        pre_roll_s: float,
        max_bytes: int = DEFAULT_MAX_BYTES,
        on_event: EventCallback | None = None,
        retry_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Keep ``pre_roll_s`` of ``input_stream`` in memory until :meth:`trigger`."""
        self._clock = clock
        self._monotonic = monotonic
        self._stamp: float | None = None  # the wall time the next segment is named by
        self._recorder = SegmentRecorder(
            camera_name,
            directory,
            segment_seconds,
            input_stream,
            on_event=on_event,
            retry_seconds=retry_seconds,
            clock=self._segment_clock,
        )
        self._input = input_stream
        self._time_base = Fraction(input_stream.time_base)
        self.pre_roll = PreRoll(pre_roll_s, max_bytes)
        self._until: float | None = None

    @property
    def camera(self) -> str:
        """The camera segments are filed under."""
        return self._recorder.camera

    @property
    def current_path(self) -> Path | None:
        """The segment being written, if any."""
        return self._recorder.current_path

    @property
    def recording(self) -> bool:
        """True from a trigger until its post-roll has passed."""
        return self._until is not None

    def _segment_clock(self) -> float:
        return self._stamp if self._stamp is not None else self._clock()

    def write(self, packet: Any) -> None:
        """One demuxed packet: recorded during an event, else kept as pre-roll."""
        if self._until is not None:
            if self._monotonic() <= self._until:
                self._recorder.write(packet)
                return
            self._end()
        if packet.stream_index != self._input.index or packet.size == 0:
            return
        self.pre_roll.add(packet, self._time_base, self._clock())

    def trigger(self, post_roll_s: float) -> None:
        """An event: record from the pre-roll on (or go on) until ``post_roll_s`` from now."""
        until = self._monotonic() + max(0.0, post_roll_s)
        if self._until is not None:
            self._until = max(self._until, until)
            return
        self._until = until
        held = self.pre_roll.take()
        log.info(
            "%s: event: recording with %.1f s of pre-roll (%d packets)",
            self.camera,
            (self._clock() - held[0][0]) if held else 0.0,
            len(held),
        )
        for index, (arrival, packet) in enumerate(held):
            self._stamp = arrival if index == 0 else None
            self._recorder.write(packet)
        self._stamp = None

    def _end(self) -> None:
        """The post-roll has passed: finish the segment, keep a pre-roll again."""
        self._until = None
        self._recorder.switch_stream(self._input)  # finishes the open segment
        log.info("%s: event over: recording finished", self.camera)

    def switch_stream(self, input_stream: Any) -> None:
        """A new connection: ends the segment; the pre-roll restarts with the new stream."""
        self.pre_roll.clear()
        self._recorder.switch_stream(input_stream)
        self._input = input_stream
        self._time_base = Fraction(input_stream.time_base)

    def close(self) -> None:
        """Finish the open segment and stop."""
        self.pre_roll.clear()
        self._until = None
        self._recorder.close()


__all__ = ["DEFAULT_MAX_BYTES", "PreRoll", "TriggeredRecorder"]
