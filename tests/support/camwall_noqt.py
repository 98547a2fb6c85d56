"""``python tests/support/camwall_noqt.py ARGS``: run ``camwall ARGS`` in this process, then
fail (exit code 99, a line on stderr) if any Qt module was imported along the way.

Tests start it as a real subprocess to prove that ``camwall run --headless`` imports no Qt.
"""

from __future__ import annotations

import sys

QT_MODULES = ("qtpy", "PySide6", "PyQt5", "PyQt6", "shiboken6", "sip")
QT_IMPORTED_EXIT = 99


def qt_modules() -> list[str]:
    """Qt (and camwall.ui) modules imported in this process."""
    return sorted(
        m
        for m in sys.modules
        if m.split(".")[0] in QT_MODULES or m == "camwall.ui" or m.startswith("camwall.ui.")
    )


def main() -> int:
    """Run the command; its exit code, or QT_IMPORTED_EXIT if Qt was imported."""
    from camwall.cli import main as camwall_main

    code = camwall_main(sys.argv[1:])
    loaded = qt_modules()
    if loaded:
        sys.stderr.write("QT-IMPORTED: " + " ".join(loaded) + "\n")
        return QT_IMPORTED_EXIT
    return code


if __name__ == "__main__":
    sys.exit(main())
