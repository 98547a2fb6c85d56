"""What every camwall command shares: exit codes, one-line errors, loading the config."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from camwall.config import Config, default_config_path, load
from camwall.errors import CamwallError, ConfigError
from camwall.redact import redact

EXIT_OK = 0
#: Something went wrong while running (a part could not start or stop, a bench script failed).
EXIT_FAILURE = 1
#: The command line or the config file is wrong; the message says what to change.
EXIT_USAGE = 2
#: ``camwall check``: a checked camera (or the recording folder) failed.
EXIT_CHECK_FAILED = 3
#: Interrupted by Ctrl-C where a command does not stop cleanly on its own.
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    success (camwall run: stopped by SIGINT/SIGTERM/SIGHUP or --seconds, cleanly)
  1    runtime failure (a part could not start or stop in time; a bench script failed)
  2    usage or config error (the message names the option, file and key)
  3    camwall check: a checked camera or the recording folder failed
  130  interrupted by Ctrl-C

Errors go to stderr as one line; credentials in URLs are always masked."""

CommandFn = Callable[[argparse.Namespace], int]


def out(text: str = "") -> None:
    """Write one line for the user to stdout."""
    sys.stdout.write(text + "\n")


def error(message: str) -> None:
    """Write ``camwall: error: message`` to stderr (credentials masked)."""
    sys.stderr.write(f"camwall: error: {redact(message)}\n")
    sys.stderr.flush()


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """The ``--config FILE`` option (default: the platform's config location)."""
    parser.add_argument(
        "--config",
        type=Path,
        # SUPPRESS: an unset option must not hide a --config given before the command.
        default=argparse.SUPPRESS,
        metavar="FILE",
        help=f"the config file (default: {default_config_path()})",
    )


def config_option(args: argparse.Namespace) -> Path | None:
    """The --config given (before or after the command), or None for the default."""
    value = getattr(args, "config", None)
    return value if isinstance(value, Path) else None


def load_config(path: Path | None) -> Config:
    """Load ``path`` (None: the default location); ConfigError names file and key.

    Warnings (e.g. a password typed into a URL) are logged by the loader itself. Passwords
    typed into the wall live in the keyring (or a 0600 file beside the config): they are put
    back here, so headless nodes and ``check`` connect as the wall does.
    """
    from camwall.secrets import fill_password

    config = load(path)
    cameras = tuple(fill_password(c, config_path=config.source) for c in config.cameras)
    return dataclasses.replace(config, cameras=cameras)


def apply_log_level(args: argparse.Namespace, config: Config) -> None:
    """Use the config's ``log_level`` for camwall's loggers unless --log-level was given."""
    if getattr(args, "log_level", None) is None:
        logging.getLogger("camwall").setLevel(config.log_level)


def run_command(func: CommandFn, args: argparse.Namespace) -> int:
    """Run a command; expected errors become one line on stderr and an exit code."""
    try:
        return int(func(args))
    except ConfigError as exc:
        error(str(exc))
        return EXIT_USAGE
    except CamwallError as exc:
        error(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write("camwall: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): nothing left to say. Point
        # stdout at /dev/null so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK
