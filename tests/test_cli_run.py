"""``camwall run --headless`` as a real subprocess against the real RTSP server.

It must stream, notice the camera dying and coming back, record, print all of it as JSON
lines, stop cleanly on SIGTERM/SIGINT (exit code 0, no child process, no shared memory), and
never import Qt (the child checks its own ``sys.modules`` on the way out).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import psutil
import pytest

from camwall.cli import main
from conftest import camwall_segments
from fixtures.rtsp import RtspServer
from support.camwall_noqt import QT_IMPORTED_EXIT
from support.runtime_events import Collector

NOQT = Path(__file__).resolve().parent / "support" / "camwall_noqt.py"


class Headless:
    """One ``camwall run --headless`` child; stdout JSON lines parsed into ``events``."""

    def __init__(self, config: Path, *args: str, stderr: IO[str]) -> None:
        self.events = Collector()
        self.bad_lines: list[str] = []
        self._stderr = stderr
        self.proc = subprocess.Popen(
            [sys.executable, str(NOQT), "run", "--headless", "--config", str(config), *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, name="test-headless-out", daemon=True)
        self._reader.start()
        self.seen: set[int] = set()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.events.add(json.loads(line))
            except json.JSONDecodeError:
                self.bad_lines.append(line)

    def note_descendants(self) -> None:
        """Remember every process the child has started so far."""
        with contextlib.suppress(psutil.Error):
            self.seen |= {p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)}

    def stop(self, sig: signal.Signals, timeout: float = 30.0) -> int:
        """Send ``sig``; wait for the exit code and the end of its output."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    def stderr_text(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def kill(self) -> None:
        """Teardown after a failure: nothing may outlive the test."""
        if self.proc.poll() is None:
            self.note_descendants()
            self.proc.kill()
            self.proc.wait(10)
        for pid in self.seen:
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()
        self._reader.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


StartHeadless = Callable[..., Headless]


@pytest.fixture
def headless(tmp_path: Path) -> Iterator[StartHeadless]:
    """Start ``camwall run --headless`` children; each is killed at teardown if still alive."""
    started: list[Headless] = []
    files: list[IO[str]] = []

    def start(config: Path, *args: str) -> Headless:
        err = (tmp_path / f"stderr-{len(started)}.txt").open("w+", encoding="utf-8")
        files.append(err)
        child = Headless(config, *args, stderr=err)
        started.append(child)
        return child

    yield start
    for child in started:
        child.kill()
    for f in files:
        f.close()


def gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    """The pids still alive (not zombies) after waiting up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        alive = set()
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.add(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def segments_of(pid: int) -> set[str]:
    return {name for name in camwall_segments() if name.startswith(f"camwall-{pid}-")}


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_headless_streams_reconnects_records_and_stops_clean(
    tmp_path: Path, rtsp_server: RtspServer, headless: StartHeadless
) -> None:
    """The whole life of a headless camwall against a camera that dies and comes back."""
    config = tmp_path / "camwall.toml"
    config.write_text(
        f"""
