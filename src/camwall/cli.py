"""The ``camwall`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from camwall import __version__
from camwall.commands import EXIT_CODES_HELP, register, run_command
from camwall.logfilters import collapse_library_records
from camwall.redact import install_redaction

if TYPE_CHECKING:
    from camwall.config import Camera, Config


def open_wall(
    config: Config | None,
    cameras: Sequence[Camera] | None = None,
    *,
    seconds: float = 0.0,
    mode: str = "process",
    stats: bool = False,
    screenshot: Path | None = None,
    config_path: Path | None = None,
    wall_mode: bool = False,
) -> int:
    """Open the wall over a runtime for ``config`` — the one place the core reaches Qt.

    Without a display or a Qt binding it says so in one line (exit 2) and points to
    ``camwall run --headless``, instead of Qt's own abort.
    """
    from camwall.uicheck import wall_unavailable

    problem = wall_unavailable()
    if problem is not None:
        print(f"camwall: {problem}", file=sys.stderr)
        return 2
    from camwall.ui.wall.app import run_wall

    return run_wall(
        config,
        cameras,
        mode="thread" if mode == "thread" else "process",
        seconds=seconds,
        stats=stats,
        screenshot=screenshot,
        config_path=config_path,
        wall_mode=wall_mode,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from camwall.demo import demo_cameras

    with demo_cameras(rtsp=not args.no_rtsp) as cameras:
        return open_wall(
            None,
            cameras,
            seconds=args.seconds,
            mode=args.mode,
            stats=args.stats,
            screenshot=args.screenshot,
            wall_mode=args.wall_mode,
        )


def _cmd_wall(args: argparse.Namespace) -> int:
    from camwall.config import default_config_path, load
    from camwall.errors import ConfigError

    config: Config | None = None
    if args.config is not None or default_config_path().exists():
        try:
            config = load(args.config)
        except ConfigError as exc:
            print(f"camwall: {exc}", file=sys.stderr)
            return 2

    return open_wall(
        config,
        mode=args.mode,
        seconds=args.seconds,
        stats=args.stats,
        wall_mode=args.wall_mode,
        # Cameras added or removed on the wall are saved there (the file is made if needed).
        config_path=args.config if args.config is not None else default_config_path(),
    )


def _add_wall_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="close the wall after this long (0: never)"
    )
    parser.add_argument(
        "--mode",
        choices=("process", "thread"),
        default="process",
        help="run each camera's capture in its own process (default) or in a thread",
    )
    parser.add_argument("--stats", action="store_true", help="show the stats overlay on tiles")
    parser.add_argument(
        "--wall-mode",
        action="store_true",
        help="only the camera tiles, full screen, for an unattended monitor (Esc leaves)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``camwall`` command."""
    parser = argparse.ArgumentParser(
        prog="camwall",
        description="A camera wall for high-resolution network cameras. "
        "Without a command, opens the wall.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"camwall {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        help="DEBUG, INFO, WARNING or ERROR (default: the config's log_level, else INFO)",
    )
    _add_wall_options(parser)
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file with the cameras to show (default: the user config file, if any)",
    )
    parser.set_defaults(func=_cmd_wall, open_wall=open_wall)
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="open the wall with four built-in synthetic cameras")
    _add_wall_options(demo)
    demo.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        metavar="PNG",
        help="save the window to PNG once every camera shows video, then quit",
    )
    demo.add_argument(
        "--no-rtsp",
        action="store_true",
        help="keep every demo camera synthetic (by default one is served over RTSP when "
        "GStreamer's RTSP server is installed)",
    )
    demo.set_defaults(func=_cmd_demo)
    register(sub)  # check, run (--headless), bench: camwall.commands
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``camwall`` command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.getLevelName((args.log_level or "INFO").upper())
    if not isinstance(level, int):
        parser.error(f"--log-level {args.log_level!r}: use DEBUG, INFO, WARNING or ERROR")
    existing = list(logging.getLogger().handlers)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_redaction()  # log records and uncaught tracebacks, every handler
    for handler in logging.getLogger().handlers:
        if handler not in existing:  # ours; a host program's (or pytest's) handlers are its own
            collapse_library_records(handler)  # zeep/aiohttp floods: the first, then a count
    return run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
