"""``camwall check``: connect to cameras, decode a few seconds, say what works and what not.

With URLs, checks those. Without, checks the config: its cameras (main stream and substream)
and, if a camera records, that the recording folder is writable. Reports codec, resolution,
frame rate, bitrate, time to first frame and decode time per frame, or the error and its
reason; ``--json`` prints one JSON document for scripts. Exit code 3 if anything failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from camwall.commands.common import (
    EXIT_CHECK_FAILED,
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_USAGE,
    add_config_option,
    config_option,
    error,
    load_config,
    out,
)
from camwall.config import Camera, Config
from camwall.errors import StorageError, UrlError
from camwall.redact import mask_url
from camwall.urls import parse_url

if TYPE_CHECKING:
    from camwall.sources.check import CheckReport

Transport = Literal["tcp", "udp"]


@dataclass(frozen=True, slots=True)
class _Target:
    """One URL to check; ``url`` may hold a password (never printed: reports mask it)."""

    url: str
    camera: str | None = None
    stream: Literal["main", "sub"] | None = None
    transport: Transport = "tcp"
    #: The camera's own limits (None: adaptive), so it is checked the way it is captured.
    first_frame_timeout_s: float | None = None
    read_timeout_s: float | None = None

    @property
    def label(self) -> str:
        """``[camera] `` or ``[camera substream] `` for config cameras, else empty."""
        if self.camera is None:
            return ""
        return f"[{self.camera}{' substream' if self.stream == 'sub' else ''}] "

    @property
    def shown(self) -> str:
        """What to call it while checking: the camera, or the masked URL."""
        return self.label.strip() or mask_url(self.url)


DESCRIPTION = """\
Connect to cameras, decode a few seconds, and say what works and what does not.

With URLs, checks those. Without, checks the config: each camera's main stream and
substream, and (if a camera records) that the recording folder is writable. Reports codec,
resolution, frame rate, bitrate, time to first frame and decode time per frame, or the
error and its reason. --json prints one JSON document for scripts."""


def positive_seconds(text: str) -> float:
    """argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 and at most 3600 seconds")
    return value


def add_parser(sub: Any) -> None:
    """Register ``camwall check``."""
    parser = sub.add_parser(
        "check",
        help="connect to cameras and report codec, size, rate, timings or the error",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "urls",
        nargs="*",
        metavar="URL",
        help="rtsp://, http(s)://, a file, a webcam number or synthetic://; "
        "none: every camera of the config",
    )
    add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document (scripts)")
    parser.add_argument(
        "--seconds",
        type=positive_seconds,
        default=3.0,
        metavar="N",
        help="decode this long after the first frame (default 3)",
    )
    parser.add_argument(
        "--transport",
        choices=("tcp", "udp"),
        default=None,
        help="RTSP transport (default: tcp, or each config camera's own)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check every target; 0 if all work, 3 if any failed."""
    # Imported here, not at the top: `camwall --help` should not pay for FFmpeg.
    from camwall.sources.check import check_source

    if args.log_level is None:
        # The report says it all; INFO lines of the sources would only repeat it.
        logging.getLogger("camwall").setLevel(logging.WARNING)

    malformed = _malformed(args.urls)
    if malformed:
        for message in malformed:
            error(message)
        return EXIT_USAGE
    targets = [_Target(url, transport=args.transport or "tcp") for url in args.urls]
    config: Config | None = None
    config_path = config_option(args)
    if not args.urls or config_path is not None:
        config = load_config(config_path)
        targets += _config_targets(config, args.transport)
    storage = _check_storage(config)
    if not targets and storage is None:
        where = config.source if config is not None else None
        if args.json:
            out(json.dumps(_document(True, config, [], None), indent=2))
        else:
            out(f"{where}: the config is valid; it has no cameras to check")
        return EXIT_OK
    results: list[tuple[_Target, CheckReport]] = []
    for target in targets:
        if not args.json:
            sys.stderr.write(f"checking {target.shown} ...\n")
            sys.stderr.flush()
        report = check_source(
            target.url,
            seconds=args.seconds,
            transport=target.transport,
            first_frame_timeout_s=target.first_frame_timeout_s,
            read_timeout_s=target.read_timeout_s,
        )
        results.append((target, report))
        if not args.json:
            out(target.label + report.summary())
    ok = all(report.ok for _, report in results) and (storage is None or storage["ok"])
    if args.json:
        out(json.dumps(_document(ok, config, results, storage), indent=2, default=str))
    else:
        if storage is not None:
            out(
                f"recording folder {storage['dir']}: OK"
                if storage["ok"]
                else f"recording folder: FAILED: {storage['reason']}"
            )
        failed = sum(not report.ok for _, report in results) + (
            0 if storage is None or storage["ok"] else 1
        )
        out(f"{len(results)} checked, {failed} failed" if failed else f"all {len(results)} OK")
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def _malformed(urls: list[str]) -> list[str]:
    """One line (masked URL and reason) per URL that does not parse."""
    problems = []
    for url in urls:
        try:
            parse_url(url)
        except UrlError as exc:
            problems.append(str(exc) if exc.shown else f"URL {url!r}: {exc.reason}")
    return problems


def _config_targets(config: Config, transport: Transport | None) -> list[_Target]:
    targets = []
    for camera in config.cameras:
        targets.append(_camera_target(camera, "main", transport))
        if camera.substream_url is not None:
            targets.append(_camera_target(camera, "sub", transport))
    return targets


def _camera_target(
    camera: Camera, stream: Literal["main", "sub"], transport: Transport | None
) -> _Target:
    url = camera.resolved_url() if stream == "main" else camera.resolved_substream_url()
    assert url is not None
    return _Target(
        url,
        camera.name,
        stream,
        transport or camera.transport,
        camera.first_frame_timeout_s,
        camera.read_timeout_s,
    )


def _check_storage(config: Config | None) -> dict[str, Any] | None:
    if config is None or not any(camera.record for camera in config.cameras):
        return None
    from camwall.record.storage import ensure_writable

    directory = config.recording_dir()
    try:
        ensure_writable(directory)
    except StorageError as exc:
        return {"dir": str(directory), "ok": False, "reason": str(exc)}
    return {"dir": str(directory), "ok": True, "reason": None}


def _document(
    ok: bool,
    config: Config | None,
    results: list[tuple[_Target, CheckReport]],
    storage: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "ok": ok,
        "config": None if config is None or config.source is None else str(config.source),
        "checks": [
            {"camera": target.camera, "stream": target.stream, **report.as_dict()}
            for target, report in results
        ],
        "recording_dir": storage,
    }
