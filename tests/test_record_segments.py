"""Recording by remuxing real H.264 (made by PyAV at test time) into fixed-length segments."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import pickle
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import pytest

import camwall.config as config
from camwall.record import (
    RecordEvent,
    SegmentClosed,
    SegmentOpened,
    SegmentRecorder,
    iter_segments,
    parse_segment_name,
)
from camwall.record.storage import in_use
from support import recordprocs
from support.h264clip import Clip, feed, segment_report

CTX = mp.get_context("spawn")
T0 = datetime(2026, 11, 26, 10, 48, 0, tzinfo=UTC).timestamp()


def media_clock() -> tuple[list[float], Any]:
    """A wall clock that follows the media time of the packet being written (for naming)."""
    now = [T0]

    def before_write(packet: Any, stream: Any) -> None:
        if packet.pts is not None:
            now[0] = T0 + float(packet.pts * stream.time_base)

    return now, before_write


def record(
    clip: Clip, root: Path, seconds: float, *, clocked: bool = True, **kwargs: Any
) -> tuple[list[bytes], list[RecordEvent]]:
    events: list[RecordEvent] = []
    now, before = media_clock()
    fed = feed(
        clip.path,
        lambda stream: SegmentRecorder(
            "Front door",
            root,
            seconds,
            stream,
            on_event=events.append,
            **({"clock": lambda: now[0]} if clocked else {}),
            **kwargs,
        ),
        before_write=before,
    )
    return fed, events


@pytest.mark.parametrize(
    "seconds, expected",
    [(2, [2.0, 2.0, 2.0, 1.0]), (3, [3.0, 3.0, 1.0])],
    ids=["2s", "3s"],
)
def test_segments_have_expected_names_durations_and_the_original_packets(
    h264_clip_7s: Clip, tmp_path: Path, seconds: float, expected: list[float]
) -> None:
    """7 s with a keyframe every second in 2 s (3 s) segments: 4 (3) files, cut on keyframes,
    named by camera and UTC start, each playable H.264 of the right length, starting at 0,
    holding exactly the source's packets (remuxed, not re-encoded)."""
    fed, events = record(h264_clip_7s, tmp_path, seconds)
    segments = sorted(iter_segments(tmp_path))
    names = [s.path.name for s in segments]
    starts = [0.0, *[sum(expected[:i]) for i in range(1, len(expected))]]
    assert names == [
        datetime.fromtimestamp(T0 + s, UTC).strftime("front_door_%Y%m%dT%H%M%SZ.mp4")
        for s in starts
    ]
    assert all(s.path.parent == tmp_path / "front_door" / "2026-11-26" for s in segments)
    with av.open(str(h264_clip_7s.path)) as src:
        source_extradata = bytes(src.streams.video[0].codec_context.extradata)
    recorded: list[bytes] = []
    for seg, duration in zip(segments, expected, strict=True):
        info = segment_report(seg.path)
        assert info["codec"] == "h264"
        assert (info["width"], info["height"]) == (h264_clip_7s.width, h264_clip_7s.height)
        assert info["extradata"] == source_extradata
        assert abs(info["duration"] - duration) <= 1.0
        assert info["duration"] == pytest.approx(duration, abs=0.1)
        assert info["frames"] == round(duration * h264_clip_7s.fps)
        assert info["first_dts"] == 0  # rebased per segment
        recorded += info["packets"]
    assert recorded == fed  # every packet, byte for byte, in order: nothing re-encoded or lost
    opened = [e for e in events if isinstance(e, SegmentOpened)]
    closed = [e for e in events if isinstance(e, SegmentClosed)]
    assert [e.path for e in opened] == [e.path for e in closed] == [s.path for s in segments]
    assert [e.duration_s for e in closed] == pytest.approx(expected, abs=0.05)
    assert [e.bytes for e in closed] == [s.path.stat().st_size for s in segments]
    assert sum(e.packets for e in closed) == len(fed)


