"""The VideoView example in docs/videoview.md runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.qt

DOC = Path(__file__).resolve().parent.parent / "docs" / "videoview.md"


def test_videoview_example_runs(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert code is not None
    example = code.group(1)
    assert len(example.splitlines()) <= 30
    # Let the window live for a second, then prove it painted frames from the producer.
    probe = (
        "from qtpy.QtCore import QTimer\n"
        "def _check():\n"
        "    print('painted', view.shown_seq, view.status_text() or 'video', flush=True)\n"
        "    app.quit()\n"
        "QTimer.singleShot(1200, _check)\n"
    )
    script = example.replace("app.exec()", probe + "app.exec()", 1)
    path = tmp_path / "example.py"
    path.write_text(script)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    match = re.search(r"painted (\d+) (\w+)", done.stdout)
    assert match is not None, done.stdout
    assert int(match.group(1)) > 5 and match.group(2) == "video"
