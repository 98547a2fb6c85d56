#!/usr/bin/env python3
"""Take docs/screenshot.png: run ``camwall demo`` on a private Xvfb display and grab the window.

Usage: scripts/screenshot.py [--output PATH] [--python PYTHON] [--scenes DIR]

With ``--scenes DIR`` it also runs ``scripts/screenshot_scenes.py`` on the same display and
saves the camera dialog, wall mode and the Events panel there (docs/ for the docs).

Starts ``Xvfb`` on a free display (Debian package ``xvfb``), runs the demo there with the xcb
platform until every camera shows video, saves the window with Qt's ``grab()``, then stops
the demo and the X server. Exits non-zero if anything failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "screenshot.png"


def say(message: str) -> None:
    """Report to the terminal (this is a command-line script)."""
    sys.stderr.write(f"screenshot: {message}\n")


def default_python() -> str:
    """The project's venv interpreter if there is one, else this one."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def free_display() -> int:
    """A display number with no X server (lock file) yet."""
    for number in range(99, 199):
        if (
            not Path(f"/tmp/.X{number}-lock").exists()
            and not Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise RuntimeError("no free X display number between :99 and :198")


def start_xvfb(number: int) -> subprocess.Popen[bytes]:
    """Start Xvfb on ``:number`` and wait until it accepts connections."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise FileNotFoundError("Xvfb is not installed (Debian: apt-get install xvfb)")
    proc = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 15
    while not socket.exists():
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"Xvfb :{number} exited at start: {err.strip()[-500:]}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise TimeoutError(f"Xvfb :{number} did not start within 15 s")
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc`` and wait (kill after 5 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def take(output: Path, python: str, timeout: float = 120.0, scenes: Path | None = None) -> int:
    """Run the demo under Xvfb and save its window to ``output`` (and the scenes into
    ``scenes``); returns an exit code."""
    number = free_display()
    xvfb = start_xvfb(number)
    try:
        with tempfile.TemporaryDirectory(prefix="camwall-xdg-") as runtime:
            Path(runtime).chmod(0o700)
            env = dict(
                os.environ,
                DISPLAY=f":{number}",
                QT_QPA_PLATFORM="xcb",
                XDG_RUNTIME_DIR=runtime,
            )
            cmd = [python, "-m", "camwall", "demo", "--stats", "--screenshot", str(output)]
            try:
                done = subprocess.run(cmd, env=env, timeout=timeout, check=False)
                if done.returncode == 0 and scenes is not None:
                    script = str(ROOT / "scripts" / "screenshot_scenes.py")
                    done = subprocess.run(
                        [python, script, str(scenes)], env=env, timeout=timeout * 2, check=False
                    )
            except subprocess.TimeoutExpired:
                say(f"the demo did not finish within {timeout:.0f} s")
                return 1
    finally:
        stop(xvfb)
    if done.returncode != 0:
        say(f"the demo failed (exit code {done.returncode})")
        return done.returncode or 1
    say(f"saved {output}")
    return 0


def main() -> int:
    """Parse arguments and take the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--python", default=default_python(), help="interpreter with camwall")
    parser.add_argument(
        "--scenes", type=Path, default=None, help="also save the dialog, wall mode, events here"
    )
    args = parser.parse_args()
    scenes = args.scenes.resolve() if args.scenes is not None else None
    return take(args.output.resolve(), args.python, scenes=scenes)


if __name__ == "__main__":
    sys.exit(main())
