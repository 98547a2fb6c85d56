"""Export a span of one camera's recordings into one MP4, by remuxing (no re-encoding).

A clip must start on a keyframe, so the start snaps back to the keyframe at or before the
requested instant (:attr:`ExportResult.snapped_s` says by how much; at most one GOP).
With ``accurate`` the first GOP is decoded and only the frames from the requested instant on
are re-encoded (H.264, libx264); every packet from the next keyframe on is copied as
recorded. The end is cut at the first frame at or after the requested end.

Segments are joined on their wall-clock times (``camwall.record.probe``), so a clip spans
segment boundaries without a gap or a repeated frame; real gaps in the recording stay gaps
in the clip's timeline.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from camwall.errors import RecordError
from camwall.record.index import RecordingIndex
from camwall.record.probe import OPEN_OPTIONS
from camwall.record.records import SegmentRecord, iso
from camwall.record.storage import FILE_MODE

log = logging.getLogger(__name__)

Progress = Callable[[float], None]
_EPS = 1e-4


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What went into an exported clip; times are epoch seconds."""

    path: Path
    camera: str
    requested_start: float
    requested_end: float
    #: Time of the clip's first and (end of its) last frame.
    start: float
    end: float
    segments: int
    packets: int
    bytes: int
    #: Frames re-encoded (``accurate``: the requested part of the first GOP; else 0).
    reencoded: int
    #: Why the clip ends before ``requested_end``, if it does for a reason other than the
    #: recording (the stream changed size or codec there); empty otherwise.
    note: str = ""

    @property
    def snapped_s(self) -> float:
        """How much earlier than requested the clip starts (keyframe snapping)."""
        return max(0.0, self.requested_start - self.start)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "path": str(self.path),
            "camera": self.camera,
            "requested_start": iso(self.requested_start),
            "requested_end": iso(self.requested_end),
            "start": iso(self.start),
            "end": iso(self.end),
            "snapped_s": round(self.snapped_s, 3),
            "segments": self.segments,
            "packets": self.packets,
            "bytes": self.bytes,
            "reencoded": self.reencoded,
            "note": self.note,
        }


@dataclass(slots=True)
class _Timed:
    packet: Any
    t: float  # presentation time, wall clock
    td: float  # decode time, wall clock
    segment: Path


