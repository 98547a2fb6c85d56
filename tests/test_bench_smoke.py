"""Smoke tests of the capture and wall benchmarks: ``--quick`` runs end to end, tables parse.

The numbers of a quick run on a busy test machine mean little; what is checked is that each
benchmark runs its real parts (PyAV, the capture worker process, the RTSP clip server, Qt
offscreen, the original design and the floor), prints the table ``camwall bench`` collects,
and leaves nothing behind (the autouse leak fixture watches segments and processes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from camwall.commands.bench_tables import ResultTable, parse_tables
from conftest import skip_or_fail
from fixtures.rtsp import gst_missing

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

pytestmark = pytest.mark.slow


def run_quick(script: str, timeout: float) -> str:
    """Run ``bench/<script> --quick --no-write``; return its stdout (fail with its stderr)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--no-write"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-3000:]}"
    return result.stdout


def only_table(text: str, first_column: str) -> ResultTable:
    tables = [t for t in parse_tables(text) if t.columns and t.columns[0] == first_column]
    assert len(tables) == 1, f"expected one table headed {first_column!r} in:\n{text}"
    return tables[0]


def column(table: ResultTable, name: str) -> int:
    return table.columns.index(name) - 1  # values exclude the label column


@pytest.mark.timeout(240)
def test_capture_quick_prints_a_parsable_table() -> None:
    out = run_quick("capture.py", timeout=200)
    table = only_table(out, "variant")
    rows = {label: values for label, values in table.rows}
    assert len(rows) == 4, rows
    ratio = column(table, "× bare decode")
    cpu = column(table, "CPU ms/frame")
    decode = next(v for label, v in rows.items() if label.startswith("bare decode"))
    camwall = next(v for label, v in rows.items() if label.startswith("camwall"))
    assert decode[ratio] == pytest.approx(1.0)
    # Converting and publishing a 1440p frame costs something on top of decoding it.
    assert camwall[cpu] is not None and decode[cpu] is not None
    assert camwall[cpu] > decode[cpu] > 0
    assert "camwall / bare decode" in out


@pytest.mark.timeout(240)
def test_wall_quick_prints_a_parsable_table() -> None:
    reason = gst_missing()
    if reason:
        skip_or_fail(reason)
    out = run_quick("wall.py", timeout=200)
    table = only_table(out, "design")
    labels = [label for label, _ in table.rows]
    assert labels == [
        "original design",
        "camwall",
        "camwall, recording every camera",
        "floor, full-size conversion",
        "floor, tile-size conversion",
    ]
    cpu = column(table, "CPU ms/shown frame")
    ratio = column(table, "× floor")
    cameras = column(table, "cameras")
    for label, values in table.rows:
        assert values[cameras] == 1
        # Every design showed frames: a finite, positive cost per shown frame.
        assert values[cpu] is not None and 0 < values[cpu] < 1000, (label, values)
        assert values[ratio] is not None and values[ratio] > 0, (label, values)
    floors = [values[ratio] for label, values in table.rows if label.startswith("floor")]
    assert min(v for v in floors if v is not None) == pytest.approx(1.0)
    assert "most cameras at full rate" in out


@pytest.mark.timeout(300)
def test_review_quick_prints_parsable_tables() -> None:
    """Seeks, 4-camera playback and export all run (real recordings, real workers)."""
    out = run_quick("review.py", timeout=280)
    seeks = only_table(out, "GOP")
    assert [label for label, _ in seeks.rows] == ["1 s", "2 s"]
    for _, values in seeks.rows:
        assert all(v is not None and v > 0 for v in values), values
    play = only_table(out, "speed")
    assert [label for label, _ in play.rows] == ["1×", "4×", "16×"]
    shown = column(play, "frames shown/s per camera")
    assert all(values[shown] for _, values in play.rows), play.rows
    export = only_table(out, "tool")
    assert {label for label, _ in export.rows} >= {"export_clip", "pyav_remux"}


@pytest.mark.timeout(200)
def test_event_gate_quick_gates_without_missing_events() -> None:
    out = run_quick("event_gate.py", timeout=170)
    table = only_table(out, "camera")
    rows = {label: values for label, values in table.rows}
    assert set(rows) == {"ungated", "gated"}
    ratio, missed = column(table, "× ungated"), column(table, "missed")
    assert float(rows["gated"][ratio]) < 0.5  # a quick run on a busy machine: loosely
    assert rows["gated"][missed] == 0 and rows["ungated"][missed] == 0


@pytest.mark.timeout(300)
def test_detect_rate_quick_prints_a_parsable_table() -> None:
    """Four RTSP cameras on the wall; bare session.run, then camwall's detect output, measured."""
    reason = gst_missing()
    if reason:
        skip_or_fail(reason)
    out = run_quick("detect_rate.py", timeout=280)
    table = only_table(out, "phase")
    rows = dict(table.rows)
    assert len(rows) == 3, rows
    off, bare, on = (
        next(v for k, v in rows.items() if k.startswith(p)) for p in ("off", "bare", "camwall")
    )
    dets, ratio = column(table, "detections/s, 4 cameras"), column(table, "× bare")
    shown, cpu = column(table, "shown %"), column(table, "capture CPU ms/decoded frame")
    # The bare loop and camwall both ran the model; the ratio is against the bare rate.
    assert bare[dets] is not None and bare[dets] > 0
    assert on[dets] is not None  # the count of a 2 s window: may be 0 on a starved machine
    assert bare[ratio] == pytest.approx(1.0)
    assert off[dets] is None  # no detection in the "off" phase
    for values in (off, bare, on):
        assert values[shown] is not None and values[shown] > 0  # the wall showed frames
        assert values[cpu] is not None and values[cpu] > 0  # capture workers were measured
    assert "extra capture cost of the detect output" in out
    assert "load average" in out


@pytest.mark.timeout(300)
def test_detect_accuracy_runs_an_onnx_model_beside_the_builtin(tmp_path: Path) -> None:
    """The ONNX rows of the accuracy bench: a (constant) YOLOv8-layout model, all layouts.

    No real COCO model can be downloaded here; the model's accuracy is not the point, the
    path is: the bench loads a user's model, and its fixed-size results do not depend on the
    wall's layout (box Δ 0 at 4 and 16 tiles) whatever the model.
    """
    import numpy as np

    from support.onnx_models import constant_model, yolov8_output

    boxes = np.array([[200.0, 100.0, 300.0, 400.0]], np.float32)  # model-space pixels
    model = constant_model(tmp_path / "person_const.onnx", yolov8_output(boxes, [0], [0.9]))
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH / "detect_accuracy.py"),
            "--frames",
            "12",
            "--model",
            str(model),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in result.stdout.splitlines()
        if line.startswith("| person_const |")
    ]
    assert {(r[1], r[2]) for r in rows} == {
        (mode, tiles) for mode in ("tile", "fixed") for tiles in ("1", "4", "16")
    }
    assert [r[7] for r in rows if r[1] == "fixed" and r[2] != "1"] == ["0.0", "0.0"]
    assert all(r[3] == "640×360" for r in rows if r[1] == "fixed")