def test_packets_are_left_as_they_were_for_the_decoder(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """The capture worker decodes each packet after recording it: timestamps and stream
    must be unchanged, so decoding after write() still yields every frame in order."""
    decoded_pts: list[int] = []
    with av.open(str(h264_clip_7s.path)) as container:
        stream = container.streams.video[0]
        recorder = SegmentRecorder("cam", tmp_path, 2, stream)
        for packet in container.demux(stream):
            before = (packet.pts, packet.dts, packet.duration, packet.time_base, packet.stream)
            recorder.write(packet)
            after = (packet.pts, packet.dts, packet.duration, packet.time_base, packet.stream)
            assert after == before
            decoded_pts += [f.pts for f in packet.decode()]
        recorder.close()
    assert decoded_pts == [i * 512 for i in range(h264_clip_7s.frames)]


def test_segments_starting_in_the_same_second_never_overwrite(
    h264_clip_7s: Clip, tmp_path: Path
) -> None:
    """Fed faster than real time, all segments start within a second or two of wall time:
    they get -1, -2 suffixes and every one survives."""
    fed, _ = record(h264_clip_7s, tmp_path, 2, clocked=False)
    segments = sorted(iter_segments(tmp_path))
    assert len(segments) == 4
    assert len({s.path for s in segments}) == 4
    parsed = [parse_segment_name(s.path.name) for s in segments]
    assert all(p is not None and p[0] == "front_door" for p in parsed)
    recorded = [p for s in segments for p in segment_report(s.path)["packets"]]
    assert recorded == fed


def test_waits_for_a_keyframe_and_drops_what_comes_before(
    h264_clip_7s: Clip, tmp_path: Path
) -> None:
    """Joining a stream mid-GOP (as after a reconnect), recording starts at the next keyframe."""
    with av.open(str(h264_clip_7s.path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        recorder = SegmentRecorder("cam", tmp_path, 60, stream)
        for packet in packets[10:]:
            recorder.write(packet)
        recorder.close()
    (segment,) = list(iter_segments(tmp_path))
    info = segment_report(segment.path)
    first_key = next(i for i, p in enumerate(packets) if i >= 10 and p.is_keyframe)
    assert first_key == 25
    assert info["packets"] == [bytes(p) for p in packets[first_key:]]
    assert recorder.stats.dropped == first_key - 10


def test_timestamp_jump_back_starts_a_new_segment(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """The same stream restarting its clock (camera reboot) ends the segment cleanly instead
    of writing non-monotonic timestamps the muxer would reject."""
    events: list[RecordEvent] = []
    with av.open(str(h264_clip_7s.path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        recorder = SegmentRecorder("cam", tmp_path, 60, stream, on_event=events.append)
        for packet in packets[:60] + packets[:60]:
            recorder.write(packet)
        recorder.close()
    closed = [e for e in events if isinstance(e, SegmentClosed)]
    assert [e.packets for e in closed] == [60, 60]
    assert all(isinstance(e, SegmentOpened | SegmentClosed) for e in events)  # no failures


def test_switch_stream_after_a_reconnect(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """A reconnect gives a new input stream: the segment ends and the next uses the new one."""
    events: list[RecordEvent] = []
    recorder: SegmentRecorder | None = None
    for _ in range(2):
        with av.open(str(h264_clip_7s.path)) as container:
            stream = container.streams.video[0]
            if recorder is None:
                recorder = SegmentRecorder("cam", tmp_path, 60, stream, on_event=events.append)
            else:
                recorder.switch_stream(stream)
            for packet in container.demux(stream):
                recorder.write(packet)
    assert recorder is not None
    recorder.close()
    recorder.close()  # idempotent
    closed = [e for e in events if isinstance(e, SegmentClosed)]
    assert [e.packets for e in closed] == [h264_clip_7s.frames] * 2
    assert [segment_report(e.path)["frames"] for e in closed] == [h264_clip_7s.frames] * 2


def test_bad_arguments_are_rejected_up_front(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """Programming mistakes fail at construction, not on the per-packet path."""
    with av.open(str(h264_clip_7s.path)) as container:
        stream = container.streams.video[0]
        with pytest.raises(ValueError, match="segment_seconds must be a positive number"):
            SegmentRecorder("cam", tmp_path, 0, stream)
        with pytest.raises(ValueError, match="video stream"):
            SegmentRecorder("cam", tmp_path, 60, object())


@pytest.mark.timeout(120)
def test_sigkill_mid_segment_leaves_a_playable_file(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """A capture process SIGKILLed while a segment is open leaves a file that plays up to its
    last completed fragment, and its lock dies with it (retention may then delete it)."""
    parent, child = CTX.Pipe()
    proc = CTX.Process(
        target=recordprocs.hang_after, args=(str(h264_clip_7s.path), str(tmp_path), 90, child)
    )
    proc.start()
    try:
        assert parent.poll(60), "the recording child did not report"
        report = parent.recv()
        path = Path(report["path"])
        assert report["written"] == 90
        assert in_use(path)  # the live child holds the segment's lock
    finally:
        if proc.pid is not None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.join(30)
    assert proc.exitcode == -signal.SIGKILL
    assert [e["event"] for e in report["events"]] == ["segment_opened"]
    info = segment_report(path)
    assert info["codec"] == "h264"
    assert info["frames"] >= 1 and info["duration"] > 0
    # 90 packets = 3.6 s were written; fragments close at least every second, so at least
    # 2.5 s must be on disk (the open fragment at the kill is the only loss).
    assert info["frames"] >= 63
    assert not in_use(path)


def test_recorder_from_config_and_events_as_plain_data(h264_clip_7s: Clip, tmp_path: Path) -> None:
    """A camera from the config (pickled, as a spawned capture worker gets it) records into
    the configured folder and segment length; events pickle and turn into JSON lines."""
    cfg = config.loads(
        f'version = 1\n[recording]\ndir = "{tmp_path}"\nsegment_seconds = 3\n'
        f'[[camera]]\nname = "Yard"\nurl = "{h264_clip_7s.path}"\nrecord = true\n'
    )
    worker_cfg = pickle.loads(pickle.dumps(cfg))
    assert worker_cfg == cfg
    events: list[RecordEvent] = []
    feed(
        h264_clip_7s.path,
        lambda s: SegmentRecorder.for_camera(
            worker_cfg, worker_cfg.cameras[0], s, on_event=events.append
        ),
    )
    closed = [e for e in events if isinstance(e, SegmentClosed)]
    assert len(closed) == 3
    assert all(e.path.is_relative_to(tmp_path / "yard") for e in closed)
    for event in events:
        assert pickle.loads(pickle.dumps(event)) == event
        line = json.loads(json.dumps(event.to_dict()))
        assert line["camera"] == "Yard" and line["path"] == str(event.path)
    assert json.loads(json.dumps(closed[0].to_dict()))["event"] == "segment_closed"
