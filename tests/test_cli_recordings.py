"""``camwall recordings list`` and ``camwall export`` on real recordings, through main()."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest

from camwall.cli import main
from support.numbered import Recording, record_numbered

T0 = datetime(2026, 11, 26, 2, 14, 0, tzinfo=UTC).timestamp()
START = "2026-11-26T02:14:01.5Z"
END = "2026-11-26T03:14:05+01:00"  # = 02:14:05 UTC


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Recording]]:
    """A config whose [recording] dir holds 8 s of two cameras in 2 s segments."""
    base = tmp_path_factory.mktemp("cli")
    recs = [
        record_numbered(base / "rec", name, T0, seconds=8, segment_seconds=2)
        for name in ("Front door", "yard")
    ]
    config = base / "camwall.toml"
    config.write_text('version = 1\n[recording]\ndir = "rec"\n')
    return config, recs


pytestmark = pytest.mark.usefixtures("restore_camwall_logging")


def test_recordings_list_json(
    setup: tuple[Path, list[Recording]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = setup
    assert main(["recordings", "list", "--config", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["cameras"]) == {"front_door", "yard"}
    door = report["cameras"]["front_door"]
    assert [(s["start"], s["end"]) for s in door["spans"]] == [
        ("2026-11-26T02:14:00.000Z", "2026-11-26T02:14:08.000Z")
    ]
    assert len(door["segments"]) == 4 and door["bytes"] > 0
    assert door["events"] == []


def test_recordings_list_one_camera_in_a_range(
    setup: tuple[Path, list[Recording]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = setup
    args = ["recordings", "list", "Front door", "--from", START, "--to", END, "--segments"]
    assert main([*args, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("front_door: 1 span(s)") and "yard" not in out
    assert out.count(".mp4") == 3  # the segments 02:14:00-02, 02-04 and 04-06 overlap 01.5-05


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00Z", "02:14"])
def test_a_bad_time_is_one_line_and_exit_2(
    setup: tuple[Path, list[Recording]], capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    config, _ = setup
    assert main(["recordings", "list", "--from", bad, "--config", str(config)]) == 2
    assert main(["export", "door", "--from", bad, "--to", END, "-o", "x.mp4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("is not a time" in line for line in err), err


def test_export_one_camera_says_it_snapped(
    setup: tuple[Path, list[Recording]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = setup
    clip = tmp_path / "clip.mp4"
    args = ["export", "Front door", "--from", START, "--to", END, "-o", str(clip)]
    assert main([*args, "--config", str(config)]) == 0
    captured = capsys.readouterr()
    assert "0.50 s before --from" in captured.err
    assert str(clip) in captured.out
    with av.open(str(clip)) as container:
        assert (container.duration or 0) / 1e6 == pytest.approx(4.0, abs=0.05)


def test_export_several_cameras_into_a_folder(
    setup: tuple[Path, list[Recording]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = setup
    folder = tmp_path / "clips"
    args = ["export", "Front door", "yard", "--from", START, "--to", END, "--accurate"]
    assert main([*args, "-o", str(folder), "--config", str(config)]) == 0
    clips = sorted(folder.glob("*.mp4"))
    assert [c.name.split("_2026")[0] for c in clips] == ["front_door", "yard"]
    for clip in clips:
        with av.open(str(clip)) as container:
            assert (container.duration or 0) / 1e6 == pytest.approx(3.5, abs=0.05)
    assert "before --from" not in capsys.readouterr().err


def test_export_of_a_camera_without_recordings_fails_with_exit_1(
    setup: tuple[Path, list[Recording]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = setup
    args = ["export", "garage", "--from", START, "--to", END, "-o", str(tmp_path / "g.mp4")]
    assert main([*args, "--config", str(config)]) == 1
    assert "garage: nothing was recorded" in capsys.readouterr().err


def test_recordings_list_events(
    setup: tuple[Path, list[Recording]], capsys: pytest.CaptureFixture[str]
) -> None:
    from camwall.record.index import RecordedEvent, RecordingIndex

    config, recs = setup
    with RecordingIndex.open(recs[1].root) as index:
        index.add_event(RecordedEvent("yard", "detection", "person", T0 + 2, T0 + 3, 0.91, "a.jpg"))
    args = ["recordings", "list", "yard", "--events", "--config", str(config)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 event(s)" in out
    assert (
        "2026-11-26T02:14:02.000Z – 2026-11-26T02:14:03.000Z  detection: person 0.91  a.jpg" in out
    )