def export_clip(
    index: RecordingIndex,
    camera: str,
    start: float,
    end: float,
    out: str | os.PathLike[str],
    *,
    accurate: bool = False,
    progress: Progress | None = None,
) -> ExportResult:
    """Write ``camera``'s recording of [start, end) to ``out`` (MP4); see the module docstring.

    RecordError if nothing was recorded then, the clip cannot be written, or ``accurate``
    is asked of a codec other than H.264.
    """
    if not end > start:
        raise RecordError(f"the end ({iso(end)}) must be after the start ({iso(start)})")
    segments = index.segments(camera, start, end)
    if not segments:
        raise RecordError(f"{camera}: nothing was recorded between {iso(start)} and {iso(end)}")
    if accurate and segments[0].codec != "h264":
        raise RecordError(
            f"--accurate re-encodes H.264 only; {camera} recorded {segments[0].codec} "
            "(export without --accurate to cut on a keyframe)"
        )
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written next to the target and renamed at the end: a clip appears whole or not at all.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".mp4")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        result = _write(segments, camera, start, end, tmp, accurate, progress)
        tmp.chmod(FILE_MODE)
        tmp.replace(target)
    except (av.FFmpegError, OSError) as exc:
        raise RecordError(f"cannot export {camera} to {target}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return ExportResult(target, *result)


def _write(
    segments: list[SegmentRecord],
    camera: str,
    start: float,
    end: float,
    path: Path,
    accurate: bool,
    progress: Progress | None,
) -> tuple[Any, ...]:
    first = segments[0]
    tb = first.time_base
    with av.open(str(first.path)) as probe_in:
        template = probe_in.streams.video[0]
        out = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        ostream = out.add_stream_from_template(template)
        extradata = bytes(template.codec_context.extradata or b"")
        codec_name = template.codec_context.name
    notes: list[str] = []
    selected = _select(_demux(segments, notes), start, end)
    head: list[_Timed] = []
    if accurate:
        for timed in selected:
            if head and timed.packet.is_keyframe:
                selected = itertools.chain([timed], selected)
                break
            head.append(timed)
    packets = nbytes = reencoded = 0
    clip_start: float | None = None
    last_end = start
    last_dts = -1
    used: set[Path] = set()
    reported = -1.0
    with out:
        if head:
            encoded, first_time = _reencode(head, codec_name, extradata, start, end, tb)
            clip_start = first_time
            for packet in encoded:
                assert first_time is not None
                packet.stream = ostream
                out.mux(packet)
                last_dts = packet.dts
                last_end = first_time + float((packet.pts + packet.duration) * tb)
                nbytes += packet.size
            packets = reencoded = len(encoded)
            used.add(head[0].segment)
        for timed in selected:
            if clip_start is None:
                clip_start = timed.t
            pkt = timed.packet
            duration = pkt.duration
            if reencoded and packets == reencoded and extradata[:1] == b"\x01":
                # Back to the camera's parameter sets after the re-encoded GOP's own.
                pkt = _with_parameter_sets(pkt, extradata)
            dts = max(round((timed.td - clip_start) / tb), last_dts + 1)
            pkt.pts = max(round((timed.t - clip_start) / tb), dts)
            pkt.dts = dts
            pkt.time_base = tb
            pkt.stream = ostream
            out.mux(pkt)
            last_dts = dts
            packets += 1
            nbytes += pkt.size
            used.add(timed.segment)
            last_end = max(last_end, timed.t + float((duration or 0) * tb))
            if progress is not None:
                done = min(1.0, (timed.t - clip_start) / max(_EPS, end - clip_start))
                if done - reported >= 0.01:
                    reported = done
                    progress(done)
    if clip_start is None or packets == 0:
        raise RecordError(f"{camera}: no frames between {iso(start)} and {iso(end)}")
    if progress is not None:
        progress(1.0)
    return (
        camera,
        start,
        end,
        clip_start,
        last_end,
        len(used),
        packets,
        nbytes,
        reencoded,
        "; ".join(notes),
    )


def _demux(segments: list[SegmentRecord], notes: list[str]) -> Iterator[_Timed]:
    """Every packet of ``segments`` in decode order, with wall-clock times. Stops (with a
    note) where the stream changes codec, size or parameter sets: one MP4 track cannot hold
    both, and a camera that was reconfigured is exported in two clips."""
    params: tuple[Any, ...] | None = None
    for seg in segments:
        try:
            container = av.open(str(seg.path), options=OPEN_OPTIONS)
        except (av.FFmpegError, OSError) as exc:
            log.warning("export: skipping %s: %s", seg.path, exc)
            continue
        with container:
            stream = container.streams.video[0]
            cc = stream.codec_context
            these = (cc.name, cc.width, cc.height, bytes(cc.extradata or b""))
            if params is not None and these != params:
                notes.append(
                    f"the stream changed at {iso(seg.start)} ({params[1]}×{params[2]} "
                    f"{params[0]} → {these[1]}×{these[2]} {these[0]}); the clip ends there"
                )
                log.warning("export: %s", notes[-1])
                return
            params = these
            stb = Fraction(stream.time_base or seg.time_base)
            try:
                for packet in container.demux(stream):
                    if not packet.size or packet.pts is None:
                        continue
                    dts = packet.dts if packet.dts is not None else packet.pts
                    yield _Timed(
                        packet,
                        seg.start + float((packet.pts - seg.first_pts) * stb),
                        seg.start + float((dts - seg.first_pts) * stb),
                        seg.path,
                    )
            except (av.FFmpegError, OSError) as exc:
                # A segment cut short by a crash: the clip goes on with the next one.
                log.warning("export: %s ends early: %s", seg.path, exc)


def _select(packets: Iterator[_Timed], start: float, end: float) -> Iterator[_Timed]:
    """The packets of [start, end) from the keyframe at or before ``start`` (or the first
    keyframe, if the recording begins later), in decode order."""
    gop: list[_Timed] = []
    started = False
    for timed in packets:
        if timed.t >= end - _EPS and timed.td >= end - _EPS:
            break
        if started:
            yield timed
        elif timed.packet.is_keyframe and (timed.t <= start + _EPS):
            gop = [timed]  # a later keyframe still before the start: the GOP to start from
        elif timed.packet.is_keyframe:
            started = True  # the first keyframe after the start: the GOP held in ``gop`` begins
            yield from gop
            yield timed
        elif gop:
            gop.append(timed)
    if not started:
        yield from gop


def _reencode(
    gop: list[_Timed],
    codec_name: str,
    extradata: bytes,
    start: float,
    end: float,
    tb: Fraction,
) -> tuple[list[Any], float | None]:
    """Decode the first GOP and re-encode its frames from ``start`` on as H.264: packets
    length-prefixed (as MP4 stores H.264, with their own SPS/PPS in band), timestamps in
    ``tb`` from the first of those frames, whose wall-clock time is returned too."""
    decoder: Any = av.CodecContext.create(codec_name, "r")
    if extradata:
        decoder.extradata = extradata
    times = {timed.packet.pts: timed.t for timed in gop}
    frames = [f for timed in gop for f in decoder.decode(timed.packet)]
    frames += decoder.decode(None)
    wanted = [(f, times.get(f.pts, gop[0].t)) for f in frames]
    wanted = [(f, t) for f, t in wanted if start - _EPS <= t < end - _EPS]
    if not wanted:
        return [], None
    clip_start = wanted[0][1]
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height = wanted[0][0].width, wanted[0][0].height
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = tb
    encoder.options = {"preset": "veryfast", "crf": "18", "x264-params": "bframes=0:keyint=1000"}
    length_size = (extradata[4] & 3) + 1 if len(extradata) > 4 and extradata[0] == 1 else 4
    step = 1
    if len(wanted) > 1:
        step = max(1, round((wanted[-1][1] - wanted[0][1]) / tb / (len(wanted) - 1)))
    encoded = []
    for frame, t in wanted:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        frame.pts = round((t - clip_start) / tb)
        frame.time_base = tb
        encoded.extend(encoder.encode(frame))
    encoded.extend(encoder.encode(None))
    out = []
    for packet in encoded:
        new = av.Packet(_annexb_to_length_prefixed(bytes(packet), length_size))
        new.pts = new.dts = packet.pts
        new.duration = packet.duration or step
        new.time_base = tb
        new.is_keyframe = packet.is_keyframe
        out.append(new)
    return out, clip_start


def _annexb_to_length_prefixed(data: bytes, length_size: int) -> bytes:
    """H.264 Annex B (start codes) → NAL units each prefixed by its big-endian length."""
    out = bytearray()
    for nal in _split_annexb(data):
        out += len(nal).to_bytes(length_size, "big") + nal
    return bytes(out)


def _split_annexb(data: bytes) -> list[bytes]:
    nals: list[bytes] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        begin = i + 3
        j = data.find(b"\x00\x00\x01", begin)
        stop = len(data) if j < 0 else j
        nal = data[begin:stop]
        if j >= 0 and nal.endswith(b"\x00"):
            nal = nal[:-1]  # the leading zero of a 4-byte start code
        if nal:
            nals.append(nal)
        i = j
    return nals


def _with_parameter_sets(packet: Any, extradata: bytes) -> Any:
    """``packet`` with the SPS/PPS of an avcC record in front (length-prefixed)."""
    length_size = (extradata[4] & 3) + 1
    sets: list[bytes] = []
    pos = 5
    count = extradata[pos] & 0x1F
    pos += 1
    for _ in range(count):
        n = int.from_bytes(extradata[pos : pos + 2], "big")
        sets.append(extradata[pos + 2 : pos + 2 + n])
        pos += 2 + n
    count = extradata[pos]
    pos += 1
    for _ in range(count):
        n = int.from_bytes(extradata[pos : pos + 2], "big")
        sets.append(extradata[pos + 2 : pos + 2 + n])
        pos += 2 + n
    prefix = b"".join(len(s).to_bytes(length_size, "big") + s for s in sets)
    new = av.Packet(prefix + bytes(packet))
    new.pts, new.dts, new.duration = packet.pts, packet.dts, packet.duration
    new.time_base = packet.time_base
    new.is_keyframe = True
    return new
