"""Real cameras' stream habits: a long GOP joined mid-GOP, a camera at 0.25 fps.

Each case runs a real server on 127.0.0.1 (the GStreamer RTSP server with a 6 s GOP that
does not restart its GOP for a joining client, an MJPEG-over-HTTP camera at 0.25 fps) and
checks that the source neither gives up nor reconnects, and that the limits can be set.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from camwall.capture import CameraSpec, CameraState, CaptureSupervisor, StateEvent
from camwall.errors import StreamLostError
from camwall.frames import FrameRing
from camwall.sources import SourceSettings, open_source
from camwall.sources.base import READ_TIMEOUT_MAX_S, Source
from camwall.sources.check import check_source
from camwall.sources.liveness import Liveness
from fixtures.rtsp import RtspServer, ServerFactory
from support.events import EventLog
from support.faultservers import MjpegServer

#: 15 fps, a keyframe every 90 frames: 6 s from one keyframe to the next.
LONG_GOP = "longgop:width=320,height=180,fps=15,gop=90"
#: How far into the GOP the client under test joins: the next keyframe is ≈ 5.5 s away, far
#: more than the 3 s the stall limit used to allow from open, with room for a busy machine.
INTO_GOP_S = 0.5


@pytest.fixture
def opened() -> Iterator[list[Source]]:
    """Sources appended here are closed after the test."""
    sources: list[Source] = []
    yield sources
    for s in sources:
        s.close()


@pytest.fixture
def long_gop(rtsp_server_factory: ServerFactory) -> RtspServer:
    """An RTSP camera with a 6 s GOP at ``/longgop``."""
    return rtsp_server_factory((LONG_GOP,), None)


@contextlib.contextmanager
def mid_gop(server: RtspServer) -> Iterator[None]:
    """Inside, a new client of ``/longgop`` joins INTO_GOP_S after a keyframe.

    A first client stays connected (the server keeps one shared encoder, as a camera does):
    its first frame is a keyframe; it reads on until the GOP is INTO_GOP_S old.
    """
    warm = open_source(SourceSettings(server.url("longgop"), first_frame_timeout_s=20))
    try:
        warm.open()
        warm.read()
        keyframe_at = time.monotonic()
        while time.monotonic() - keyframe_at < INTO_GOP_S:
            warm.read()
        yield
    finally:
        warm.close()


# -- long GOP ---------------------------------------------------------------------------------


@pytest.mark.rtsp
def test_long_gop_joined_mid_gop_waits_for_the_keyframe(
    long_gop: RtspServer, opened: list[Source]
) -> None:
    """Packets keep arriving without a picture for > 3 s: not a stall; the keyframe comes."""
    with mid_gop(long_gop):
        src = open_source(SourceSettings(long_gop.url("longgop")))
        opened.append(src)
        t0 = time.monotonic()
        src.open()
        frame = src.read()
        waited = time.monotonic() - t0
        assert (frame.width, frame.height) == (320, 180)
        assert waited > 3.0, f"joined too close to a keyframe ({waited:.1f} s): case not met"
        for _ in range(15):
            src.read()  # and it goes on at the stream's rate
    assert src.stats.packets > 30  # the packets of the GOP's rest arrived, undecodable


@pytest.mark.rtsp
def test_long_gop_passes_check(long_gop: RtspServer) -> None:
    """``camwall check`` of a long-GOP camera joined mid-GOP: OK, first frame after > 3 s."""
    with mid_gop(long_gop):
        report = check_source(long_gop.url("longgop"), seconds=1.0)
    assert report.ok, report.summary()
    assert report.time_to_first_frame_s is not None and report.time_to_first_frame_s > 3.0
    assert report.frames >= 10


@pytest.mark.rtsp
def test_first_frame_timeout_is_settable(long_gop: RtspServer, opened: list[Source]) -> None:
    """A set first_frame_timeout_s bounds the wait, with a reason that names the setting."""
    with mid_gop(long_gop):
        src = open_source(SourceSettings(long_gop.url("longgop"), first_frame_timeout_s=1.0))
        opened.append(src)
        src.open()
        t0 = time.monotonic()
        with pytest.raises(StreamLostError, match=r"no frame for 1\.0 s") as err:
            src.read()
    assert time.monotonic() - t0 < 3.0
    assert "packets arrived but none decoded" in str(err.value)
    assert "first_frame_timeout_s" in str(err.value)


@pytest.mark.rtsp
@pytest.mark.timeout(120)
def test_capture_joins_a_long_gop_without_reconnecting(long_gop: RtspServer) -> None:
    """Through the capture worker: the first frame lands in the ring, never LOST on the way."""
    events = EventLog()
    sup = CaptureSupervisor(events, mode="process", stop_deadline_s=3.0)
    try:
        with mid_gop(long_gop):
            t0 = time.monotonic()
            sup.start(
                CameraSpec(
                    name="gop",
                    source=SourceSettings(long_gop.url("longgop")),
                    initial_frame=(320, 180),
                )
            )
            wait_for_frames(events, "gop", 1)
            waited = time.monotonic() - t0
        states = [e.state for e in events.events if isinstance(e, StateEvent)]
        assert CameraState.LOST not in states, states
        assert waited > 3.0, f"joined too close to a keyframe ({waited:.1f} s): case not met"
    finally:
        assert sup.close(timeout=15.0)


def wait_for_frames(events: EventLog, camera: str, n: int, timeout: float = 30.0) -> None:
    """Wait until ``camera``'s ring has published ``n`` frames."""
    ring = FrameRing.attach(events.ring(camera).ring_name)
    try:
        deadline = time.monotonic() + timeout
        while ring.latest_seq < n:
            assert time.monotonic() < deadline, f"{ring.latest_seq} frames in {timeout} s"
            time.sleep(0.05)
    finally:
        ring.close()


