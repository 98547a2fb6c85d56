"""scripts/screenshot.py runs the demo on a real X server (Xvfb) and saves the window."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import skip_or_fail
from support.pixels import BAR_RGB

pytestmark = [pytest.mark.qt, pytest.mark.slow]

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "screenshot.py"


@pytest.mark.timeout(300)
def test_screenshot_of_the_demo_shows_the_bars(tmp_path: Path) -> None:
    if shutil.which("Xvfb") is None:
        skip_or_fail("Xvfb is not installed (Debian package xvfb)")
    out = tmp_path / "shot.png"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(out), "--python", sys.executable],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] >= 600 and image.shape[1] >= 1000
    # Four demo cameras: every bar colour covers a good share of the window.
    pixels = image.reshape(-1, 3).astype(np.int16)
    for r, g, b in BAR_RGB[1:7]:
        share = np.mean(np.all(np.abs(pixels - (b, g, r)) <= 12, axis=1))
        assert share > 0.01, (r, g, b, share)
