"""``camwall recordings list``: what was recorded, per camera, as spans, segments or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from camwall.commands.common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_USAGE,
    add_config_option,
    config_option,
    error,
    load_config,
    out,
)
from camwall.commands.timespec import BadTime, time_range

DESCRIPTION = """\
List the recordings of the config's recording folder (or --dir): per camera, the recorded
spans with their gaps, or every segment with --segments; --events adds what happened
(tracked detections, camera states). Times (--from, --to) are ISO 8601
with a zone or Z (2026-11-26T02:14:00Z), or local time without one (2026-11-26T03:14).
The folder's index is brought up to date first (rebuilt if missing or corrupt)."""


def add_parser(sub: Any) -> None:
    """Register ``camwall recordings``."""
    parser = sub.add_parser(
        "recordings",
        help="list what was recorded (spans, segments, events)",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    lister = actions.add_parser(
        "list",
        help="recorded spans (or segments) per camera",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lister.add_argument("camera", nargs="?", help="only this camera (name or folder name)")
    add_range_options(lister)
    lister.add_argument("--segments", action="store_true", help="every segment, not spans")
    lister.add_argument(
        "--events", action="store_true", help="also list the events (detections, camera states)"
    )
    lister.add_argument("--json", action="store_true", help="print one JSON document (scripts)")
    lister.set_defaults(func=run_list)


def add_range_options(parser: argparse.ArgumentParser) -> None:
    """``--from``, ``--to``, ``--config`` and ``--dir``: shared with ``camwall export``."""
    parser.add_argument("--from", dest="start", metavar="T", help="from this time (ISO 8601)")
    parser.add_argument("--to", dest="end", metavar="T", help="to this time (ISO 8601)")
    add_config_option(parser)
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the recording folder (default: the config's [recording] dir)",
    )


def recording_dir(args: argparse.Namespace) -> Path:
    """--dir, else the config's recording folder."""
    if args.dir is not None:
        return Path(args.dir)
    return load_config(config_option(args)).recording_dir()


def run_list(args: argparse.Namespace) -> int:
    """Print the recordings; 0, or 2 for a bad time."""
    from camwall.config.names import safe_name
    from camwall.record.index import RecordingIndex
    from camwall.record.records import iso

    try:
        start, end = time_range(args.start, args.end)
    except BadTime as exc:
        error(str(exc))
        return EXIT_USAGE
    root = recording_dir(args)
    if not root.is_dir():
        error(f"no recordings: {root} does not exist (check [recording] dir or --dir)")
        return EXIT_USAGE
    with RecordingIndex.open(root) as index:
        cameras = [safe_name(args.camera)] if args.camera else index.cameras()
        report: dict[str, Any] = {"dir": str(root), "cameras": {}}
        for camera in cameras:
            segments = index.segments(camera, start, end)
            spans = index.spans(camera, start, end)
            events = index.events(camera, start, end)
            report["cameras"][camera] = {
                "spans": [
                    {"start": iso(a), "end": iso(b), "seconds": round(b - a, 3)} for a, b in spans
                ],
                "segments": [s.to_dict() for s in segments] if args.segments or args.json else None,
                "bytes": sum(s.size for s in segments),
                "events": [e.to_dict() for e in events],
            }
    if args.json:
        out(json.dumps(report, indent=2))
        return EXIT_OK
    for camera, info in report["cameras"].items():
        spans = info["spans"]
        out(
            f"{camera}: {len(spans)} span(s), {info['bytes'] / 1e6:.1f} MB, "
            f"{len(info['events'])} event(s)"
        )
        if not spans:
            out("  nothing recorded in that time")
        if args.segments:
            for seg in info["segments"]:
                out(
                    f"  {seg['start_iso']} – {seg['end_iso']}  {seg['codec']} "
                    f"{seg['width']}×{seg['height']}  {seg['size'] / 1e6:.1f} MB  {seg['path']}"
                )
        else:
            for span in spans:
                out(f"  {span['start']} – {span['end']}  ({span['seconds']:.0f} s)")
        if args.events:
            for event in info["events"]:
                score = "" if event["score"] is None else f" {event['score']:.2f}"
                snapshot = f"  {event['snapshot']}" if event["snapshot"] else ""
                until = f" – {event['end_iso']}" if event["end_iso"] else " (ongoing)"
                out(
                    f"  {event['start_iso']}{until}  {event['kind']}: {event['label']}{score}"
                    f"{snapshot}"
                )
    return EXIT_OK