# -- slow cameras -----------------------------------------------------------------------------


@pytest.fixture
def slow_mjpeg() -> Iterator[MjpegServer]:
    """An MJPEG-over-HTTP camera sending one picture every 4 s (0.25 fps).

    640×360: FFmpeg's format probe reads 2 kB before it knows the stream is MJPEG, and a
    smaller picture (a flat test image compresses well) would make it wait for the next one.
    """
    server = MjpegServer(width=640, height=360, fps=0.25)
    yield server
    server.stop()


@pytest.mark.timeout(120)
def test_camera_at_quarter_fps_is_not_lost_between_frames(
    slow_mjpeg: MjpegServer, opened: list[Source]
) -> None:
    """Three 4 s frame intervals in a row: no timeout; the read limit follows the interval."""
    src = open_source(SourceSettings(slow_mjpeg.stream_url))
    opened.append(src)
    src.open()
    src.read()
    t0 = time.monotonic()
    for _ in range(3):
        src.read()
    assert time.monotonic() - t0 > 3 * 3.5  # really three slow intervals
    assert src.stats.frames == 4


@pytest.mark.rtsp
@pytest.mark.timeout(120)
def test_slow_rtsp_camera_opens_and_plays(
    rtsp_server_factory: ServerFactory, opened: list[Source]
) -> None:
    """0.5 fps over RTSP, first picture seconds after PLAY (the test server's encoder holds a
    few frames): the open waits for it (the server answered RTSP), then 3 intervals pass."""
    server = rtsp_server_factory(("slow:width=320,height=180,fps=1/2",), None)
    src = open_source(SourceSettings(server.url("slow")))
    opened.append(src)
    t0 = time.monotonic()
    info = src.open()
    assert time.monotonic() - t0 > 2.5, "the first frame came at once: case not met"
    assert info.fps == pytest.approx(0.5)
    src.read()
    t1 = time.monotonic()
    while time.monotonic() - t1 < 3 * 2.0 + 0.5:  # three 2 s intervals; a loss raises
        src.read()
    assert src.stats.frames >= 4


@pytest.mark.timeout(60)
def test_a_set_read_timeout_is_kept(slow_mjpeg: MjpegServer, opened: list[Source]) -> None:
    """read_timeout_s set per camera is used as is: 2 s against a 4 s interval is a loss."""
    src = open_source(SourceSettings(slow_mjpeg.stream_url, read_timeout_s=2.0))
    opened.append(src)
    src.open()
    with pytest.raises(StreamLostError, match=r"no data for 2\.0 s"):
        for _ in range(3):
            src.read()


@pytest.mark.timeout(120)
def test_capture_keeps_a_quarter_fps_camera_without_reconnecting(
    slow_mjpeg: MjpegServer,
) -> None:
    """Through the capture worker: 4 frames in the ring over 3 intervals, never LOST."""
    events = EventLog()
    sup = CaptureSupervisor(events, mode="process", stop_deadline_s=3.0)
    try:
        sup.start(
            CameraSpec(
                name="slow", source=SourceSettings(slow_mjpeg.stream_url), initial_frame=(640, 360)
            )
        )
        wait_for_frames(events, "slow", 4)
        states = [e.state for e in events.events if isinstance(e, StateEvent)]
        assert CameraState.LOST not in states, states
        assert slow_mjpeg.streams_served == 1  # one connection: no reconnect
    finally:
        assert sup.close(timeout=15.0)


