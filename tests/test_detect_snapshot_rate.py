"""Track snapshots are rate-limited per camera and label: a busy scene does not flood the disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from camwall.detect.messages import TrackEvent
from camwall.detect.snapshots import JpegSnapshots


def appeared(camera: str, label: str, track: int, at: float) -> TrackEvent:
    return TrackEvent(
        kind="appeared",
        camera=camera,
        label=label,
        track_id=track,
        time=at,
        capture_ns=0,
        seq=track,
        box=(4.0, 4.0, 20.0, 20.0),
        best_score=0.9,
    )


def test_at_most_one_snapshot_per_camera_and_label_every_interval(tmp_path: Path) -> None:
    snaps = JpegSnapshots(tmp_path, min_interval_s=10.0)
    image = np.zeros((36, 64, 3), np.uint8)
    t0 = 1_700_000_000.0
    saved = [snaps(appeared("door", "person", n, t0 + n), image) for n in range(12)]
    # The first, then nothing for 10 s, then the one 10 s later (t0+10), and not t0+11.
    assert [s is not None for s in saved] == [True] + [False] * 9 + [True, False]
    # Another label and another camera have their own budget.
    assert snaps(appeared("door", "car", 100, t0 + 1), image) is not None
    assert snaps(appeared("yard", "person", 101, t0 + 1), image) is not None
    assert len(list(tmp_path.glob("*.jpg"))) == 4
    # No limit when asked for none.
    free = JpegSnapshots(tmp_path / "all", min_interval_s=0.0)
    assert all(free(appeared("door", "person", n, t0), image) for n in range(3))
