"""``camwall run --headless`` as a real subprocess against the real RTSP server.

It must stream, notice the camera dying and coming back, record, print all of it as JSON
lines, stop cleanly on SIGTERM/SIGINT/SIGHUP (exit code 0, the open segment finished, no child
process, no shared memory), lose at most about a second of video when SIGKILLed, and never
import Qt (the child checks its own ``sys.modules`` on the way out).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import av
import psutil
import pytest

from camwall.cli import main
from conftest import camwall_segments
from fixtures.rtsp import RtspServer
from support.camwall_noqt import QT_IMPORTED_EXIT
from support.h264clip import Clip, make_h264_clip
from support.runtime_events import Collector

NOQT = Path(__file__).resolve().parent / "support" / "camwall_noqt.py"


class Headless:
    """One ``camwall run --headless`` child; stdout JSON lines parsed into ``events``."""

    def __init__(
        self, config: Path, *args: str, stderr: IO[str], new_session: bool = False
    ) -> None:
        self.events = Collector()
        self.bad_lines: list[str] = []
        self._stderr = stderr
        # new_session: its own process group, which a test can signal as a terminal would.
        self.proc = subprocess.Popen(
            [sys.executable, str(NOQT), "run", "--headless", "--config", str(config), *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            start_new_session=new_session,
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
        return self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the exit code and the end of its output."""
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

    def start(config: Path, *args: str, new_session: bool = False) -> Headless:
        err = (tmp_path / f"stderr-{len(started)}.txt").open("w+", encoding="utf-8")
        files.append(err)
        child = Headless(config, *args, stderr=err, new_session=new_session)
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
    # Without a display — or, on a node installed without Qt, without a binding: one line
    # that says so and points to headless, never Qt's own abort.
    reason = "no display" if importlib.util.find_spec("qtpy") else "needs a Qt binding"
    assert reason in err and "--headless" in err


def test_the_noqt_wrapper_detects_qt(tmp_path: Path) -> None:
    """The check in the child is real: with Qt imported, the wrapper exits 99 and says so."""
    pytest.importorskip("qtpy", reason="a node without Qt has nothing to detect")
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


def recording_file_camera(tmp_path: Path, clip: Clip, *, detect: bool = False) -> Path:
    """A config with one file camera (the clip, looping at its own pace) that records into
    ``tmp_path/rec`` in 60 s segments: whatever stops camwall finds a segment open."""
    config = tmp_path / "camwall.toml"
    config.write_text(
        f"""
version = 1
[recording]
dir = "rec"
segment_seconds = 60
[[camera]]
name = "file"
url = "{clip.path}"
record = true
detect = {str(detect).lower()}
"""
    )
    return config


def media_seconds(path: Path) -> tuple[float, int]:
    """(seconds of video, frames decoded) in a segment file, from its packets' timestamps."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        time_base, rate = stream.time_base, stream.average_rate
        pts = [p.pts for p in container.demux(stream) if p.size and p.pts is not None]
    with av.open(str(path)) as container:
        frames = sum(len(p.decode()) for p in container.demux(video=0))
    assert time_base is not None and rate
    span = (max(pts) - min(pts)) * time_base + 1 / rate if pts else 0
    return float(span), frames


def fragment_seconds(path: Path) -> list[float]:
    """How many seconds of video each fragment (moof+mdat) of an MP4 file holds (by decode
    time: B-frames make presentation times reach a little past a fragment's end)."""
    data = path.read_bytes()
    starts, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if data[offset + 4 : offset + 8] == b"moof":
            starts.append(offset)
        if size < 8:
            break
        offset += size
    spans: dict[int, list[int]] = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.size and packet.dts is not None and packet.pos is not None:
                owner = max((s for s in starts if s < packet.pos), default=-1)
                spans.setdefault(owner, []).append(packet.dts)
        assert stream.time_base is not None and stream.average_rate
        frame = 1 / stream.average_rate
        return [float((max(p) - min(p)) * stream.time_base + frame) for p in spans.values()]


def wait_stats(child: Headless, count: int, after: int) -> None:
    """Wait until the child printed ``count`` stats events after index ``after``."""
    for _ in range(count):
        item = child.events.wait_type("stats", 30, after=after, camera="file")
        after = child.events.items.index(item) + 1


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("to", ["process", "group"])
@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda sig: sig.name
)
def test_headless_stops_clean_on_every_stop_signal(
    tmp_path: Path, h264_clip_7s: Clip, headless: StartHeadless, sig: signal.Signals, to: str
) -> None:
    """SIGINT, SIGTERM and SIGHUP, to camwall alone or to its whole process group (as a
    terminal or systemd sends them): exit code 0, the open segment finished and playable,
    no child process and no shared memory left."""
    config = recording_file_camera(tmp_path, h264_clip_7s)
    child = headless(config, "--stats-interval", "0.5", new_session=True)
    ev = child.events
    opened = ev.wait_type("recording", 60, camera="file", event="segment_opened")
    wait_stats(child, 2, after=ev.items.index(opened))  # a second of recording
    child.note_descendants()
    pid = child.proc.pid
    assert child.seen and segments_of(pid), "a capture worker and its ring should exist"
    if to == "group":
        os.killpg(pid, sig)
        code = child.wait()
    else:
        code = child.stop(sig)
    err = child.stderr_text()
    assert code == 0, err[-3000:]
    assert "Traceback" not in err
    closed = ev.wait_type("recording", 5, camera="file", event="segment_closed")
    assert closed["path"] == opened["path"]
    seconds, frames = media_seconds(Path(closed["path"]))
    assert frames == closed["packets"] > 0
    assert seconds == pytest.approx(closed["duration_s"], abs=0.1)
    assert ev.items[-1]["type"] == "runtime" and ev.items[-1]["kind"] == "stopped"
    assert ev.items[-1]["message"] == ""  # everything stopped in time
    assert not gone(child.seen), "child processes outlived camwall"
    assert not segments_of(pid), "shared memory left behind"


