"""The runtime keeps a recordings index per folder: segments as they close, state events."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from camwall.record.index import RecordingIndex
from fixtures.recording_runtime import RecordingRun


@pytest.mark.slow
def test_runtime_indexes_what_it_records(
    recording_runtime: Callable[..., RecordingRun],
) -> None:
    """A file camera recording in 1 s segments: the index lists every closed segment and the
    camera's state changes, without anyone calling the index but the runtime."""
    run = recording_runtime()
    rt, events = run.runtime, run.events
    index = rt.recording_index().result(timeout=30)
    assert index is rt.recording_index(run.folder).result(0)  # one per folder
    events.wait_type("state", 30, camera="clip", state="streaming")
    events.wait(lambda i: i["type"] == "recording" and i.get("event") == "segment_closed", 30)
    paths = {Path(c.path) for c in run.closed_segments()}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        indexed = {s.path for s in index.segments("clip")}
        if paths <= indexed and index.events("clip", kind="state"):
            break
        time.sleep(0.05)
    assert paths <= indexed, (paths, indexed)
    states = [e.label for e in index.events("clip", kind="state")]
    assert "streaming" in states
    spans = index.spans("clip")
    assert spans and spans[0][1] > spans[0][0]
    run.close()
    # Closing the runtime closed the index and stopped its thread (the autouse fixture checks
    # for threads left behind); a second index opened on the folder sees the same segments.
    with RecordingIndex.open_readonly(run.folder) as again:
        assert paths <= {s.path for s in again.segments("clip")}


@pytest.mark.slow
def test_retention_removes_the_rows_of_the_files_it_deletes(
    recording_runtime: Callable[..., RecordingRun],
) -> None:
    """A tiny size cap: retention deletes the oldest segments; the index forgets them."""
    run = recording_runtime(max_total_gb=0.00004)
    index = run.runtime.recording_index().result(timeout=30)
    run.events.wait_type("retention", 30)
    gone = [c.path for c in run.closed_segments() if not c.path.exists()]
    assert gone
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = {s.path for s in index.segments("clip")}
        if not listed & set(gone) and listed:
            break
        time.sleep(0.05)
    assert not listed & set(gone) and listed
