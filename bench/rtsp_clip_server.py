#!/usr/bin/python3
"""Serve a pre-encoded H.264 clip over RTSP on 127.0.0.1, looping, paced like a live camera.

Run with the SYSTEM python (GObject introspection, ``python3-gi``,
``gir1.2-gst-rtsp-server-1.0``), never the project venv::

    /usr/bin/python3 bench/rtsp_clip_server.py --au bench/out/clip-....au --fps 25

Nothing is encoded here: the access units of bench/clip1440.py's ``.au`` file (Annex B, SPS/PPS
before every keyframe) are read into memory once and pushed into
``appsrc ! h264parse ! rtph264pay`` at the clip's frame rate, forever, so the benchmark
measures decoding and display and not an encoder sharing the two cores. Each client gets its
own pipeline starting at the clip's first keyframe (``rtsp://127.0.0.1:PORT/clip``), so N
cameras of a benchmark run are N independent streams whose frames do not arrive in lockstep.

A client that falls behind is treated as a camera treats it: once about a second of video
waits for it, its frames are dropped until the next keyframe (bounded memory, clean GOPs).

Prints ``READY <port>`` once listening; stops on stdin EOF, ``quit`` or SIGTERM. Also answers,
one command a line: ``clients`` (``OK <n>``: pipelines playing), ``sent`` (``OK <n>``: frames
pushed so far, all pipelines), ``dropped`` (``OK <n>``: frames dropped for slow clients),
``levels`` (bytes queued per pipeline).
"""

from __future__ import annotations

import argparse
import os
import signal
import struct
import sys
import time
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

AU_HEADER = struct.Struct("<II")
#: Queued bytes for one client beyond which its frames are dropped (about 1 s of video).
BACKLOG_BYTES = 1_000_000


def read_units(path: str) -> list[tuple[bytes, bool]]:
    """The access units of a ``.au`` file (see bench/clip1440.py), with keyframe flags."""
    units = []
    with open(path, "rb") as f:
        while header := f.read(AU_HEADER.size):
            size, flags = AU_HEADER.unpack(header)
            units.append((f.read(size), bool(flags & 1)))
    if not units:
        raise SystemExit(f"rtsp_clip_server: {path} holds no access units")
    return units


class Feeder:
    """Pushes the clip into one client's appsrc at the frame rate, looping."""

    def __init__(self, server: Server, appsrc: Any) -> None:
        self.server = server
        self.appsrc = appsrc
        self.index = 0
        self.start = 0.0
        self.period = 1.0 / server.fps
        self.source_id: int | None = None
        self.playing = False
        self.dropping = False

    def begin(self) -> None:
        """Start feeding at the frame rate."""
        self.playing = True
        self.server.playing += 1
        self.start = time.monotonic()
        self._schedule()

    def _congested(self, keyframe: bool) -> bool:
        """True while frames are to be dropped for a client that cannot keep up.

        A camera does not buffer without end for a slow client: once a second's worth of
        data is waiting, this one drops frames until the next keyframe that finds the queue
        half empty, so the client's decoder resumes on a clean GOP.
        """
        level = int(self.appsrc.get_property("current-level-bytes"))
        if not self.dropping and level > BACKLOG_BYTES:
            self.dropping = True
        elif self.dropping and keyframe and level < BACKLOG_BYTES // 2:
            self.dropping = False
        return self.dropping

    def end(self) -> None:
        """Stop feeding for good (the client left)."""
        if self.source_id is not None:
            GLib.source_remove(self.source_id)
            self.source_id = None
        if self.playing:
            self.playing = False
            self.server.playing -= 1

    def _schedule(self) -> None:
        due = self.start + self.index * self.period
        delay_ms = max(0, round((due - time.monotonic()) * 1000))
        self.source_id = GLib.timeout_add(delay_ms, self._tick)

    def _tick(self) -> bool:
        self.source_id = None
        now = time.monotonic()
        while self.start + self.index * self.period <= now:
            data, key = self.server.units[self.index % len(self.server.units)]
            if self._congested(key):
                self.index += 1
                self.server.dropped += 1
                continue
            buf = Gst.Buffer.new_wrapped_bytes(GLib.Bytes.new(data))
            buf.duration = int(self.period * Gst.SECOND)
            flow = self.appsrc.emit("push-buffer", buf)
            if flow != Gst.FlowReturn.OK:
                # Not started yet (or shutting down): try again in a frame, without a burst.
                self.start = now - (self.index - 1) * self.period
                break
            self.index += 1
            self.server.sent += 1
        self._schedule()
        return False