@pytest.fixture(scope="module")
def sparse_keyframes_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """8 s of 320×180 H.264 with a keyframe every 4 s, as many cameras send."""
    return make_h264_clip(tmp_path_factory.mktemp("clips") / "gop4s.mp4", seconds=8, gop=100)


@pytest.mark.slow
@pytest.mark.timeout(150)
@pytest.mark.parametrize("to", ["process", "group"])
def test_headless_killed_while_recording_loses_at_most_a_second(
    tmp_path: Path, sparse_keyframes_clip: Clip, headless: StartHeadless, to: str
) -> None:
    """SIGKILL to camwall (its workers then stop: their stop pipe closed) or to its whole
    group (everything dies at once): every segment plays, the last one lost at most about a
    second (fragments of ≤ 1 s although keyframes come every 4 s), and the next start
    reclaims the dead run's shared memory."""
    clip = sparse_keyframes_clip
    # With detection: the detection worker, too, must end when its owner is killed.
    config = recording_file_camera(tmp_path, clip, detect=True)
    child = headless(config, "--stats-interval", "0.5", new_session=True)
    ev = child.events
    opened = ev.wait_type("recording", 60, camera="file", event="segment_opened")
    ev.wait_type("detect_status", 60, camera="file", state="detecting")
    wait_stats(child, 6, after=ev.items.index(opened))  # a few seconds of recording
    child.note_descendants()
    pid = child.proc.pid
    rings = segments_of(pid)
    assert len(child.seen) >= 2 and rings  # a capture worker and the detection worker
    killed_at = time.time()
    if to == "group":
        os.killpg(pid, signal.SIGKILL)
    else:
        os.kill(pid, signal.SIGKILL)
    assert child.wait(10) == -signal.SIGKILL
    assert not gone(child.seen), "workers outlived their killed owner"
    # Nobody was left to unlink the rings (though another camwall run sharing /dev/shm on
    # this machine may reclaim them before the next start below does).
    assert segments_of(pid) <= rings

    segments = sorted((tmp_path / "rec" / "file").rglob("*.mp4"))
    assert [str(p) for p in segments] == [opened["path"]]
    seconds, frames = media_seconds(segments[0])
    assert frames > 0
    assert max(fragment_seconds(segments[0])) <= 1.0 + 1 / clip.fps + 1e-6
    recording_for = killed_at - datetime.fromisoformat(opened["start"]).timestamp()
    lost = recording_for - seconds
    # At most the fragment being filled (≤ 1 s), plus scheduling slack on a busy machine.
    assert lost <= 1.5, f"recorded {seconds:.2f} s of {recording_for:.2f} s"

    # The next start removes the killed run's rings (their owner is dead).
    again = headless(config, "--seconds", "1")
    assert again.wait(60) == 0, again.stderr_text()[-3000:]
    assert not segments_of(pid), "the next start did not reclaim the dead run's rings"
