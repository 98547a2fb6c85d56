"""A TCP forwarder on loopback that a test can shut (refuse), stall (a cut cable) or open.

Put it between a client and a real server to decide *when* the client gets through (after
the test's subscriber is ready) or to make the network fail silently, which a kill cannot:
a stalled gate keeps both TCP connections open and forwards nothing, so only keepalives
notice.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from typing import Literal

Mode = Literal["open", "refuse", "stall"]


class TcpGate:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<upstream>``; one thread, stopped by close()."""

    def __init__(self, upstream: int, mode: Mode = "open") -> None:
        self.upstream = upstream
        self._mode: Mode = mode
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = int(self._listener.getsockname()[1])
        self._wake_r, self._wake_w = socket.socketpair()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()
        self._stop = False
        self.accepted = 0
        self._thread = threading.Thread(target=self._run, name="test-tcpgate", daemon=True)
        self._thread.start()

    def set_mode(self, mode: Mode) -> None:
        """``open``: forward; ``refuse``: drop every connection, close new ones; ``stall``: forward nothing."""
        with self._lock:
            self._mode = mode
        if mode == "refuse":
            self._drop_all()
        self._wake_w.send(b"x")

    def close(self) -> None:
        """Stop forwarding, close every socket, end the thread."""
        self._stop = True
        self._wake_w.send(b"x")
        self._thread.join(5)
        self._drop_all()
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()

    def _drop_all(self) -> None:
        with self._lock:
            socks = list(self._peers)
            self._peers.clear()
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _run(self) -> None:
        while not self._stop:
            with self._lock:
                mode = self._mode
                peers = [s for s in self._peers if s.fileno() != -1]
            with selectors.DefaultSelector() as sel:
                sel.register(self._listener, selectors.EVENT_READ)
                sel.register(self._wake_r, selectors.EVENT_READ)
                if mode == "open":
                    for sock in peers:
                        # set_mode("refuse") or close() may have closed it since the list
                        # was taken; a closed socket cannot be registered.
                        with contextlib.suppress(ValueError, OSError):
                            sel.register(sock, selectors.EVENT_READ)
                ready = sel.select(timeout=0.5)
            for key, _ in ready:
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._wake_r:
                    sock.recv(4096)
                elif sock is self._listener:
                    self._accept(mode)
                else:
                    self._pump(sock)

    def _accept(self, mode: Mode) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if mode == "refuse":
            client.close()
            return
        try:
            server = socket.create_connection(("127.0.0.1", self.upstream), timeout=2)
        except OSError:
            client.close()
            return
        client.setblocking(True)
        server.setblocking(True)
        self.accepted += 1
        with self._lock:
            self._peers[client] = server
            self._peers[server] = client

    def _pump(self, sock: socket.socket) -> None:
        with self._lock:
            peer = self._peers.get(sock)
        if peer is None:
            return
        try:
            data = sock.recv(65536)
            if data:
                peer.sendall(data)
                return
        except OSError:
            pass
        # One side closed: close both, as a cable would not, but a proxy does.
        with self._lock:
            self._peers.pop(sock, None)
            self._peers.pop(peer, None)
        sock.close()
        peer.close()
