"""PyAVSource against the real GStreamer RTSP server: playing, dying, freezing, stopping."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from camwall.errors import InvalidSourceError, StreamLostError
from camwall.sources import SourceSettings, open_source
from camwall.sources.avframe import PyAVFrame
from camwall.sources.pyav import PyAVSource
from fixtures.rtsp import RtspServer, ServerFactory
from support.pictures import smpte_errors

pytestmark = pytest.mark.rtsp


def source_for(url: str, **kw: object) -> PyAVSource:
    """An unopened PyAVSource for ``url``."""
    src = open_source(SourceSettings(url, **kw))  # type: ignore[arg-type]
    assert isinstance(src, PyAVSource)
    return src


@pytest.fixture
def closing() -> Iterator[list[PyAVSource]]:
    """Sources appended here are closed after the test, whatever happens."""
    sources: list[PyAVSource] = []
    yield sources
    for s in sources:
        s.close()


def read_some(src: PyAVSource, n: int) -> list[PyAVFrame]:
    """Read ``n`` frames (each must be converted before the next read, so keep their info)."""
    return [src.read() for _ in range(n)]


class Timer:
    """Calls ``fn`` after ``delay`` s in a thread that the test joins."""

    def __init__(self, delay: float, fn: object) -> None:
        self.thread = threading.Timer(delay, fn)  # type: ignore[arg-type]
        self.thread.start()

    def join(self) -> None:
        self.thread.cancel()
        self.thread.join(5)


def test_rtsp_plays_frames_with_the_right_picture(
    rtsp_shared: RtspServer, closing: list[PyAVSource]
) -> None:
    """Frames arrive at the declared size and convert into the SMPTE bars the server sends."""
    src = source_for(rtsp_shared.url("cam"))
    closing.append(src)
    info = src.open()
    assert (info.codec, info.width, info.height) == ("h264", 320, 180)
    assert info.fps == pytest.approx(15, rel=0.1)
    assert info.transport == "tcp"
    assert info.pix_fmt == "yuv420p"
    dst = np.zeros((180, 320, 4), np.uint8)
    pts = []
    for _ in range(20):
        frame = src.read()
        frame.convert_into(dst)
        pts.append(frame.pts)
        assert (frame.width, frame.height) == (320, 180)
        assert frame.capture_ns > 0
    assert not smpte_errors(dst), smpte_errors(dst)
    assert (dst[..., 3] == 255).all()
    assert src.stats.frames == 20
    assert src.stats.packets >= 19 and src.stats.bytes > 0
    numbers = [p for p in pts if p is not None]
    assert numbers == sorted(numbers) and len(set(numbers)) >= 18


def test_rtsp_over_udp(rtsp_shared: RtspServer, closing: list[PyAVSource]) -> None:
    """UDP transport is selectable and delivers the same picture."""
    src = source_for(rtsp_shared.url("cam"), transport="udp")
    closing.append(src)
    assert src.open().transport == "udp"
    dst = np.zeros((180, 320, 4), np.uint8)
    for frame in read_some(src, 5):
        frame.convert_into(dst)
    assert not smpte_errors(dst)


def test_credentials_open_the_secure_mount(
    rtsp_shared: RtspServer, closing: list[PyAVSource]
) -> None:
    """Basic auth in the URL is sent to the camera; the info shows the masked URL."""
    src = source_for(rtsp_shared.url("secure", "user", "secret"))
    closing.append(src)
    info = src.open()
    assert info.url == f"rtsp://***@127.0.0.1:{rtsp_shared.port}/secure"
    assert src.read().width == 320


def test_scaled_conversion_into_a_tile(rtsp_shared: RtspServer, closing: list[PyAVSource]) -> None:
    """convert_into a smaller destination scales (the tile-sized publish) and keeps the bars."""
    src = source_for(rtsp_shared.url("cam"))
    closing.append(src)
    src.open()
    tile = np.zeros((90, 160, 4), np.uint8)
    for frame in read_some(src, 3):
        frame.convert_into(tile)
    assert not smpte_errors(tile, tolerance=50)


def test_packet_sink_sees_every_video_packet_before_decode(
    rtsp_shared: RtspServer, closing: list[PyAVSource]
) -> None:
    """The recorder seam: every demuxed packet goes to the sink, with the input stream exposed."""
    src = source_for(rtsp_shared.url("cam"))
    closing.append(src)
    packets = []
    src.set_packet_sink(packets.append)
    src.open()
    assert src.packet_stream is not None and src.packet_stream.type == "video"
    read_some(src, 10)
    assert len(packets) == src.stats.packets >= 10
    assert any(p.is_keyframe for p in packets)
    assert all(p.stream is src.packet_stream for p in packets)


def test_hwaccel_is_a_clear_error(rtsp_shared: RtspServer) -> None:
    """The hardware-decoding seam exists but says plainly that it is not implemented."""
    src = source_for(rtsp_shared.url("cam"), hwaccel="vaapi")
    with pytest.raises(InvalidSourceError, match=r"hwaccel='vaapi'.*not implemented"):
        src.open()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_1440p_stream_arrives_at_the_stream_rate(
    rtsp_server_factory: ServerFactory, closing: list[PyAVSource]
) -> None:
    """2560×1440 H.264 frames arrive at about the encoder's rate and convert to the bars."""
    fps = 10
    server = rtsp_server_factory(
        (f"big:width=2560,height=1440,fps={fps},pattern=smpte",), credentials=None
    )
    src = source_for(server.url("big"), open_timeout_s=10, read_timeout_s=10, stall_timeout_s=10)
    closing.append(src)
    info = src.open()
    assert (info.width, info.height) == (2560, 1440)
    slot = np.zeros((1440, 2560, 4), np.uint8)
    src.read().convert_into(slot)
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < 4.0:
        frame = src.read()
        assert (frame.width, frame.height) == (2560, 1440)
        frame.convert_into(slot)
        n += 1
    rate = n / (time.monotonic() - t0)
    # The encoder shares 2 cores with the tests: "about" the stream rate, never more.
    assert 0.6 * fps <= rate <= 1.3 * fps, rate
    assert not smpte_errors(slot), smpte_errors(slot)


