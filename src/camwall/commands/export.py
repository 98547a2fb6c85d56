"""``camwall export``: a span of one or more cameras' recordings to MP4, without re-encoding."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from camwall.commands.common import (
    EXIT_CODES_HELP,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    error,
    out,
)
from camwall.commands.recordings import add_range_options, recording_dir
from camwall.commands.timespec import BadTime, time_range

DESCRIPTION = """\
Export CAMERA's recording from --from to --to into one MP4, by remuxing the recorded
segments (no re-encoding, fast). A clip must start on a keyframe, so the start snaps back
to the keyframe before --from (said on stderr); --accurate re-encodes only the first GOP to
start exactly at --from. Several cameras: -o names a folder, one clip per camera.
Times are ISO 8601 with a zone or Z (2026-11-26T02:14:00Z), or local time without one."""

BAR_WIDTH = 30


def add_parser(sub: Any) -> None:
    """Register ``camwall export``."""
    parser = sub.add_parser(
        "export",
        help="export recordings of a time span to MP4 (no re-encoding)",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("cameras", nargs="+", metavar="CAMERA", help="camera name(s)")
    add_range_options(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="PATH",
        help="the clip (.mp4), or a folder for several cameras",
    )
    parser.add_argument(
        "--accurate",
        action="store_true",
        help="start exactly at --from (re-encodes the first GOP only; H.264)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export; 0 if every clip was written, 1 if one failed, 2 for bad arguments."""
    from camwall.errors import RecordError
    from camwall.record.export import export_clip
    from camwall.record.index import RecordingIndex

    try:
        start, end = time_range(args.start, args.end)
    except BadTime as exc:
        error(str(exc))
        return EXIT_USAGE
    if start is None or end is None:
        error("export needs both --from and --to")
        return EXIT_USAGE
    several = len(args.cameras) > 1
    output: Path = args.output
    if several and output.suffix.lower() == ".mp4":
        error(f"-o {output}: several cameras export into a folder, not one .mp4 file")
        return EXIT_USAGE
    if not several and output.is_dir():
        output = output / _clip_name(args.cameras[0], start, end)
    root = recording_dir(args)
    if not root.is_dir():
        error(f"no recordings: {root} does not exist (check [recording] dir or --dir)")
        return EXIT_USAGE
    code = EXIT_OK
    with RecordingIndex.open(root) as index:
        for camera in args.cameras:
            target = output / _clip_name(camera, start, end) if several else output
            bar = _Bar(camera)
            try:
                result = export_clip(
                    index, camera, start, end, target, accurate=args.accurate, progress=bar
                )
            except RecordError as exc:
                bar.done()
                error(str(exc))
                code = EXIT_FAILURE
                continue
            bar.done()
            if result.note:
                sys.stderr.write(f"{camera}: {result.note}\n")
            if result.snapped_s > 0.0005:
                sys.stderr.write(
                    f"{camera}: the clip starts {result.snapped_s:.2f} s before --from, on the "
                    "keyframe before it (use --accurate to start exactly there)\n"
                )
            out(
                f"{result.path}  {result.end - result.start:.1f} s, "
                f"{result.bytes / 1e6:.1f} MB from {result.segments} segment(s)"
                + (f", {result.reencoded} frames re-encoded" if result.reencoded else "")
            )
    return code


def _clip_name(camera: str, start: float, end: float) -> str:
    from datetime import UTC, datetime

    from camwall.config.names import safe_name

    def stamp(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).strftime("%Y%m%dT%H%M%SZ")

    return f"{safe_name(camera)}_{stamp(start)}_{stamp(end)}.mp4"


class _Bar:
    """A progress bar on stderr (only when stderr is a terminal; else silent)."""

    def __init__(self, camera: str) -> None:
        self.camera = camera
        self.tty = sys.stderr.isatty()
        self.shown = False

    def __call__(self, fraction: float) -> None:
        if not self.tty:
            return
        filled = int(fraction * BAR_WIDTH)
        sys.stderr.write(
            f"\r{self.camera}: [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%}"
        )
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
