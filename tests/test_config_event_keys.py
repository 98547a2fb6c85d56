"""The per-camera keys of recording on events and the camera-motion detection gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from camwall.config import Camera, Config, load, save
from camwall.errors import ConfigError

HEAD = 'version = 1\n\n[[camera]]\nname = "door"\nurl = "synthetic://door"\n'


def test_event_keys_load_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        HEAD + 'record_on_events = ["Motion", "tamper", "motion"]\npre_roll_s = 3\n'
        'post_roll_s = 7.5\ndetect_when = "camera_motion"\n'
    )
    door = load(path).camera("door")
    assert door.record_on_events == ("motion", "tamper")
    assert (door.pre_roll_s, door.post_roll_s, door.detect_when) == (3.0, 7.5, "camera_motion")
    save(Config(cameras=(door,)), tmp_path / "d.toml")
    assert load(tmp_path / "d.toml").camera("door") == door
    # Defaults are not written.
    save(Config(cameras=(Camera(name="yard", url="synthetic://yard"),)), tmp_path / "e.toml")
    text = (tmp_path / "e.toml").read_text()
    assert "pre_roll_s" not in text and "detect_when" not in text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('record_on_events = ["moton"]', "'moton' is not one of"),
        ("pre_roll_s = 61", "at most 60"),
        ("post_roll_s = 0", "greater than 0"),
        ('detect_when = "sometimes"', "'sometimes' is not one of"),
    ],
)
def test_event_keys_are_bounded(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(HEAD + line + "\n")
    with pytest.raises(ConfigError, match=message):
        load(path)
