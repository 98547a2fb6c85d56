"""The ``camwall`` command line as a whole: help everywhere, exit codes documented, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from camwall.cli import build_parser, main
from camwall.commands.common import EXIT_CODES_HELP

COMMANDS = ("check", "run", "bench", "discover", "recordings", "export")


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_command_has_help_with_the_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`camwall [command] --help` exits 0 and documents the exit codes."""
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"] if command else ["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out and "3    camwall check" in out
    if command in ("check", "run", "export"):
        assert "--config FILE" in out


def test_the_top_level_help_lists_the_commands() -> None:
    """check, run and bench sit beside the UI's commands."""
    text = build_parser().format_help()
    for command in COMMANDS:
        assert command in text
    assert EXIT_CODES_HELP.splitlines()[0] in text


@pytest.mark.usefixtures("restore_camwall_logging")
def test_a_config_given_before_the_command_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`camwall --config FILE check` reads FILE like `camwall check --config FILE`."""
    config = tmp_path / "c.toml"
    config.write_text("version = 7\n")
    assert main(["--config", str(config), "check"]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "schema version 7" in err


def test_the_command_line_starts_without_ffmpeg_or_qt() -> None:
    """Building the parser imports neither PyAV, OpenCV nor Qt: `camwall --help` stays quick."""
    code = (
        "import sys; import camwall.cli as c; c.build_parser(); "
        "heavy = [m for m in ('av', 'cv2', 'qtpy', 'PySide6', 'PyQt5', 'camwall.runtime') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
