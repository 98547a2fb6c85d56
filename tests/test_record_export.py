"""Clip export from real recordings: remuxed across segments, keyframe snapping, --accurate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import av
import pytest

from camwall.errors import RecordError
from camwall.record.export import export_clip
from camwall.record.index import RecordingIndex
from support.numbered import Recording, read_number, record_numbered

T0 = datetime(2026, 11, 26, 2, 14, 0, 0, tzinfo=UTC).timestamp()
FPS = 25


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """12 s at 25 fps, a keyframe every second, in 3 s segments."""
    root = tmp_path_factory.mktemp("export") / "rec"
    return record_numbered(root, "door", T0, seconds=12, segment_seconds=3)


def source_packets(rec: Recording) -> set[bytes]:
    packets: set[bytes] = set()
    for seg in rec.segments:
        with av.open(str(seg.path)) as container:
            packets |= {bytes(p) for p in container.demux(video=0) if p.size}
    return packets


def clip_facts(path: Path) -> tuple[float, list[int], list[bytes]]:
    """(duration s, frame numbers decoded in order, packet bytes) of a clip."""
    with av.open(str(path)) as container:
        duration = (container.duration or 0) / 1e6
        packets = [p for p in container.demux(video=0) if p.size]
        data = [bytes(p) for p in packets]
    numbers = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            numbers.append(read_number(frame.to_ndarray(format="bgra")))
    return duration, numbers, data


def test_export_remuxes_across_segments_and_snaps_to_the_keyframe(
    recorded: Recording, tmp_path: Path
) -> None:
    start, end = T0 + 1.5, T0 + 7.3
    progress: list[float] = []
    with RecordingIndex.open(recorded.root) as index:
        result = export_clip(
            index, "door", start, end, tmp_path / "clip.mp4", progress=progress.append
        )
    assert result.start == pytest.approx(T0 + 1.0, abs=1e-3)  # the keyframe before 1.5 s
    assert result.snapped_s == pytest.approx(0.5, abs=1e-3)
    assert result.segments == 3 and result.reencoded == 0
    duration, numbers, data = clip_facts(result.path)
    # Within one GOP (1 s) of what was asked for.
    assert abs(duration - (end - start)) <= 1.0 + 1e-3
    assert duration == pytest.approx(end - result.start, abs=1 / FPS + 1e-3)
    assert numbers == list(range(25, 183)), (numbers[:3], numbers[-3:])
    assert set(data) <= source_packets(recorded), "a packet was re-encoded"
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_accurate_export_reencodes_only_the_first_gop(recorded: Recording, tmp_path: Path) -> None:
    start, end = T0 + 1.5, T0 + 7.3
    with RecordingIndex.open(recorded.root) as index:
        result = export_clip(index, "door", start, end, tmp_path / "exact.mp4", accurate=True)
    assert result.start == pytest.approx(T0 + 1.52, abs=1e-3)  # frame 38, the first ≥ 1.5 s
    assert result.reencoded == 12  # frames 38…49; frame 50 is the next keyframe
    duration, numbers, data = clip_facts(result.path)
    assert duration == pytest.approx(end - start, abs=1 / FPS + 1e-3)
    assert numbers == list(range(38, 183))
    source = source_packets(recorded)
    assert not set(data[:12]) & source
    # From the next keyframe on, every packet is the recorded one (the first with the
    # camera's parameter sets in front, to switch back from the re-encoded GOP's).
    assert any(data[12].endswith(p) for p in source)
    assert set(data[13:]) <= source


def test_nothing_recorded_is_a_clear_error(recorded: Recording, tmp_path: Path) -> None:
    with RecordingIndex.open(recorded.root) as index, pytest.raises(RecordError, match="nothing"):
        export_clip(index, "door", T0 + 100, T0 + 110, tmp_path / "none.mp4")
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".*"))


def test_a_stream_that_changes_size_ends_the_clip_there_with_a_note(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    record_numbered(root, "gate", T0, seconds=4, segment_seconds=2)
    record_numbered(root, "gate", T0 + 4, seconds=4, segment_seconds=2, width=480, height=270)
    with RecordingIndex.open(root) as index:
        result = export_clip(index, "gate", T0, T0 + 8, tmp_path / "gate.mp4")
    assert result.end == pytest.approx(T0 + 4, abs=1e-3)
    assert "320×180 h264 → 480×270 h264" in result.note
    duration, numbers, _ = clip_facts(result.path)
    assert numbers == list(range(100)) and duration == pytest.approx(4.0, abs=0.05)