def test_resolution_change_mid_stream(rtsp_server: RtspServer, closing: list[PyAVSource]) -> None:
    """The camera switches 320×180 → 640×360 on the same session: frames and info follow."""
    src = source_for(rtsp_server.url("cam"), stall_timeout_s=5)
    closing.append(src)
    src.open()
    assert src.read().width == 320
    rtsp_server.set_resolution("cam", 640, 360)
    deadline = time.monotonic() + 10
    while True:
        frame = src.read()
        if (frame.width, frame.height) == (640, 360):
            break
        assert time.monotonic() < deadline, "the new resolution never arrived"
    # Take a settled frame a little after the switch.
    frame = read_some(src, 3)[-1]
    dst = np.zeros((360, 640, 4), np.uint8)
    frame.convert_into(dst)
    assert not smpte_errors(dst)
    assert src.info is not None and (src.info.width, src.info.height) == (640, 360)


def test_server_killed_mid_stream_is_a_lost_stream(
    rtsp_server: RtspServer, closing: list[PyAVSource]
) -> None:
    """SIGKILL of the camera: read raises StreamLostError within ~3 s, not a hang."""
    src = source_for(rtsp_server.url("cam"))
    closing.append(src)
    src.open()
    read_some(src, 3)
    rtsp_server.stop()
    t0 = time.monotonic()
    with pytest.raises(StreamLostError) as err:
        while True:
            src.read()
    assert time.monotonic() - t0 < 4.0
    assert "127.0.0.1" in str(err.value)


def test_camera_comes_back_on_the_same_port(
    rtsp_server: RtspServer, closing: list[PyAVSource]
) -> None:
    """After a kill and restart, a fresh open of the same URL plays again."""
    url = rtsp_server.url("cam")
    rtsp_server.stop()
    rtsp_server.start()
    assert rtsp_server.url("cam") == url
    src = source_for(url)
    closing.append(src)
    src.open()
    assert src.read().width == 320


def test_frozen_server_is_lost_by_read_timeout(
    rtsp_server: RtspServer, closing: list[PyAVSource]
) -> None:
    """SIGSTOP: connected but silent. The read gives up after read_timeout_s (~2 s)."""
    src = source_for(rtsp_server.url("cam"))
    closing.append(src)
    src.open()
    read_some(src, 3)
    rtsp_server.freeze()
    t0 = time.monotonic()
    with pytest.raises(StreamLostError, match=r"no data for 2\.0 s") as err:
        while True:
            src.read()
    elapsed = time.monotonic() - t0
    assert 1.0 < elapsed < 4.0, elapsed
    assert "last frame" in str(err.value)


def test_frozen_server_is_lost_by_frame_age(
    rtsp_server: RtspServer, closing: list[PyAVSource]
) -> None:
    """With a long read timeout, the stall timeout (age of the last frame) still catches it."""
    src = source_for(rtsp_server.url("cam"), read_timeout_s=20, stall_timeout_s=1.5)
    closing.append(src)
    src.open()
    read_some(src, 3)
    rtsp_server.freeze()
    t0 = time.monotonic()
    # The detail is usually "connected, but no data arrives"; if the freeze cut a frame in
    # half, FFmpeg hands out the fragment and the detail counts one decode error instead.
    with pytest.raises(StreamLostError, match=r"no frame for 1\.5 s \((connected|only undec)"):
        while True:
            src.read()
    assert time.monotonic() - t0 < 3.5


def test_interrupt_ends_a_blocked_read_promptly(
    rtsp_server: RtspServer, closing: list[PyAVSource]
) -> None:
    """interrupt() from another thread ends a read blocked on a silent socket in well under 1 s."""
    src = source_for(rtsp_server.url("cam"), read_timeout_s=20, stall_timeout_s=20)
    closing.append(src)
    src.open()
    read_some(src, 3)
    rtsp_server.freeze()
    timer = Timer(0.5, src.interrupt)
    t0 = time.monotonic()
    try:
        with pytest.raises(StreamLostError, match="interrupted"):
            while True:
                src.read()
    finally:
        timer.join()
    assert time.monotonic() - t0 < 1.5


def test_interrupt_ends_a_blocked_open_promptly(
    rtsp_server: RtspServer, closing: list[PyAVSource]
) -> None:
    """interrupt() also cuts an open that waits on a silent server (frozen before connecting)."""
    rtsp_server.freeze()
    src = source_for(rtsp_server.url("cam"), open_timeout_s=20)
    closing.append(src)
    timer = Timer(0.5, src.interrupt)
    t0 = time.monotonic()
    try:
        with pytest.raises(StreamLostError, match="interrupted"):
            src.open()
    finally:
        timer.join()
    assert time.monotonic() - t0 < 1.5


def test_read_before_open_and_after_close(rtsp_shared: RtspServer) -> None:
    """Misuse is a clear error, and close is idempotent."""
    src = source_for(rtsp_shared.url("cam"))
    with pytest.raises(StreamLostError, match="before open"):
        src.read()
    src.open()
    src.close()
    src.close()
    with pytest.raises(StreamLostError, match="before open"):
        src.read()
