"""Qt stays inside camwall.ui: the core imports and runs with every Qt binding unavailable."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import camwall

ROOT = Path(__file__).resolve().parent.parent
#: The parts allowed to reach Qt: the Qt face itself and the launcher that opens it.
QT_SIDE = {"camwall.ui", "camwall.cli", "camwall.__main__"}

QT_MODULES = ("qtpy", "PySide6", "PyQt5", "PyQt6", "shiboken6", "sip")


def core_modules() -> list[str]:
    """Every camwall module outside camwall.ui."""
    names = [camwall.__name__]
    for info in pkgutil.walk_packages(camwall.__path__, prefix="camwall."):
        if info.name == "camwall.ui" or info.name.startswith("camwall.ui."):
            continue
        if info.name == "camwall.__main__":
            continue
        names.append(info.name)
    return names


def test_core_imports_without_qt() -> None:
    """Import every core module in a fresh interpreter where importing Qt raises."""
    modules = core_modules()
    assert "camwall.frames.ring" in modules
    script = f"""
import importlib, importlib.abc, sys
class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {QT_MODULES!r}:
            raise ImportError("Qt is forbidden outside camwall.ui: " + name)
        return None
sys.meta_path.insert(0, NoQt())
for m in {modules!r}:
    importlib.import_module(m)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {QT_MODULES!r})
print("LOADED", loaded)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout


def test_import_linter_contract() -> None:
    """The import-linter contract in pyproject.toml holds (static check of every import)."""
    exe = sys.executable.replace("python", "lint-imports").rsplit("/", 1)
    cmd = [f"{exe[0]}/lint-imports"] if len(exe) == 2 else ["lint-imports"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_contract_covers_every_part_of_the_core() -> None:
    """A new package cannot slip past the contract: every top-level part is listed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = config["tool"]["importlinter"]["contracts"][0]
    listed = set(contract["source_modules"])
    parts = {f"camwall.{info.name}" for info in pkgutil.iter_modules(camwall.__path__)}
    assert parts - QT_SIDE - listed == set(), "add these to the import-linter contract"
    assert contract["allow_indirect_imports"] is False
    assert "camwall.ui" in contract["forbidden_modules"]
    assert not contract.get("ignore_imports")
