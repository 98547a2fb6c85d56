"""Qt stays inside camwall.ui: the core imports and runs with every Qt binding unavailable."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import camwall

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
