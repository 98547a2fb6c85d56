"""``camwall bench``: run the benchmark scripts in bench/ and collect their results.

Each script (ring.py, convert.py, record.py, detect.py, capture.py, wall.py — whichever exist)
runs as a subprocess, one after the other so they do not disturb each other's timings, with a
progress bar on stderr. Their printed tables go into ``results.md`` in the output folder,
each table worth plotting also as a PNG bar chart. A script that fails or times out is
reported (exit code, the end of its stderr) and the others still run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from camwall import __version__
from camwall.commands.bench_tables import ResultTable, parse_tables, plot_column, plot_table
from camwall.commands.check import positive_seconds
from camwall.commands.common import (
    EXIT_CODES_HELP,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    error,
    out,
)

DESCRIPTION = """\
Run the benchmark scripts in bench/ one after the other, with a progress bar on stderr.
Their tables go into DIR/results.md, each plottable table also as a PNG bar chart. A script
that fails or times out is reported and the others still run."""

#: The scripts, in the order they run.
SCRIPTS = (
    "ring",
    "convert",
    "record",
    "detect",
    "detect_rate",
    "capture",
    "wall",
    "events",
    "review",
)
#: Arguments for a short run (``--quick``) of the scripts that do not take ``--quick``.
QUICK_ARGS: dict[str, tuple[str, ...]] = {
    "ring": ("--frames", "10", "--rounds", "2"),
    "convert": ("--frames", "10", "--rounds", "1"),
    "record": ("--seconds", "2", "--rounds", "1"),
    "detect": ("--seconds", "2", "--rounds", "1"),
}
TIMEOUT_S = 1800.0
QUICK_TIMEOUT_S = 300.0
_BAR = 30


def default_bench_dir() -> Path:
    """bench/ of the source checkout this camwall runs from."""
    return Path(__file__).resolve().parents[3] / "bench"


def add_parser(sub: Any) -> None:
    """Register ``camwall bench``."""
    parser = sub.add_parser(
        "bench",
        help="run the benchmarks in bench/ and write results.md and plots",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="short runs (a rough picture)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="where results.md and the plots go (default: ./camwall-bench-<time>)",
    )
    parser.add_argument(
        "--only",
        default=None,
        metavar="NAMES",
        help=f"comma-separated scripts to run (of {', '.join(SCRIPTS)})",
    )
    parser.add_argument(
        "--bench-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the folder holding the scripts (default: bench/ of this source checkout)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=None,
        metavar="S",
        help=f"per script (default {TIMEOUT_S:.0f} s, with --quick {QUICK_TIMEOUT_S:.0f} s)",
    )
    parser.set_defaults(func=run)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one script's run went."""

    name: str
    command: tuple[str, ...]
    returncode: int | None  # None: killed after the timeout
    seconds: float
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True if the script exited with 0."""
        return self.returncode == 0


def run(args: argparse.Namespace) -> int:
    """Run the scripts; 0 if every one succeeded, 1 if any failed, 2 for bad arguments."""
    bench_dir = args.bench_dir or default_bench_dir()
    if not bench_dir.is_dir():
        error(
            f"{bench_dir}: no bench folder; the benchmarks ship with camwall's source "
            "checkout (pass --bench-dir to point at them)"
        )
        return EXIT_USAGE
    names = list(SCRIPTS)
    if args.only:
        names = [n.strip().removesuffix(".py") for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in SCRIPTS]
        if unknown:
            error(
                f"--only: unknown script(s) {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}"
            )
            return EXIT_USAGE
    scripts = [(n, bench_dir / f"{n}.py") for n in names if (bench_dir / f"{n}.py").is_file()]
    if not scripts:
        error(f"{bench_dir}: none of {', '.join(f'{n}.py' for n in names)} exists")
        return EXIT_USAGE
    out_dir = args.out or Path.cwd() / f"camwall-bench-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        error(f"--out {out_dir}: cannot create the folder: {exc.strerror or exc}")
        return EXIT_USAGE
    timeout = args.timeout or (QUICK_TIMEOUT_S if args.quick else TIMEOUT_S)
    bar = _Progress(sys.stderr, len(scripts))
    outcomes = []
    for index, (name, path) in enumerate(scripts):
        command = (sys.executable, str(path), *script_args(name, path, quick=args.quick))
        outcomes.append(_run_script(name, command, bench_dir.parent, timeout, bar, index))
    bar.finish()
    results = write_results(out_dir, outcomes, quick=args.quick)
    failed = [o.name for o in outcomes if not o.ok]
    out(f"results: {results}")
    if failed:
        error(f"{len(failed)} of {len(outcomes)} bench scripts failed: {', '.join(failed)}")
        return EXIT_FAILURE
    return EXIT_OK


def script_args(name: str, path: Path, *, quick: bool) -> list[str]:
    """The arguments ``name`` runs with: short ones for --quick, never writing into docs/."""
    source = path.read_text(encoding="utf-8", errors="replace")
    args: list[str] = []
    if quick:
        if '"--quick"' in source:
            args.append("--quick")
        else:
            args.extend(QUICK_ARGS.get(name, ()))
    if '"--no-write"' in source:
        args.append("--no-write")  # results go to the output folder, not into the docs
    return args


def _run_script(
    name: str,
    command: tuple[str, ...],
    cwd: Path,
    timeout: float,
    bar: _Progress,
    index: int,
) -> Outcome:
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(
            command, cwd=cwd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, text=True
        )
        returncode: int | None = None
        try:
            while True:
                try:
                    returncode = proc.wait(0.25)
                    break
                except subprocess.TimeoutExpired:
                    elapsed = time.monotonic() - started
                    bar.update(index, name, elapsed)
                    if elapsed > timeout:
                        proc.kill()
                        proc.wait()
                        break
        finally:
            if proc.poll() is None:  # interrupted (Ctrl-C): leave nothing running
                proc.kill()
                proc.wait()
        stdout.seek(0)
        stderr.seek(0)
        text_out, text_err = stdout.read(), stderr.read()
    seconds = time.monotonic() - started
    if returncode is None:
        text_err += f"\n(killed after the {timeout:.0f} s timeout)"
    bar.done(index, name, seconds, returncode == 0)
    return Outcome(name, command, returncode, seconds, text_out, text_err)


class _Progress:
    """A text progress bar on stderr (a line per script when stderr is not a terminal)."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self._stream = stream
        self._total = total
        self._tty = stream.isatty()

    def _bar(self, done: float) -> str:
        filled = int(_BAR * done / self._total)
        return "[" + "#" * filled + "." * (_BAR - filled) + "]"

    def update(self, index: int, name: str, elapsed: float) -> None:
        if self._tty:
            self._stream.write(
                f"\r{self._bar(index)} {index + 1}/{self._total} {name}.py {elapsed:5.0f} s  "
            )
            self._stream.flush()

    def done(self, index: int, name: str, seconds: float, ok: bool) -> None:
        status = "ok" if ok else "FAILED"
        line = (
            f"{self._bar(index + 1)} {index + 1}/{self._total} {name}.py {status} ({seconds:.1f} s)"
        )
        self._stream.write(("\r" + line + " " * 8 + "\n") if self._tty else line + "\n")
        self._stream.flush()

    def finish(self) -> None:
        self._stream.flush()


