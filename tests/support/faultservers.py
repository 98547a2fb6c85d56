"""Small misbehaving (and one well-behaved) servers on 127.0.0.1 for the source fault tests.

Each server runs in threads it owns; ``stop()`` closes every socket and joins every thread,
so a test that stops its server leaves nothing behind. Use them through the fixtures in
``tests/fixtures/faults.py``.

- :class:`GarbageServer`: accepts and sends random bytes, as a wrong port (not RTSP/HTTP) does.
- :class:`SilentServer`: accepts and never says a word, as a hung camera does.
- :class:`MjpegServer`: HTTP ``multipart/x-mixed-replace`` of JPEGs made with OpenCV.
- :class:`StaticHttpServer`: serves a directory (the HLS playlist and segments).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

#: The colour (BGR) of the MJPEG test pictures: a saturated orange that survives JPEG.
MJPEG_BGR = (0, 128, 255)


class _TcpServer:
    """Accept loop on 127.0.0.1 with a per-connection handler thread."""

    name = "tcp"

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.accepted = 0
        self._acceptor = threading.Thread(target=self._accept, name=f"{self.name}-accept")
        self._acceptor.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self._conns.append(conn)
                t = threading.Thread(target=self._serve, args=(conn,), name=f"{self.name}-conn")
                self._threads.append(t)
                t.start()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def url(self, scheme: str = "rtsp", path: str = "/stream") -> str:
        """A URL pointing at this server."""
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        """Close every socket and join every thread."""
        self._stop.set()
        self._acceptor.join(5)
        self._sock.close()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for t in threads:
            t.join(5)


class GarbageServer(_TcpServer):
    """Answers every connection with random bytes, forever (until the peer or stop closes it)."""

    name = "garbage"

    def _serve(self, conn: socket.socket) -> None:
        rng = np.random.default_rng(1234)
        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn.sendall(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                return
            self._stop.wait(0.05)


class SilentServer(_TcpServer):
    """Accepts connections and never sends a byte (reads and discards what the peer says)."""

    name = "silent"

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        while not self._stop.is_set():
            try:
                if not conn.recv(4096):
                    return
            except TimeoutError:
                continue
            except OSError:
                return


def mjpeg_frame(index: int, width: int = 320, height: int = 180) -> bytes:
    """One JPEG: the orange test colour with a white bar that moves with ``index``."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = MJPEG_BGR
    x = (index * 8) % max(1, width - 16)
    img[: height // 4, x : x + 16] = 255
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


class _QuietThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = False  # stop() joins them: nothing outlives a test
    block_on_close = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-response is normal here, not worth a traceback."""


class _HttpServer:
    """An HTTP server on 127.0.0.1 in a thread; ``stop()`` ends handlers and joins."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.stopping = threading.Event()
        self._httpd = _QuietThreadingServer(("127.0.0.1", 0), handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="http"
        )
        self._thread.start()

    def url(self, path: str = "/", user: str | None = None, password: str | None = None) -> str:
        """A URL on this server (with credentials in it when given)."""
        cred = f"{user}:{password}@" if user else ""
        return f"http://{cred}127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        """Stop serving, end streaming handlers, join every thread."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()  # joins the handler threads (block_on_close)
        self._thread.join(5)


class _MjpegHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    boundary = "camwallframe"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""

    def do_GET(self) -> None:
        owner: MjpegServer = self.server.owner  # type: ignore[attr-defined]
        if owner.password is not None:
            expected = owner.basic_auth_header()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="camwall-test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if self.path.split("?")[0] != "/video.mjpg":
            self.send_error(404)
            return
        owner.streams_served += 1
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={self.boundary}")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        index = 0
        t0 = time.monotonic()
        rng = np.random.default_rng(99)
        while not owner.stopping.is_set():
            if owner.corrupt_after is not None and index >= owner.corrupt_after:
                # Well-formed multipart, undecodable pictures: connected, but no frame.
                jpeg = b"\xff\xd8" + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
            else:
                jpeg = mjpeg_frame(index, owner.width, owner.height)
            part = (
                (
                    f"--{self.boundary}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n"
                ).encode()
                + jpeg
                + b"\r\n"
            )
            try:
                self.wfile.write(part)
                self.wfile.flush()
            except OSError:
                return
            index += 1
            owner.stopping.wait(max(0.0, t0 + index / owner.fps - time.monotonic()))


class MjpegServer(_HttpServer):
    """``http://127.0.0.1:PORT/video.mjpg``: an endless MJPEG stream of test pictures.

    ``corrupt_after=N``: after N good pictures, send only undecodable ones.
    """

    def __init__(
        self,
        width: int = 320,
        height: int = 180,
        fps: float = 10.0,
        user: str | None = None,
        password: str | None = None,
        corrupt_after: int | None = None,
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.corrupt_after = corrupt_after
        self.user, self.password = user, password
        #: Streams started (one per client connection that got the MJPEG stream).
        self.streams_served = 0
        super().__init__(_MjpegHandler)

    def basic_auth_header(self) -> str:
        """The Authorization header a client with the right credentials sends."""
        import base64

        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"

    @property
    def stream_url(self) -> str:
        """The MJPEG stream's URL (without credentials)."""
        return self.url("/video.mjpg")


class StaticHttpServer(_HttpServer):
    """Serves the files of ``root`` (read-only) over HTTP."""

    def __init__(self, root: Path) -> None:
        root_str = os.fspath(root)

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=root_str, **kwargs)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test output clean."""

        super().__init__(Handler)
