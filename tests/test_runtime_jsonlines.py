"""The JSON-lines writer: a slow or vanished reader never blocks the threads that emit events."""

from __future__ import annotations

import json
import os
import threading

from camwall.runtime.jsonlines import JsonLinesWriter


def _drain(fd: int, into: list[bytes]) -> threading.Thread:
    def run() -> None:
        while chunk := os.read(fd, 65536):
            into.append(chunk)

    thread = threading.Thread(target=run, name="test-drain", daemon=True)
    thread.start()
    return thread


def test_a_stalled_reader_costs_events_not_time() -> None:
    """Nobody reads the pipe: write() still returns at once, drops are counted and reported."""
    r, w = os.pipe()
    stream = os.fdopen(w, "w", encoding="utf-8")
    writer = JsonLinesWriter(stream, max_pending=50).start()
    done = threading.Event()

    def emit() -> None:
        for i in range(5000):
            writer.write({"type": "stats", "n": i, "pad": "x" * 200})
        done.set()

    emitter = threading.Thread(target=emit, name="test-emitter", daemon=True)
    emitter.start()
    # A blocking writer would hang here forever: the pipe (64 KiB) is full after ~300 lines.
    assert done.wait(30), "write() blocked on a stalled reader"
    emitter.join()
    assert writer.dropped_total > 0
    chunks: list[bytes] = []
    reader = _drain(r, chunks)
    writer.close(timeout=10)
    stream.close()
    reader.join(10)
    os.close(r)
    lines = [json.loads(line) for line in b"".join(chunks).decode().splitlines()]
    dropped = [line for line in lines if line["type"] == "dropped"]
    assert dropped and sum(d["events"] for d in dropped) == writer.dropped_total
    kept = [line["n"] for line in lines if line["type"] == "stats"]
    assert kept == sorted(kept) and len(kept) + writer.dropped_total == 5000


def test_a_vanished_reader_stops_the_writer_and_says_so() -> None:
    """EPIPE: on_broken is called once, later writes are ignored, close() does not hang."""
    r, w = os.pipe()
    os.close(r)
    stream = os.fdopen(w, "w", encoding="utf-8")
    broken = threading.Event()
    writer = JsonLinesWriter(stream, on_broken=broken.set).start()
    writer.write({"type": "state"})
    assert broken.wait(10)
    assert writer.broken
    writer.write({"type": "state"})
    writer.close(timeout=5)
    try:
        stream.close()
    except BrokenPipeError:
        pass  # the buffered text could not be flushed: the reader is gone


def test_everything_queued_is_written_on_close() -> None:
    """close() drains the queue before the thread ends."""
    r, w = os.pipe()
    stream = os.fdopen(w, "w", encoding="utf-8")
    chunks: list[bytes] = []
    reader = _drain(r, chunks)
    writer = JsonLinesWriter(stream).start()
    for i in range(1000):
        writer.write({"type": "x", "i": i, "text": "é"})
    writer.close(timeout=10)
    stream.close()
    reader.join(10)
    os.close(r)
    lines = b"".join(chunks).decode().splitlines()
    assert [json.loads(line)["i"] for line in lines] == list(range(1000))
    assert writer.written == 1000 and writer.dropped_total == 0
