"""``camwall bench``: runs the scripts as subprocesses, collects tables and plots, survives failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from camwall.cli import main
from camwall.commands.bench import default_bench_dir
from camwall.commands.bench_tables import parse_tables, plot_column

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

ALIGNED = """\
frame ring, 2560×1440 BGRA (14.7 MB), median of 2 rounds × 10
variant                                   wall ms   cpu ms   faults  × floor
memcpy floor (np.copyto)                    0.669    0.573        0     1.00
ring.publish                                1.298    0.679        0     1.94
ring.read_latest() (new array)              3.281    2.139       54     4.91
fence: tso
"""

MARKDOWN = """\
50 packets of 2560x1440 H.264
| variant | CPU ms per packet | × floor |
|---|---:|---:|
| demux + decode (floor) | 3.488 | 1.000 |
| demux + decode + write | 3.620 | 1.038× |
"""


def test_tables_are_found_in_both_formats() -> None:
    """Column-aligned and Markdown tables, numbers with units, titles from the line above."""
    (aligned,) = parse_tables(ALIGNED)
    assert aligned.columns == ("variant", "wall ms", "cpu ms", "faults", "× floor")
    assert aligned.title.startswith("frame ring")
    assert aligned.rows[1] == ("ring.publish", (1.298, 0.679, 0.0, 1.94))
    assert plot_column(aligned) == 3  # the ratio column
    (markdown,) = parse_tables(MARKDOWN)
    assert markdown.columns == ("variant", "CPU ms per packet", "× floor")
    assert markdown.rows[1] == ("demux + decode + write", (3.62, 1.038))
    assert parse_tables("no table here\nfence: tso\n") == []


def _script(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))


@pytest.fixture
def bench_dir(tmp_path: Path) -> Path:
    """A bench/ folder of small real scripts: two that print tables, one that fails."""
    folder = tmp_path / "repo" / "bench"
    folder.mkdir(parents=True)
    _script(
        folder,
        "ring",
        f"""
        import sys
        print("argv", sys.argv[1:])
        print({ALIGNED!r})
        """,
    )
    _script(
        folder,
        "record",
        f"""
        import json, sys
        # Knows "--quick" itself.
        print("argv", json.dumps(sys.argv[1:]))
        print({MARKDOWN!r})
        """,
    )
    _script(
        folder,
        "detect",
        """
        import sys
        # Would append to the docs without "--no-write".
        print("argv", sys.argv[1:])
        sys.stderr.write("loading model...\\nRuntimeError: the model is broken\\n")
        sys.exit(3)
        """,
    )
    return folder


def test_bench_runs_every_script_and_reports_failures(
    bench_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing script is reported with its stderr; the others run; tables become PNGs."""
    out = tmp_path / "out"
    code = main(["bench", "--quick", "--bench-dir", str(bench_dir), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 of 3 bench scripts failed: detect" in captured.err
    # The progress bar (stderr is not a terminal here: one line per script).
    assert (
        "[" in captured.err and "ring.py ok" in captured.err and "detect.py FAILED" in captured.err
    )
    results = (out / "results.md").read_text()
    assert "| ring.py | ok |" in results and "| detect.py | exit 3 |" in results
    assert "the model is broken" in results
    # Quick arguments: the known short ones, --quick where a script takes it, never
    # writing into the docs.
    assert "argv ['--frames', '10', '--rounds', '2']" in results
    assert 'argv ["--quick"]' in results
    assert "argv ['--seconds', '2', '--rounds', '1', '--no-write']" in results
    for name in ("ring-1.png", "record-1.png"):
        assert (out / name).read_bytes().startswith(PNG_MAGIC)
        assert f"]({name})" in results
    assert str(out / "results.md") in captured.out


def test_bench_arguments_are_checked(
    bench_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown scripts, a missing bench folder: exit 2 with one line saying what is wrong."""
    assert main(["bench", "--bench-dir", str(bench_dir), "--only", "ring,nope"]) == 2
    assert "unknown script(s) nope" in capsys.readouterr().err
    assert main(["bench", "--bench-dir", str(tmp_path / "none")]) == 2
    assert "no bench folder" in capsys.readouterr().err
    assert main(["bench", "--bench-dir", str(bench_dir), "--only", "wall"]) == 2
    assert "none of wall.py exists" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_quick_runs_the_real_ring_benchmark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real bench/ring.py, quick: its table in results.md and a plot."""
    assert (default_bench_dir() / "ring.py").is_file()
    out = tmp_path / "out"
    code = main(["bench", "--quick", "--only", "ring", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    results = (out / "results.md").read_text()
    assert "memcpy floor" in results and "ring.publish" in results
    assert (out / "ring-1.png").read_bytes().startswith(PNG_MAGIC)
