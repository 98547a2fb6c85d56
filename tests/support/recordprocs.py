"""Child-process entry points for the recording tests: killed mid-segment, and disks that fill up.

``hang_after`` and ``file_size_limited`` are multiprocessing targets (spawn). Run as a module
(``python -m support.recordprocs diskfull CLIP DIR``) it is the body of the ENOSPC test, which
runs inside its own user+mount namespace on a tiny tmpfs and prints a JSON report.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import av

from camwall.record import RecordEvent, RetentionPolicy, SegmentRecorder, enforce, iter_segments
from support.h264clip import segment_report


def _event_dict(event: RecordEvent) -> dict[str, Any]:
    return event.to_dict()


def hang_after(clip: str, root: str, packets: int, conn: Connection) -> None:
    """Record ``packets`` packets of ``clip`` into one long segment, report, then wait to be killed."""
    events: list[dict[str, Any]] = []
    with av.open(clip) as container:
        stream = container.streams.video[0]
        recorder = SegmentRecorder(
            "killed cam", root, 60, stream, on_event=lambda e: events.append(_event_dict(e))
        )
        written = 0
        for packet in container.demux(stream):
            if not packet.size:
                continue
            recorder.write(packet)
            written += 1
            if written == packets:
                break
        conn.send({"written": written, "path": str(recorder.current_path), "events": events})
        time.sleep(600)  # the parent SIGKILLs us here, with the segment still open


def file_size_limited(clip: str, root: str, limit: int, conn: Connection) -> None:
    """Record ``clip`` with RLIMIT_FSIZE = ``limit``: every segment hits EFBIG mid-way."""
    # Without ignoring SIGXFSZ the kernel would kill the process at the limit; ignored, the
    # write fails with EFBIG, which is what a recorder sees when a disk or quota fills.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    events: list[dict[str, Any]] = []
    raised: list[str] = []
    with av.open(clip) as container:
        stream = container.streams.video[0]
        recorder = SegmentRecorder(
            "full cam",
            root,
            2,
            stream,
            on_event=lambda e: events.append(_event_dict(e)),
            retry_seconds=0,
        )
        for packet in container.demux(stream):
            if not packet.size:
                continue
            try:
                recorder.write(packet)
            except Exception as exc:  # noqa: BLE001 - the point: nothing may escape write()
                raised.append(repr(exc))
        recorder.close()
    conn.send(
        {
            "events": events,
            "raised": raised,
            "state": recorder.state,
            "stats": [recorder.stats.segments, recorder.stats.errors, recorder.stats.dropped],
        }
    )


def _feed(clip: str, recorder: SegmentRecorder | None, make: Any) -> SegmentRecorder:
    with av.open(clip) as container:
        stream = container.streams.video[0]
        if recorder is None:
            recorder = make(stream)
        else:
            recorder.switch_stream(stream)
        for packet in container.demux(stream):
            if packet.size:
                recorder.write(packet)
    return recorder


def disk_full_main(clip: str, root: str) -> dict[str, Any]:
    """Fill a small tmpfs at ``root`` until ENOSPC, free space, and record again."""
    events: list[dict[str, Any]] = []
    raised: list[str] = []

    def make(stream: Any) -> SegmentRecorder:
        return SegmentRecorder(
            "full disk",
            root,
            2,
            stream,
            on_event=lambda e: events.append(_event_dict(e)),
            retry_seconds=0,
        )

    recorder: SegmentRecorder | None = None
    # Feed the clip until the disk is full (a few rounds; each round is 7 s of video).
    for _ in range(20):
        try:
            recorder = _feed(clip, recorder, make)
        except Exception as exc:  # noqa: BLE001 - process boundary: the parent fails the test
            raised.append(repr(exc))
            break
        if any(e["event"] == "recording_failed" for e in events):
            break
    assert recorder is not None
    failed_at = len(events)
    segments = sorted(iter_segments(Path(root)))
    reports = [segment_report(s.path) for s in segments if s.path != recorder.current_path]
    playable = [r["frames"] for r in reports]
    decode_errors = sum(r["decode_errors"] for r in reports)
    # Free space as retention would, then record once more: recording must resume.
    freed = enforce(root, RetentionPolicy(max_total_bytes=0)).deleted
    try:
        recorder = _feed(clip, recorder, make)
        recorder.close()
    except Exception as exc:  # noqa: BLE001 - process boundary: the parent fails the test
        raised.append(repr(exc))
    return {
        "events": events,
        "failed_at": failed_at,
        "raised": raised,
        "playable_frames": playable,
        "decode_errors": decode_errors,
        "freed": len(freed),
    }


if __name__ == "__main__":
    if sys.argv[1] == "diskfull":
        print(json.dumps(disk_full_main(sys.argv[2], sys.argv[3])))
