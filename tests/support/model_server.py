"""A loopback HTTP server for model files, with Range support and failure modes.

Modes (settable between requests): ``good``; ``corrupt`` (one byte flipped); ``truncate``
(announces the full length, sends half, closes); ``slow`` (sends half, stalls
``stall_s``, sends the rest); ``norange`` (ignores Range, always 200 with everything).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_RANGE = re.compile(r"bytes=(\d+)-$")


class ModelServer:
    """Serves ``data`` at ``/model.onnx``; ``requests`` records (path, Range header) pairs."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.mode = "good"
        self.stall_s = 2.0
        self.requests: list[tuple[str, str | None]] = []
        self.stop_stall = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                if self.path != "/model.onnx":
                    self.send_error(404)
                    return
                body = server.data
                if server.mode == "corrupt":
                    body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
                start = 0
                m = _RANGE.match(rng or "")
                if m and server.mode != "norange":
                    start = int(m.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                rest = body[start:]
                self.send_header("Content-Length", str(len(rest)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                half = len(rest) // 2
                if server.mode == "truncate":
                    self.wfile.write(rest[:half])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if server.mode == "slow":
                    self.wfile.write(rest[:half])
                    self.wfile.flush()
                    server.stop_stall.wait(server.stall_s)
                    try:
                        self.wfile.write(rest[half:])
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                self.wfile.write(rest)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Not daemon threads: server_close() then joins every handler thread.
        self.httpd.daemon_threads = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/model.onnx"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.stop_stall.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


@contextmanager
def serving(data: bytes) -> Iterator[ModelServer]:
    """A started ModelServer, shut down (and its threads joined) on exit."""
    server = ModelServer(data)
    server.start()
    try:
        yield server
    finally:
        server.close()


def closed_port_url() -> str:
    """A URL on a loopback port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/model.onnx"
