"""A real RTSP server (GStreamer rtsp-server fed by live x264 encoders) run as a child process.

Used by the tests (tests/fixtures/rtsp.py) and by ``camwall demo`` to put one demo camera on
the network path. The server itself, ``scripts/rtsp_server.py``, runs under the *system*
python because it needs GObject introspection (Debian: python3-gi, gir1.2-gst-rtsp-server-1.0,
gstreamer1.0-plugins-ugly for x264enc); this module only starts, controls and stops it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(__file__).resolve().parent / "scripts" / "rtsp_server.py"
USER, PASSWORD = "user", "secret"
DEFAULT_MOUNTS = (
    "cam:width=320,height=180,fps=15,pattern=smpte",
    "secure:width=320,height=180,fps=15,pattern=smpte,auth=1",
    "audio:audio=1",
)
START_TIMEOUT_S = 20.0


@functools.cache
def gst_missing() -> str | None:
    """Why the RTSP server cannot run here, or None if it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
        "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
        "assert Gst.ElementFactory.find('x264enc'), 'x264enc (gstreamer1.0-plugins-ugly) missing'"
    )
    result = subprocess.run(
        [SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return (
            "GStreamer RTSP server not usable with the system python (install python3-gi, "
            f"gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-ugly): {last}"
        )
    return None


class RtspServer:
    """One ``rtsp_server.py`` process: start, kill, freeze, restart on the same port, control."""

    def __init__(self, mounts: tuple[str, ...], credentials: str | None = None) -> None:
        """Configure; :meth:`start` launches it."""
        self.mounts = mounts
        self.credentials = credentials
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._buffer = ""

    def start(self) -> RtspServer:
        """Launch the server (on the previous port if it ran before) and wait until it listens."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("the RTSP server is already running")
        cmd = [SYSTEM_PYTHON, str(SERVER), "--port", str(self.port)]
        for mount in self.mounts:
            cmd += ["--mount", mount]
        if self.credentials:
            cmd += ["--credentials", self.credentials]
        # Kept open for the process's lifetime (closed in stop()); read for failure messages.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._buffer = ""
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        line = self._read_line(START_TIMEOUT_S)
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line!r} {self.stderr_tail()}")
        self.port = int(line.split()[1])
        return self

    def _read_line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while "\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sel.select(remaining):
                    return ""
                chunk = os.read(fd, 4096).decode()
                if not chunk:
                    return ""
                self._buffer += chunk
        line, self._buffer = self._buffer.split("\n", 1)
        return line.strip()

    def stderr_tail(self) -> str:
        """The end of the server's stderr (for failure messages)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def command(self, line: str, timeout: float = 10.0) -> str:
        """Send a control command; return the server's reply (raises on ERR)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self._read_line(timeout)
        if not reply.startswith("OK"):
            raise RuntimeError(f"RTSP server: {line!r} → {reply!r} {self.stderr_tail()}")
        return reply

    def set_resolution(self, mount: str, width: int, height: int) -> None:
        """Switch the running stream of ``mount`` to ``width``×``height``."""
        self.command(f"resolution {mount} {width} {height}")

    def url(
        self,
        mount: str = "cam",
        user: str | None = None,
        password: str | None = None,
        scheme: str = "rtsp",
    ) -> str:
        """``rtsp://[user:password@]127.0.0.1:PORT/mount``."""
        cred = f"{user}:{password}@" if user is not None else ""
        return f"{scheme}://{cred}127.0.0.1:{self.port}/{mount}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def freeze(self) -> None:
        """SIGSTOP the server: connections stay open, nothing is sent (a hung camera)."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after :meth:`freeze`."""
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        """SIGKILL the server (the camera dies) and reap it. Idempotent."""
        proc, self.proc = self.proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGCONT)  # a frozen process must run to be reaped
                proc.kill()
            proc.wait(10)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
