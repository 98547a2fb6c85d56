"""Process entry points for the frame-ring tests (importable by spawned children)."""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection

import numpy as np

from camwall.frames import FrameRing

W, H = 2560, 1440


def fill_value(seq: int) -> int:
    """The byte every pixel of frame ``seq`` holds (never 0, differs between neighbours)."""
    return seq % 251 + 1


def stamp(view: np.ndarray, seq: int) -> None:
    """Fill a frame with its seq's value and write the seq into its first and last pixels."""
    view.fill(fill_value(seq))
    flat = view.reshape(-1)
    flat[:8] = np.frombuffer(seq.to_bytes(8, "little"), np.uint8)
    flat[-8:] = np.frombuffer(seq.to_bytes(8, "little"), np.uint8)


def check(array: np.ndarray, seq: int) -> bool:
    """True if ``array`` is exactly frame ``seq`` as :func:`stamp` wrote it (no mix of frames)."""
    flat = array.reshape(-1)
    if int.from_bytes(flat[:8].tobytes(), "little") != seq:
        return False
    if int.from_bytes(flat[-8:].tobytes(), "little") != seq:
        return False
    body = flat[8:-8]
    v = fill_value(seq)
    return int(body.min()) == v and int(body.max()) == v


def writer(name: str, seconds: float, conn: Connection) -> None:
    """Publish stamped 1440p BGRA frames into ring ``name`` as fast as possible."""
    ring = FrameRing.attach(name)
    conn.send("ready")
    conn.recv()
    end = time.monotonic() + seconds
    published = 0
    while time.monotonic() < end:
        seq = ring.latest_seq + 1
        with ring.write(W, H) as view:
            stamp(view, seq)
        published += 1
    ring.close()
    conn.send(published)


def reader(name: str, seconds: float, zero_copy: bool, conn: Connection) -> None:
    """Read the ring as fast as possible, verifying every frame it accepts."""
    ring = FrameRing.attach(name)
    conn.send("ready")
    conn.recv()
    end = time.monotonic() + seconds
    accepted = bad = torn_seen = torn_bad = 0
    out = np.empty((H, W, 4), np.uint8)
    reads = 0
    while time.monotonic() < end:
        reads += 1
        if zero_copy:
            with ring.view_latest() as view:
                if view is None:
                    continue
                if reads % 16 == 0:
                    # A painter stalled mid-frame: hold the view until the writer has lapped
                    # the ring, so the slot under it really was overwritten. Racing alone
                    # does not reliably produce such reads on a slow or busy machine.
                    while ring.latest_seq < view.seq + ring.slots and time.monotonic() < end:
                        pass
                ok = check(view.array, view.seq)
                if view.intact():
                    accepted += 1
                    bad += not ok
                else:
                    torn_seen += 1
                    torn_bad += not ok
        else:
            frame = ring.read_latest(out=out)
            if frame is None:
                continue
            accepted += 1
            bad += not check(frame.array, frame.seq)
    conn.send(
        {
            "accepted": accepted,
            "bad": bad,
            "torn_seen": torn_seen + ring.torn_reads,
            "torn_bad": torn_bad,
            "lapped": ring.lapped_reads,
            "fence": ring.fence_kind,
        }
    )
    ring.close()


def create_and_wait(conn: Connection) -> None:
    """Create a ring, report its name, then wait to be killed."""
    ring = FrameRing.create(FrameRing.capacity_for(64, 48))
    ring.publish(np.full((48, 64, 4), 7, np.uint8))
    conn.send(ring.name)
    while True:
        time.sleep(1)


def attach_and_read(name: str, conn: Connection) -> None:
    """Attach, read one frame, report it, then idle (the test exits or kills us)."""
    ring = FrameRing.attach(name)
    frame = ring.read_latest()
    conn.send(None if frame is None else (frame.seq, int(frame.array[0, 0, 0]), os.getpid()))
    time.sleep(0.2)
    ring.close()
