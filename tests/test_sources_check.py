"""check_source (the ``camwall check URL`` command) against the real server and real faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from camwall.sources.check import CheckReport, check_source, measured_rate
from fixtures.rtsp import RtspServer
from support.faultservers import MjpegServer


@pytest.mark.rtsp
def test_check_reports_the_stream(rtsp_shared: RtspServer) -> None:
    """Codec, size, rate, timings and frame counts of the test camera."""
    report = check_source(rtsp_shared.url("cam"), seconds=1.0)
    assert report.ok, report
    assert (report.codec, report.width, report.height) == ("h264", 320, 180)
    assert report.fps == pytest.approx(15, rel=0.1)
    assert report.transport == "tcp" and report.pix_fmt == "yuv420p"
    assert report.error is None and report.reason is None
    assert report.frames >= 10
    assert report.measured_fps is not None and 8 < report.measured_fps < 25
    assert report.open_s is not None and report.time_to_first_frame_s is not None
    assert 0 < report.open_s <= report.time_to_first_frame_s < 3
    assert report.decode_ms_per_frame is not None and report.decode_ms_per_frame > 0
    assert report.bitrate is not None and report.bitrate > 10_000
    assert "OK" in report.summary() and "h264 320×180" in report.summary()


@pytest.mark.rtsp
def test_check_over_udp(rtsp_shared: RtspServer) -> None:
    """The transport is selectable."""
    report = check_source(rtsp_shared.url("cam"), seconds=0.5, transport="udp")
    assert report.ok and report.transport == "udp"


@pytest.mark.rtsp
def test_check_reports_401(rtsp_shared: RtspServer) -> None:
    """A wrong password: not ok, SourceAuthError, a reason without the password."""
    report = check_source(rtsp_shared.url("secure", "user", "wrong"), seconds=0.5)
    assert not report.ok
    assert report.error == "SourceAuthError"
    assert report.reason is not None and "401" in report.reason
    assert "wrong" not in repr(report)
    assert report.url == f"rtsp://***@127.0.0.1:{rtsp_shared.port}/secure"
    assert "FAILED (SourceAuthError)" in report.summary()


def test_check_reports_refused_port(free_port: int) -> None:
    """Nothing listening: SourceRefusedError with the port in the reason."""
    report = check_source(f"rtsp://127.0.0.1:{free_port}/x", seconds=0.5)
    assert not report.ok and report.error == "SourceRefusedError"
    assert report.reason is not None and str(free_port) in report.reason
    assert report.frames == 0 and report.codec is None


def test_check_a_file_that_ends(h264_clip: Path) -> None:
    """A 2 s file checked for 3 s: the end of the file is not a failure."""
    report = check_source(str(h264_clip), seconds=3.0)
    assert report.ok, report
    assert report.frames == 50
    assert report.reason is not None and "end of stream" in report.reason


def test_check_bad_url() -> None:
    """An unsupported scheme is reported, not raised."""
    report = check_source("ftp://example.invalid/x")
    assert isinstance(report, CheckReport)
    # UrlError: the InvalidSourceError of camwall.urls, the one URL parser.
    assert not report.ok and report.error == "UrlError"


def test_mjpeg_over_http_declares_no_rate(mjpeg_server: MjpegServer) -> None:
    """MJPEG over HTTP declares no frame rate: none is reported (not FFmpeg's guess of 25),
    and the measured rate is the camera's (10 fps), not ~3 % high from the probing burst."""
    report = check_source(mjpeg_server.stream_url, seconds=3.0)
    assert report.ok, report.summary()
    assert report.fps is None
    assert "frame rate not declared" in report.summary()
    assert report.measured_fps is not None
    assert report.measured_fps == pytest.approx(10.0, rel=0.03), report.measured_fps


@pytest.mark.rtsp
def test_measured_rate_is_the_stream_rate(rtsp_shared: RtspServer) -> None:
    """15 fps over RTSP measures 15 (it read ~7 % high: the burst of probed packets counted)."""
    report = check_source(rtsp_shared.url("cam"), seconds=3.0)
    assert report.ok, report.summary()
    assert report.fps == pytest.approx(15.0)
    assert report.measured_fps is not None
    assert report.measured_fps == pytest.approx(15.0, rel=0.03), report.measured_fps


def test_measured_rate_leaves_out_the_burst() -> None:
    """N frames over N−1 intervals, after the burst; short checks use every frame."""
    burst = [0.0, 0.001, 0.002, 0.003]
    steady = [0.1 * i for i in range(1, 31)]
    assert measured_rate(burst + steady) == pytest.approx(10.0)
    assert measured_rate([0.0, 4.0]) == pytest.approx(0.25)
    assert measured_rate([1.0]) is None and measured_rate([]) is None
    assert measured_rate([2.0, 2.0]) is None
    late_last = [0.1 * i for i in range(40)]
    late_last[-1] += 0.1  # one frame delivered a whole interval late
    assert measured_rate(late_last) == pytest.approx(10.0, rel=0.02)
