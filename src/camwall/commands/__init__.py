"""The ``camwall`` subcommands beyond the wall: ``check``, ``run`` (``--headless``), ``bench``,
``model``, ``discover``, ``recordings``, ``export``.

Each module adds its own subparser; :func:`register` adds them all to cli.py's parser. None
of them imports Qt (``camwall run`` without ``--headless`` imports the wall lazily).
"""

from __future__ import annotations

from typing import Any

from camwall.commands import bench, check, discover, export, model, recordings, run
from camwall.commands.common import EXIT_CODES_HELP, run_command

__all__ = ["EXIT_CODES_HELP", "register", "run_command"]


def register(sub: Any) -> None:
    """Add every subcommand above to the ``camwall`` subparsers ``sub``."""
    check.add_parser(sub)
    run.add_parser(sub)
    bench.add_parser(sub)
    model.add_parser(sub)
    discover.add_parser(sub)
    recordings.add_parser(sub)
    export.add_parser(sub)
