"""Moved into the package (camwall/testing/scripts/rtsp_server.py) so the demo can use it too."""

import runpy
from pathlib import Path

# Run by the system python, which cannot import camwall: find the script by path.
runpy.run_path(
    str(Path(__file__).resolve().parents[2] / "src/camwall/testing/scripts/rtsp_server.py"),
    run_name="__main__",
)
