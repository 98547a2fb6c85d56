"""The ``camwall`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from camwall import __version__


def _cmd_demo(args: argparse.Namespace) -> int:
    from camwall.demo import run_stats_demo

    return run_stats_demo(seconds=args.seconds)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``camwall`` command."""
    parser = argparse.ArgumentParser(prog="camwall", description=__doc__)
    parser.add_argument("--version", action="version", version=f"camwall {__version__}")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="run the built-in demo cameras")
    demo.add_argument(
        "--seconds", type=float, default=0.0, help="stop after this long (0: until Ctrl-C)"
    )
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``camwall`` command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
