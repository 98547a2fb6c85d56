"""Worker bodies for the child-process helper's tests (spawn targets must be importable).

``worker(events, mode, stop=...)`` logs a line with a password in it, says "ready", then:
``"wait"`` waits for a stop request and says "stopped cleanly"; ``"crash"`` raises;
``"stubborn"`` ignores every stop request (only SIGKILL ends it).
"""

from __future__ import annotations

import logging
import threading
from multiprocessing.connection import Connection

from camwall.childproc import Child

SECRET_URL = "rtsp://admin:hunter2@10.0.0.9/stream"


def worker(events: Connection, mode: str, *, stop: Connection) -> None:
    """The test worker; see the module docstring."""
    child = Child.bootstrap(events, stop, label="test worker", log_level=logging.INFO)
    stopping = threading.Event()

    def main() -> None:
        logging.getLogger("camwall.test.child").info("connecting to %s", SECRET_URL)
        child.outbox.send("ready")
        if mode == "crash":
            raise RuntimeError(f"cannot open {SECRET_URL}")
        if mode == "stubborn":
            threading.Event().wait(120)
        stopping.wait(120)
        child.outbox.send("stopped cleanly")

    child.run(main, on_stop=stopping.set)