class Server:
    """The RTSP server with one looping mount."""

    def __init__(
        self, port: int, units: list[tuple[bytes, bool]], fps: int, width: int, height: int
    ) -> None:
        self.loop = GLib.MainLoop()
        self.units = units
        self.fps = fps
        self.playing = 0
        self.sent = 0
        self.dropped = 0
        self.feeders: list[Feeder] = []
        self.caps = Gst.Caps.from_string(
            f"video/x-h264,stream-format=byte-stream,alignment=au,width={width},"
            f"height={height},framerate={fps}/1"
        )
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.server.set_service(str(port))
        factory = GstRtspServer.RTSPMediaFactory()
        # do-timestamp: each buffer is stamped with the running time at which it is pushed,
        # i.e. the pacing is the feeder's clock, whatever the sinks' sync settings.
        factory.set_launch(
            "( appsrc name=src is-live=true format=time do-timestamp=true "
            "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
        factory.set_shared(False)
        factory.connect("media-configure", self._on_media)
        self.server.get_mount_points().add_factory("/clip", factory)

    def _on_media(self, _factory: Any, media: Any) -> None:
        appsrc = media.get_element().get_child_by_name("src")
        appsrc.set_property("caps", self.caps)
        feeder = Feeder(self, appsrc)
        self.feeders.append(feeder)
        # Feed from now on: rtsp-server sets a live pipeline PLAYING while preparing it, as
        # it needs data to learn the caps for the SDP. Stop when the client has gone.
        feeder.begin()
        media.connect("unprepared", lambda _m: feeder.end())

    def command(self, line: str) -> str:
        """One control command → its reply line."""
        cmd = line.strip()
        if cmd == "clients":
            return f"OK {self.playing}"
        if cmd == "sent":
            return f"OK {self.sent}"
        if cmd == "dropped":
            return f"OK {self.dropped}"
        if cmd == "levels":
            return "OK " + ",".join(
                str(f.appsrc.get_property("current-level-bytes")) for f in self.feeders
            )
        if cmd == "quit":
            self.loop.quit()
            return "OK bye"
        return f"ERR unknown command {cmd!r}"

    def _on_stdin(self, fd: int, _cond: Any) -> bool:
        data = os.read(fd, 4096)
        if not data:
            self.loop.quit()
            return False
        self._pending = getattr(self, "_pending", b"") + data
        while b"\n" in self._pending:
            raw, self._pending = self._pending.split(b"\n", 1)
            print(self.command(raw.decode(errors="replace")), flush=True)
        return True

    def run(self) -> None:
        """Listen, announce the port, serve until quit/EOF/SIGTERM."""
        if self.server.attach(None) == 0:
            print("ERR cannot listen", flush=True)
            sys.exit(2)
        GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP, self._on_stdin)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self._quit)
        print(f"READY {self.server.get_bound_port()}", flush=True)
        self.loop.run()

    def _quit(self) -> bool:
        self.loop.quit()
        return False


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--au", required=True, help="the clip's .au file (bench/clip1440.py)")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--width", type=int, default=2560)
    parser.add_argument("--height", type=int, default=1440)
    args = parser.parse_args()
    Gst.init(None)
    Server(args.port, read_units(args.au), args.fps, args.width, args.height).run()


if __name__ == "__main__":
    main()
