"""How quickly ``PyAVSource.interrupt()`` ends a blocked open or read (what "stop" waits for).

Run: .venv/bin/python bench/source_stop.py [--runs 5]

Uses the tests' real GStreamer RTSP server (system python with GStreamer needed) and a
silent TCP server. Three cases, each interrupted from another thread while blocked:
a read on a frozen (SIGSTOPped) server, a read on a live 15 fps stream, an open on a server
that accepts and never answers. Timeouts are set to 30 s, so anything fast is the interrupt.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from camwall.errors import StreamLostError
from camwall.sources import Source, SourceSettings, open_source
from fixtures.rtsp import RtspServer, gst_missing
from support.faultservers import SilentServer


def interrupted_after(src: Source, delay: float, blocked: object) -> float:
    """Call ``blocked()`` and interrupt ``src`` after ``delay`` s; seconds from interrupt to return."""
    stamp: dict[str, float] = {}

    def stop() -> None:
        stamp["at"] = time.monotonic()
        src.interrupt()

    timer = threading.Timer(delay, stop)
    timer.start()
    try:
        while True:
            blocked()  # type: ignore[operator]
    except StreamLostError:
        return time.monotonic() - stamp["at"]
    finally:
        timer.join()


def main() -> None:
    """Measure and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if reason := gst_missing():
        raise SystemExit(reason)
    slow = {"open_timeout_s": 30.0, "read_timeout_s": 30.0, "stall_timeout_s": 30.0}
    results: dict[str, list[float]] = {
        "read, frozen server": [],
        "read, live 15 fps stream": [],
        "open, silent server": [],
    }
    server = RtspServer(("cam:width=320,height=180,fps=15",)).start()
    try:
        for _ in range(args.runs):
            src = open_source(SourceSettings(server.url("cam"), **slow))  # type: ignore[arg-type]
            src.open()
            src.read()
            server.freeze()
            results["read, frozen server"].append(interrupted_after(src, 0.4, src.read))
            server.thaw()
            src.close()

            src = open_source(SourceSettings(server.url("cam"), **slow))  # type: ignore[arg-type]
            src.open()
            src.read()
            results["read, live 15 fps stream"].append(interrupted_after(src, 0.3, src.read))
            src.close()

            silent = SilentServer()
            src = open_source(SourceSettings(silent.url("rtsp"), **slow))  # type: ignore[arg-type]
            results["open, silent server"].append(interrupted_after(src, 0.4, src.open))
            src.close()
            silent.stop()
    finally:
        server.stop()
    print("| blocked in | median ms | max ms |")
    print("|---|---:|---:|")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values) * 1e3:.0f} | {max(values) * 1e3:.0f} |")


if __name__ == "__main__":
    main()
