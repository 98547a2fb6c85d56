#!/usr/bin/python3
"""A real RTSP server for the tests: GStreamer's rtsp-server, fed by live x264 encoders.

Run with the SYSTEM python (it needs GObject introspection, ``python3-gi`` and
``gir1.2-gst-rtsp-server-1.0``), never the project venv::

    /usr/bin/python3 src/camwall/testing/scripts/rtsp_server.py --port 0 \\
        --mount cam:width=320,height=180,fps=15,pattern=smpte \\
        --mount secure:width=320,height=180,auth=1 --mount audio:audio=1 \\
        --credentials user:secret

Each ``--mount NAME:key=value,...`` serves ``rtsp://127.0.0.1:PORT/NAME``. Keys: ``width``,
``height``, ``fps`` (frames per second, or a fraction such as ``1/4``: one frame every 4 s),
``gop`` (frames from one keyframe to the next; default: one second's worth; a mount with a
``gop`` keeps its rhythm when clients join, as a long-GOP camera does), ``pattern`` (a
videotestsrc pattern nick: smpte, red, green, blue, black, white, ball, ...; or ``counter``:
each frame shows its number as 16 black/white blocks across the top quarter, bit 15 first,
as ``tests/support/numbered.py`` reads it), ``auth=1`` (basic auth with ``--credentials``),
``audio=1`` (an audio-only stream, PCMU, no video), ``bitrate`` (kbit/s for x264enc). Every
mount is *shared*: one encoder per mount for all clients, as a camera has.

Control channel: the server prints ``READY <port>`` on stdout once it listens, then reads
commands from stdin, one a line, answering ``OK ...`` or ``ERR reason``:

    resolution MOUNT W H    switch the mount's running stream to W×H (new SPS, same session)
    pattern MOUNT NAME      change the picture (videotestsrc pattern nick)
    clients                 ``OK <n>``: RTSP sessions currently open
    ping                    ``OK pong``
    quit                    stop and exit 0 (also on stdin EOF)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

#: A control line longer than this means stdin is not a command stream.
MAX_COMMAND_BYTES = 64 * 1024


@dataclass
class MountSpec:
    """One mount point as given on the command line."""

    name: str
    width: int = 320
    height: int = 180
    fps: str = "15/1"  # frames per second as "N/D"
    gop: int = 0  # frames per keyframe interval; 0: one second's worth (at least 1)
    pattern: str = "smpte"
    auth: bool = False
    audio: bool = False
    bitrate: int = 0  # kbit/s, 0: x264enc's default
    medias: list[Any] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> MountSpec:
        """Parse ``NAME:key=value,...``."""
        name, _, rest = text.partition(":")
        spec = cls(name=name.strip("/"))
        for item in filter(None, rest.split(",")):
            key, _, value = item.partition("=")
            if key in ("width", "height", "gop", "bitrate"):
                setattr(spec, key, int(value))
            elif key == "fps":
                num, _, den = value.partition("/")
                spec.fps = f"{int(num)}/{int(den or 1)}"
            elif key == "pattern":
                spec.pattern = value
            elif key in ("auth", "audio"):
                setattr(spec, key, value not in ("0", "false", ""))
            else:
                raise SystemExit(f"rtsp_server: unknown mount key {key!r} in {text!r}")
        return spec

    def launch(self) -> str:
        """The gst-launch description of this mount's media."""
        if self.pattern == "counter":
            source = (
                "appsrc name=src is-live=true do-timestamp=true format=time max-buffers=2 "
                "leaky-type=downstream "
            )
        else:
            source = f"videotestsrc is-live=true pattern={self.pattern} name=src "
        if self.audio:
            return (
                "( audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1 "
                "! mulawenc ! rtppcmupay name=pay0 pt=0 )"
            )
        bitrate = f" bitrate={self.bitrate}" if self.bitrate else ""
        num, _, den = self.fps.partition("/")
        rate = int(num) / int(den)
        gop = self.gop or max(1, round(rate))
        # x264's frame threads hold back one frame each: invisible at 15 fps, half a minute
        # at one frame every 4 s. A slow camera's encoder answers frame by frame.
        threads = " threads=1 sync-lookahead=0 rc-lookahead=0" if rate < 5 else ""
        # One slice per frame, as cameras send. zerolatency would cut each frame into slices,
        # and config-interval=-1 (SPS/PPS in-band, needed for resolution switches) then puts
        # SPS/PPS *between* a keyframe's slices: FFmpeg splits that access unit in two and
        # every following P-frame decodes with drifting colours until the next keyframe.
        return (
            f"( {source}"
            f"! capsfilter name=caps caps=video/x-raw,format=I420,width={self.width},"
            f"height={self.height},framerate={self.fps} "
            f"! x264enc name=enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} "
            f"sliced-threads=false{threads}"
            f"{bitrate} ! video/x-h264,profile=constrained-baseline "
            "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )

    def caps(self) -> Gst.Caps:
        """Raw video caps for the current size and rate."""
        return Gst.Caps.from_string(
            f"video/x-raw,format=I420,width={self.width},height={self.height},framerate={self.fps}"
        )


class Counter:
    """Feeds a ``counter`` mount's appsrc: frame n shows n in binary, paced by a GLib timer."""

    def __init__(self, appsrc: Any, spec: MountSpec) -> None:
        self.appsrc = appsrc
        self.spec = spec
        self.n = 0
        self.timer = 0
        self.interval_ns = Gst.SECOND

    def start(self, media: Any) -> None:
        """Push frames at the mount's rate until the media is unprepared."""
        num, _, den = self.spec.fps.partition("/")
        self.interval_ns = Gst.SECOND * int(den or 1) // int(num)
        self.timer = GLib.timeout_add(max(1, round(self.interval_ns / 1e6)), self._push)
        media.connect("unprepared", lambda m: GLib.source_remove(self.timer))

    def picture(self) -> bytes:
        """An I420 frame showing ``self.n``: white/black blocks on top, grey below."""
        w, h = self.spec.width, self.spec.height
        band, block = h // 4, w // 16
        row = b"".join(
            (b"\xeb" if self.n >> (15 - bit) & 1 else b"\x10") * block for bit in range(16)
        )
        row += b"\x80" * (w - len(row))
        luma = row * band + b"\x80" * (w * (h - band))
        return luma + b"\x80" * (2 * (w // 2) * (h // 2))

    def _push(self) -> bool:
        buffer = Gst.Buffer.new_wrapped(self.picture())
        buffer.duration = self.interval_ns
        self.appsrc.emit("push-buffer", buffer)
        self.n += 1
        return True


class Server:
    """The RTSP server, its mounts and the stdin control channel."""

    def __init__(self, port: int, mounts: list[MountSpec], credentials: str | None) -> None:
        self.loop = GLib.MainLoop()
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.server.set_service(str(port))
        self.mounts = {m.name: m for m in mounts}
        self.sessions = 0
        points = self.server.get_mount_points()
        if credentials:
            user, _, password = credentials.partition(":")
            auth = GstRtspServer.RTSPAuth()
            # Anonymous clients get a role that open mounts admit and secure mounts do not.
            anon = GstRtspServer.RTSPToken()
            anon.set_string("media.factory.role", "anonymous")
            auth.set_default_token(anon)
            token = GstRtspServer.RTSPToken()
            token.set_string("media.factory.role", "user")
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
            self.server.set_auth(auth)
        for spec in mounts:
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(spec.launch())
            factory.set_shared(True)
            # A camera keeps its encoder running between clients; so does this server, so a
            # reconnecting client does not wait for a new pipeline.
            factory.set_suspend_mode(GstRtspServer.RTSPSuspendMode.NONE)
            factory.connect("media-configure", self._on_media, spec)
            if credentials:
                # Anonymous clients may see a secure mount (access) but not play it
                # (construct): that answers 401 with a challenge, as a camera does; without
                # access the server would pretend the mount does not exist (404).
                perms = GstRtspServer.RTSPPermissions()
                perms.add_permission_for_role("user", "media.factory.access", True)
                perms.add_permission_for_role("user", "media.factory.construct", True)
                perms.add_permission_for_role("anonymous", "media.factory.access", True)
                perms.add_permission_for_role("anonymous", "media.factory.construct", not spec.auth)
                factory.set_permissions(perms)
            points.add_factory(f"/{spec.name}", factory)
        self.server.connect("client-connected", self._on_client)

    def _on_media(self, _factory: Any, media: Any, spec: MountSpec) -> None:
        spec.medias.append(media)
        if spec.gop and not spec.audio:
            # A long-GOP ("smart codec") camera keeps its own keyframe rhythm whoever joins,
            # so a late client joins mid-GOP and waits for the next keyframe.
            pad = media.get_element().get_by_name("enc").get_static_pad("src")
            pad.add_probe(Gst.PadProbeType.QUERY_UPSTREAM, self._not_seekable)
        media.connect("unprepared", lambda m: spec.medias.remove(m) if m in spec.medias else None)
        if spec.pattern == "counter":
            Counter(media.get_element().get_by_name("src"), spec).start(media)

    @staticmethod
    def _not_seekable(_pad: Any, info: Any) -> Any:
        # FFmpeg's PLAY asks for "Range: npt=0-"; a seekable media would be flushed for each
        # joining client, restarting the encoder (and its GOP) with a keyframe.
        if info.get_query().type == Gst.QueryType.SEEKING:
            return Gst.PadProbeReturn.DROP  # unanswered: the server takes it as "not seekable"
        return Gst.PadProbeReturn.OK

    def _on_client(self, _server: Any, client: Any) -> None:
        self.sessions += 1

        def closed(_client: Any) -> None:
            self.sessions -= 1

        client.connect("closed", closed)

    def command(self, line: str) -> str:
        """Run one control command; return the reply line."""
        words = line.split()
        if not words:
            return "ERR empty command"
        cmd, args = words[0], words[1:]
        if cmd == "ping":
            return "OK pong"
        if cmd == "clients":
            return f"OK {self.sessions}"
        if cmd == "quit":
            self.loop.quit()
            return "OK bye"
        if cmd in ("resolution", "pattern"):
            if not args or args[0] not in self.mounts:
                return f"ERR no mount {args[0] if args else ''!r}"
            spec = self.mounts[args[0]]
            if spec.audio:
                return "ERR audio mount"
            if cmd == "resolution":
                if len(args) != 3:
                    return "ERR usage: resolution MOUNT W H"
                spec.width, spec.height = int(args[1]), int(args[2])
            else:
                if len(args) != 2:
                    return "ERR usage: pattern MOUNT NAME"
                spec.pattern = args[1]
            for media in spec.medias:
                bin_ = media.get_element()
                if cmd == "resolution":
                    bin_.get_by_name("caps").set_property("caps", spec.caps())
                else:
                    Gst.util_set_object_arg(bin_.get_by_name("src"), "pattern", spec.pattern)
            return f"OK {cmd} {' '.join(args)}"
        return f"ERR unknown command {cmd!r}"

    def _on_stdin(self, fd: int, cond: Any) -> bool:
        # The controlling test is gone (EOF, or stdin closed/invalid): stop, never spin.
        if cond & (GLib.IO_ERR | GLib.IO_NVAL):
            self.loop.quit()
            return False
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            self.loop.quit()
            return False
        self._pending = getattr(self, "_pending", b"") + data
        if len(self._pending) > MAX_COMMAND_BYTES and b"\n" not in self._pending:
            # Not a control channel (stdin from /dev/zero, a binary pipe...): stop reading it
            # and keep serving until killed, instead of spinning and hoarding memory.
            print("rtsp_server: stdin is not a command stream; ignoring it", file=sys.stderr)
            self._pending = b""
            return False
        while b"\n" in self._pending:
            raw, self._pending = self._pending.split(b"\n", 1)
            reply = self.command(raw.decode(errors="replace").strip())
            print(reply, flush=True)
        return True

    def run(self) -> None:
        """Listen, announce the port, serve until quit/EOF/SIGTERM."""
        if self.server.attach(None) == 0:
            print("ERR cannot listen", flush=True)
            sys.exit(2)
        port = self.server.get_bound_port()
        GLib.io_add_watch(
            sys.stdin.fileno(),
            GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR | GLib.IO_NVAL,
            self._on_stdin,
        )
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self._quit)
        print(f"READY {port}", flush=True)
        self.loop.run()

    def _quit(self) -> bool:
        self.loop.quit()
        return False


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--mount", action="append", default=[], help="NAME:key=value,...")
    parser.add_argument("--credentials", help="USER:PASSWORD for mounts with auth=1")
    args = parser.parse_args()
    Gst.init(None)
    mounts = [MountSpec.parse(m) for m in args.mount] or [MountSpec("cam")]
    if any(m.auth for m in mounts) and not args.credentials:
        raise SystemExit("rtsp_server: a mount has auth=1 but --credentials is missing")
    if sys.stdin is None:
        raise SystemExit("rtsp_server: stdin is closed; it is the control channel (use a pipe)")
    Server(args.port, mounts, args.credentials).run()


if __name__ == "__main__":
    main()