def write_results(out_dir: Path, outcomes: list[Outcome], *, quick: bool) -> Path:
    """Write results.md (and a PNG per plottable table) into ``out_dir``; return its path."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        "# camwall benchmarks",
        "",
        f"- when: {now}{' (quick run: rough numbers)' if quick else ''}",
        f"- camwall {__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "- compare ratios between machines, not times",
        "",
        "| script | result | seconds |",
        "|---|---|---:|",
    ]
    for o in outcomes:
        result = "ok" if o.ok else ("timed out" if o.returncode is None else f"exit {o.returncode}")
        lines.append(f"| {o.name}.py | {result} | {o.seconds:.1f} |")
    plots_failed: str | None = None
    for o in outcomes:
        lines += ["", f"## {o.name}.py", "", "`" + " ".join(_shown(o.command)) + "`", ""]
        if not o.ok:
            what = "timed out" if o.returncode is None else f"failed with exit code {o.returncode}"
            tail = "\n".join(o.stderr.strip().splitlines()[-20:])
            lines += [f"**{what}**; the end of its stderr:", "", "```text", tail, "```", ""]
        if o.stdout.strip():
            lines += ["```text", o.stdout.rstrip(), "```"]
        for n, table in enumerate(parse_tables(o.stdout), 1):
            if plots_failed is None:
                try:
                    image = _plot(table, out_dir / f"{o.name}-{n}.png", f"{o.name}.py")
                except ImportError as exc:
                    plots_failed = f"no plots: matplotlib is not installed ({exc})"
                    image = None
                if image is not None:
                    lines += ["", f"![{o.name}.py table {n}]({image.name})"]
    if plots_failed is not None:
        lines += ["", f"_{plots_failed}; `pip install matplotlib` and run again._"]
    path = out_dir / "results.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _plot(table: ResultTable, path: Path, heading: str) -> Path | None:
    column = plot_column(table)
    if column is None:
        return None
    return plot_table(table, column, path, heading)


def _shown(command: tuple[str, ...]) -> list[str]:
    """The command with the interpreter shown as ``python`` and the script relative."""
    script = Path(command[1])
    return ["python", f"{script.parent.name}/{script.name}", *command[2:]]
