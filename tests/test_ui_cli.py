"""The ``camwall`` command opens the wall: empty, from a config file, or clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.qt


def run_camwall(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-m", "camwall", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    done = run_camwall("--config", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert "nope.toml: file not found" in done.stderr


@pytest.mark.slow
def test_wall_opens_the_cameras_of_a_config(tmp_path: Path) -> None:
    config = tmp_path / "cameras.toml"
    config.write_text(
        'version = 1\n[wall]\ngrid = 4\n[[camera]]\nname = "porch"\n'
        'url = "synthetic://porch?width=64&height=36&fps=5"\n'
    )
    done = run_camwall("--config", str(config), "--mode", "thread", "--seconds", "1.5")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "added porch" in done.stderr
    assert "closing: stopping 1 camera(s)" in done.stderr