version = 1
[recording]
dir = "rec"
segment_seconds = 2
[[camera]]
name = "door"
url = "{rtsp_server.url("cam")}"
record = true
detect = true
"""
    )
    child = headless(config, "--stats-interval", "1")
    ev = child.events
    ev.wait_type("state", 60, camera="door", state="streaming")
    ev.wait_type("info", 5, camera="door", codec="h264", width=320, height=180)
    ev.wait_type("stats", 20, camera="door")
    ev.wait_type("recording", 20, camera="door", event="segment_closed")
    ev.wait_type("detect_status", 30, camera="door", state="detecting")
    child.note_descendants()
    assert len(child.seen) >= 2  # a capture worker and the detection worker, at least
    pid = child.proc.pid
    assert segments_of(pid), "the camera's frame ring should exist while it runs"

    # The camera dies: the state says so, with a reason.
    mark = len(ev)
    rtsp_server.stop()
    lost = ev.wait(
        lambda i: (
            i["type"] == "state" and i["camera"] == "door" and i["state"] in ("lost", "backoff")
        ),
        30,
        after=mark,
    )
    assert lost["reason"] and lost["error"]
    # ...and comes back on the same port: streaming again, recording again.
    mark = len(ev)
    rtsp_server.start()
    ev.wait_type("state", 60, after=mark, camera="door", state="streaming")
    ev.wait_type("recording", 30, after=mark, camera="door", event="segment_opened")
    child.note_descendants()

    code = child.stop(signal.SIGTERM)
    err = child.stderr_text()
    assert code == 0, err[-3000:]
    assert "Traceback" not in err and "QT-IMPORTED" not in err
    assert not child.bad_lines
    assert ev.items[-1]["type"] == "runtime" and ev.items[-1]["kind"] == "stopped"
    assert ev.items[-1]["message"] == ""  # everything stopped in time
    assert not gone(child.seen), "child processes outlived camwall"
    assert not segments_of(pid), "shared memory left behind"
    for path in (tmp_path / "rec" / "door").rglob("*.mp4"):
        assert path.stat().st_size > 0


@pytest.mark.slow
def test_headless_writes_events_to_a_file_and_stops_on_sigint(
    tmp_path: Path, headless: StartHeadless
) -> None:
    """--events FILE: JSON lines appended to the file; Ctrl-C (SIGINT) is a clean stop."""
    config = tmp_path / "camwall.toml"
    config.write_text(
        'version = 1\n[[camera]]\nname = "s"\nurl = "synthetic://s?width=64&height=48&fps=10"\n'
    )
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "earlier run"}\n')
    child = headless(config, "--events", str(events), "--stats-interval", "0.5")
    deadline = time.monotonic() + 60
    while '"stats"' not in events.read_text():
        assert child.proc.poll() is None, child.stderr_text()
        assert time.monotonic() < deadline, events.read_text()
        time.sleep(0.1)
    child.note_descendants()
    code = child.stop(signal.SIGINT)
    assert code == 0, child.stderr_text()[-3000:]
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert lines[0] == {"type": "earlier run"}  # appended, not overwritten
    types = [line["type"] for line in lines[1:]]
    assert types[0] == "runtime" and "state" in types and "stats" in types
    assert lines[-1]["kind"] == "stopped"
    assert child.events.items == []  # nothing on stdout
    assert not gone(child.seen)
    assert not segments_of(child.proc.pid)


@pytest.mark.usefixtures("restore_camwall_logging")
def test_headless_with_no_cameras_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid config without cameras: exit 2 and what to add."""
    config = tmp_path / "camwall.toml"
    config.write_text("version = 1\n")
    assert main(["run", "--headless", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "no cameras configured" in err and "[[camera]]" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("restore_camwall_logging")
def test_headless_unwritable_events_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--events into a missing folder: exit 2 naming the option, nothing started."""
    config = tmp_path / "camwall.toml"
    config.write_text(
        'version = 1\n[[camera]]\nname = "s"\nurl = "synthetic://s?width=64&height=48&fps=10"\n'
    )
    target = tmp_path / "missing" / "events.jsonl"
    assert main(["run", "--headless", "--config", str(config), "--events", str(target)]) == 2
    err = capsys.readouterr().err
    assert "--events" in err and str(target) in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("restore_camwall_logging")
def test_run_without_a_display_points_to_headless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`camwall run` (the wall) on a box without a display: exit 2, use --headless."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "camwall.toml"
    config.write_text(
        'version = 1\n[[camera]]\nname = "s"\nurl = "synthetic://s?width=64&height=48&fps=10"\n'
    )
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "no display" in err and "--headless" in err


def test_the_noqt_wrapper_detects_qt(tmp_path: Path) -> None:
    """The check in the child is real: with Qt imported, the wrapper exits 99 and says so."""
    code = (
        f"import sys; sys.path.insert(0, {str(NOQT.parent)!r}); import qtpy, camwall_noqt; "
        f"sys.argv = ['camwall_noqt', 'check', '--config', {str(tmp_path / 'none.toml')!r}]; "
        "sys.exit(camwall_noqt.main())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == QT_IMPORTED_EXIT, result.stderr
    assert "QT-IMPORTED:" in result.stderr and "qtpy" in result.stderr
