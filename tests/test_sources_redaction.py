"""Credentials never leak: not in exception text or tracebacks, StreamInfo, reports or logs.

Every scenario uses the password "secret" in the URL; the test then searches every string
the source produced — messages, reprs, formatted tracebacks (with their chained causes),
check reports and every captured log record — for it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest

from camwall.errors import SourceError
from camwall.sources import SourceSettings, open_source
from camwall.sources.check import check_source
from fixtures.rtsp import RtspServer
from support.faultservers import GarbageServer, MjpegServer

PASSWORD = "secret"


def texts_of(exc: BaseException) -> list[str]:
    """Every rendering of an exception a person or a log could see."""
    out = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            out += texts_of(linked)
    return out


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured record, rendered with its exception (if any)."""
    fmt = logging.Formatter("%(name)s %(message)s")
    return [fmt.format(r) for r in caplog.records] + [str(r.args) for r in caplog.records]


def run(url: str, frames: int = 0, **kw: object) -> list[str]:
    """Open (and read ``frames`` from) ``url``; every text it produced, success or failure."""
    src = open_source(SourceSettings(url, **kw))  # type: ignore[arg-type]
    texts = [repr(src), src.display_url]
    try:
        info = src.open()
        texts += [repr(info), info.url]
        for _ in range(frames):
            src.read()
        texts.append(repr(src.stats))
    except SourceError as exc:
        texts += texts_of(exc)
    finally:
        src.close()
    return texts


def assert_clean(texts: list[str], caplog: pytest.LogCaptureFixture) -> None:
    """No text, and no log record, contains the password."""
    leaks = [t for t in texts + log_texts(caplog) if PASSWORD in t]
    assert not leaks, leaks[:3]


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.mark.rtsp
@pytest.mark.parametrize(
    "make_url",
    [
        lambda s: s.url("secure", "user", PASSWORD),  # success
        lambda s: s.url("nosuchpath", "user", PASSWORD),  # 404
        lambda s: s.url("secure", "admin", PASSWORD),  # 401: wrong user, the password shown?
        lambda s: s.url("audio", "user", PASSWORD),  # no video
    ],
    ids=["ok", "404", "401", "audio-only"],
)
def test_rtsp_paths(
    rtsp_shared: RtspServer,
    caplog: pytest.LogCaptureFixture,
    make_url: Callable[[RtspServer], str],
) -> None:
    """Open/read on the real server, succeeding or failing, never shows the password."""
    assert_clean(run(make_url(rtsp_shared), frames=3), caplog)


def test_network_failures(
    free_port: int, garbage_server: GarbageServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Refused and garbage-speaking servers (the probe path) never show the password."""
    fast = {"open_timeout_s": 1.0}  # the garbage case waits 1.5 open timeouts
    texts = run(f"rtsp://user:{PASSWORD}@127.0.0.1:{free_port}/x")
    texts += run(f"rtsp://user:{PASSWORD}@127.0.0.1:{garbage_server.port}/x", **fast)
    texts += run(f"http://user:{PASSWORD}@127.0.0.1:{garbage_server.port}/x", **fast)
    assert_clean(texts, caplog)


def test_http_mjpeg(caplog: pytest.LogCaptureFixture) -> None:
    """HTTP basic auth, accepted and rejected."""
    good = MjpegServer(user="user", password=PASSWORD)
    other = MjpegServer(user="user", password="different")
    try:
        texts = run(good.url("/video.mjpg", "user", PASSWORD), frames=2)
        texts += run(other.url("/video.mjpg", "user", PASSWORD))
    finally:
        good.stop()
        other.stop()
    assert_clean(texts, caplog)


@pytest.mark.rtsp
def test_stream_lost_mid_read(rtsp_server: RtspServer, caplog: pytest.LogCaptureFixture) -> None:
    """The camera dies while streaming: the StreamLostError shows the masked URL only."""
    src = open_source(SourceSettings(rtsp_server.url("secure", "user", PASSWORD)))
    texts: list[str] = []
    try:
        src.open()
        src.read()
        rtsp_server.stop()
        with pytest.raises(SourceError) as err:
            while True:
                src.read()
        texts += texts_of(err.value)
        assert "***@127.0.0.1" in str(err.value)
    finally:
        src.close()
    assert_clean(texts, caplog)


@pytest.mark.rtsp
def test_check_reports(rtsp_shared: RtspServer, caplog: pytest.LogCaptureFixture) -> None:
    """check_source's reports, good and failed, carry only the masked URL."""
    good = check_source(rtsp_shared.url("secure", "user", PASSWORD), seconds=0.3)
    bad = check_source(rtsp_shared.url("nosuchpath", "user", PASSWORD), seconds=0.3)
    assert good.ok and not bad.ok
    assert_clean([repr(good), good.summary(), repr(bad), bad.summary()], caplog)
