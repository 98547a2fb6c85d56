"""The frame ring across real processes: tearing under stress, lifetimes, stale segments."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from camwall.frames import FrameRing, reclaim_stale
from support import ringprocs

CTX = mp.get_context("spawn")
STRESS_SECONDS = 4.0


def _run_pair(
    ring: FrameRing, zero_copy: bool, env_fence: str | None
) -> tuple[int, dict[str, int]]:
    old = os.environ.get("CAMWALL_RING_FENCE")
    if env_fence:
        os.environ["CAMWALL_RING_FENCE"] = env_fence  # inherited by the spawned children
    try:
        w_parent, w_child = CTX.Pipe()
        r_parent, r_child = CTX.Pipe()
        writer = CTX.Process(target=ringprocs.writer, args=(ring.name, STRESS_SECONDS, w_child))
        reader = CTX.Process(
            target=ringprocs.reader, args=(ring.name, STRESS_SECONDS, zero_copy, r_child)
        )
        writer.start()
        reader.start()
        assert w_parent.recv() == "ready" and r_parent.recv() == "ready"
        w_parent.send("go")
        r_parent.send("go")
        assert w_parent.poll(60) and r_parent.poll(60)
        published = w_parent.recv()
        stats = r_parent.recv()
        writer.join(10)
        reader.join(10)
        assert writer.exitcode == 0 and reader.exitcode == 0
        return published, stats
    finally:
        if old is None:
            os.environ.pop("CAMWALL_RING_FENCE", None)
        else:
            os.environ["CAMWALL_RING_FENCE"] = old


@pytest.mark.slow
@pytest.mark.parametrize("zero_copy", [False, True], ids=["read_latest", "view_latest"])
@pytest.mark.parametrize("fence", [None, "libatomic"], ids=["auto-fence", "libatomic-fence"])
def test_no_torn_frame_accepted_under_stress(zero_copy: bool, fence: str | None) -> None:
    """A writer publishing 1440p frames flat out never makes a reader accept a torn frame."""
    ring = FrameRing.create(FrameRing.capacity_for(ringprocs.W, ringprocs.H), slots=3)
    try:
        published, stats = _run_pair(ring, zero_copy, fence)
    finally:
        ring.unlink()
        ring.close()
    print(f"published {published}, reader {stats}")
    assert published > 100
    # The writer laps a 3-slot ring in about a millisecond here, so most reads are torn; a
    # few must still get through, and none of those may be a mix of two frames.
    assert stats["accepted"] >= 10
    assert stats["bad"] == 0, f"{stats['bad']} torn frames were accepted"
    if fence:
        assert stats["fence"] == "libatomic"
    # The reader must have raced the writer (seen and dropped tears), or the test proves nothing.
    assert stats["torn_seen"] + stats["lapped"] > 0
    if zero_copy:
        # The painter-style reader checks the pixels *before* asking intact(): some of the
        # views it dropped really were mixed frames, i.e. the tear detection caught real tears.
        assert stats["torn_bad"] > 0


def test_attacher_exit_keeps_segment_and_tracker_quiet() -> None:
    """An attaching process that exits (normally, or SIGKILLed) neither unlinks nor warns."""
    ring = FrameRing.create(FrameRing.capacity_for(64, 48))
    ring.publish(np.full((48, 64, 4), 42, np.uint8))
    script = textwrap.dedent(
        f"""
        import sys, time
        from camwall.frames import FrameRing
        r = FrameRing.attach({ring.name!r})
        f = r.read_latest()
        print(f.seq, int(f.array[0, 0, 0]), flush=True)
        if sys.argv[1] == "hang":
            time.sleep(60)
        r.close()
        """
    )
    try:
        for mode in ("exit", "hang"):
            proc = subprocess.Popen(
                [sys.executable, "-c", script, mode],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            assert proc.stdout.readline().split() == ["1", "42"]
            if mode == "hang":
                proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
            assert "resource_tracker" not in err and "leaked" not in err, err
            assert (Path("/dev/shm") / ring.name).exists(), (
                f"segment vanished after attacher {mode}"
            )
            frame = ring.read_latest()
            assert frame is not None and int(frame.array[0, 0, 0]) == 42
    finally:
        ring.unlink()
        ring.close()


def test_multiprocessing_attacher_does_not_unlink() -> None:
    """The same through multiprocessing's spawn, where the resource-tracker bug bites."""
    ring = FrameRing.create(FrameRing.capacity_for(64, 48))
    ring.publish(np.full((48, 64, 4), 5, np.uint8))
    try:
        parent, child = CTX.Pipe()
        proc = CTX.Process(target=ringprocs.attach_and_read, args=(ring.name, child))
        proc.start()
        assert parent.poll(30)
        seq, value, _ = parent.recv()
        proc.join(10)
        assert (seq, value, proc.exitcode) == (1, 5, 0)
        assert (Path("/dev/shm") / ring.name).exists()
    finally:
        ring.unlink()
        ring.close()


def test_owner_killed_then_reclaimed() -> None:
    """An owner SIGKILLed leaves its segment; reclaim_stale removes it, a live owner's stays."""
    parent, child = CTX.Pipe()
    proc = CTX.Process(target=ringprocs.create_and_wait, args=(child,))
    proc.start()
    assert parent.poll(30)
    dead_name = parent.recv()
    mine = FrameRing.create(4096)
    try:
        assert reclaim_stale("camwall") == []  # the owner still runs: nothing to reclaim
        assert (Path("/dev/shm") / dead_name).exists()
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        assert (Path("/dev/shm") / dead_name).exists()  # a SIGKILL runs no cleanup
        assert reclaim_stale("camwall") == [dead_name]
        assert not (Path("/dev/shm") / dead_name).exists()
        assert (Path("/dev/shm") / mine.name).exists()
    finally:
        mine.unlink()
        mine.close()


def test_reclaim_detects_reused_pid() -> None:
    """A segment whose pid now belongs to a different process is stale too."""
    from camwall.frames import _shm
    from camwall.frames.ring import _H_OWNER_START

    ring = FrameRing.create(4096)
    # Pretend this ring was made by an earlier process that had our parent's pid.
    ppid = os.getppid()
    fake = f"camwall-{ppid}-deadbeef"
    seg = _shm.create(fake, len(ring._mapping))
    seg.mapping[:] = ring._mapping[:]
    words = memoryview(seg.mapping).cast("q")
    words[_H_OWNER_START] = 1  # not our parent's start time
    words.release()
    seg.mapping.close()
    try:
        assert reclaim_stale("camwall") == [fake]
    finally:
        _shm.unlink(fake)
        ring.unlink()
        ring.close()


def test_owner_exit_unlinks() -> None:
    """An owner that exits normally without calling unlink() still removes its segment."""
    script = "from camwall.frames import FrameRing; r = FrameRing.create(4096); print(r.name)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert not (Path("/dev/shm") / out.stdout.strip()).exists()
    assert out.stderr == ""
