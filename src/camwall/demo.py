"""``camwall demo``: the wall with four built-in 2560×1440 demo cameras.

No network and no camera needed: each synthetic camera draws colour bars, a moving box, its
name, a frame counter and the time, at 25 fps, in its own capture process — the same path
a real camera takes from the capture worker through a frame ring into a tile. When the
Debian GStreamer RTSP server packages are present, the fourth camera is instead a real
2560×1440 H.264 stream served over RTSP on 127.0.0.1 (x264-encoded SMPTE bars), so the demo
also walks the network path: RTSP, FFmpeg decoding, I420→BGRA conversion into the ring.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from camwall.config import Camera

if TYPE_CHECKING:
    from camwall.testing.rtsp import RtspServer

log = logging.getLogger(__name__)

#: (name, URL) of the demo cameras.
DEMO_CAMERAS: tuple[tuple[str, str], ...] = tuple(
    (name, f"synthetic://{name}?width=2560&height=1440&fps=25")
    for name in ("lobby", "garage", "yard", "gate")
)
RTSP_MOUNT = "gate:width=2560,height=1440,fps=25,pattern=smpte,bitrate=6000"


def start_rtsp_camera() -> RtspServer | None:
    """Serve the RTSP demo camera on 127.0.0.1, or None (with the reason logged) if we can't."""
    from camwall.testing.rtsp import RtspServer, gst_missing

    reason = gst_missing()
    if reason:
        log.info("demo: all cameras are synthetic (%s)", reason)
        return None
    server = RtspServer((RTSP_MOUNT,), None)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        log.warning("demo: could not start the RTSP demo camera, using a synthetic one: %s", exc)
        server.stop()
        return None
    return server


@contextlib.contextmanager
def demo_cameras(*, rtsp: bool = True) -> Iterator[list[Camera]]:
    """The demo cameras (one served over RTSP while the block runs, when possible). No Qt."""
    server = start_rtsp_camera() if rtsp else None
    cameras = [Camera(name=name, url=url) for name, url in DEMO_CAMERAS]
    if server is not None:
        cameras[-1] = Camera(name="gate (rtsp)", url=server.url("gate"))
    try:
        yield cameras
    finally:
        if server is not None:
            server.stop()