# -- the limits themselves --------------------------------------------------------------------


def test_liveness_learns_the_rhythm() -> None:
    """Adaptive limits: generous until the pace is known, then 3 intervals (≥ 2 s, ≤ 20 s)."""
    live = Liveness(SourceSettings("rtsp://cam/x"))
    live.reset(100.0)
    assert live.read_limit == live.first_frame_limit == 12.0  # pace unknown yet
    live.packet(100.0, None)
    live.packet(104.0, None)  # 0.25 fps
    live.frame(104.0)
    assert live.interval_s == pytest.approx(4.0)
    assert live.read_limit == pytest.approx(12.0) and live.stall_limit == pytest.approx(12.0)
    assert live.lost(115.0, read_started=104.0) is None
    assert live.lost(116.5, read_started=104.0) == "read-timeout"
    fast = Liveness(SourceSettings("rtsp://cam/x"))
    fast.reset(0.0)
    for i in range(5):
        fast.packet(i / 25, None)
    assert fast.read_limit == 2.0 and fast.stall_limit == 3.0
    slowest = Liveness(SourceSettings("rtsp://cam/x"))
    slowest.reset(0.0)
    slowest.packet(0.0, 0.0)
    slowest.packet(0.01, 30.0)  # buffered packets: the timestamps tell the interval
    assert slowest.read_limit == READ_TIMEOUT_MAX_S


def test_liveness_packets_without_pictures_are_not_a_stall() -> None:
    """Accepted packets are progress (mid-GOP); only the first-frame limit ends the wait."""
    live = Liveness(SourceSettings("rtsp://cam/x", first_frame_timeout_s=8.0))
    live.reset(0.0)
    for i in range(1, 160):
        live.packet(i / 20, None)
        live.progress(i / 20)
        assert live.lost(i / 20) is None
    assert live.lost(8.1) == "no-keyframe"
    assert live.limit("no-keyframe") == 8.0
    live.frame(8.1)
    assert live.lost(8.2) is None
    assert live.lost(8.1 + 3.01) == "stall"  # no packets at all: the stall limit


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_timeouts_must_be_positive(value: float) -> None:
    """A nonsensical timeout is refused when the settings are made, naming the field."""
    with pytest.raises(ValueError, match="first_frame_timeout_s must be a positive"):
        SourceSettings("rtsp://cam/x", first_frame_timeout_s=value)
    with pytest.raises(ValueError, match="read_timeout_s must be a positive"):
        SourceSettings("rtsp://cam/x", read_timeout_s=value)


def test_liveness_with_a_set_read_timeout_for_a_very_slow_camera() -> None:
    """read_timeout_s=60 for a 20 s interval: neither the stall nor the cap cuts it shorter."""
    live = Liveness(SourceSettings("rtsp://cam/x", read_timeout_s=60.0))
    live.reset(0.0)
    live.packet(0.0, None)
    live.frame(0.0)
    assert live.lost(11.0, read_started=0.0) is None  # pace unknown: stall waits 12 s
    live.packet(20.0, None)
    live.frame(20.0)
    assert live.read_limit == 60.0 and live.stall_limit == 60.0
    assert live.lost(75.0, read_started=20.0) is None
    assert live.lost(81.0, read_started=20.0) == "read-timeout"


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("restore_camwall_logging")
def test_check_uses_each_config_cameras_own_timeouts(
    slow_mjpeg: MjpegServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``camwall check`` of a config: a 0.25 fps camera passes with adaptive limits and fails
    with the read_timeout_s its config sets (2 s), as its capture would."""
    from camwall.cli import main

    config = tmp_path / "camwall.toml"
    config.write_text(
        "version = 1\n"
        f'[[camera]]\nname = "adaptive"\nurl = "{slow_mjpeg.stream_url}"\n'
        f'[[camera]]\nname = "strict"\nurl = "{slow_mjpeg.stream_url}"\nread_timeout_s = 2.0\n'
    )
    code = main(["check", "--config", str(config), "--json", "--seconds", "1"])
    doc = json.loads(capsys.readouterr().out)
    adaptive, strict = doc["checks"]
    assert adaptive["ok"] and adaptive["frames"] >= 2, adaptive
    assert not strict["ok"] and "no data for 2.0 s" in strict["reason"], strict
    assert code == 3
