"""A valid config loads into typed values, round-trips exactly, and never shows a password."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import camwall.config as config
from camwall.config import Camera, Config, DetectionConfig, OnvifConfig, RecordingConfig
from camwall.config.writer import toml_string
from camwall.errors import ConfigError

SECRET = "p@ss:w/rd Sup3r#Secret"
ONVIF_SECRET = "0nvif-Only!"
ENV = {"CAM1_PASS": SECRET, "ONVIF_PW": ONVIF_SECRET}

FULL = """\
version = 1
log_level = "debug"

[wall]
grid = 9

[recording]
dir = "recordings"
segment_seconds = 30
max_age_days = 14
max_total_gb = 250.5

[detection]
model = "models/yolo11n.onnx"
fps = 4
threshold = 0.45

[detection.thresholds]
person = 0.6
"traffic light" = 0.3

[[camera]]
name = "Front door"
url = "rtsp://admin@192.168.1.20:554/Streaming/Channels/101"
substream_url = "rtsp://192.168.1.20:554/Streaming/Channels/102"
transport = "udp"
password_env = "CAM1_PASS"
detect = true
detect_fps = 2.5
record = true
masks = [
  [[0, 0], [640, 0], [640, 120], [0, 120]],
  [[1000, 500], [1200, 500.5], [1100, 700]],
]

[camera.onvif]
port = 8000
user = "operator"
password_env = "ONVIF_PW"

[[camera]]
name = "Garage"
url = "clips/garage.mp4"
"""


@pytest.fixture
def full_file(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "yolo11n.onnx").write_bytes(b"onnx")
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "garage.mp4").write_bytes(b"")
    file = tmp_path / "camwall.toml"
    file.write_text(FULL)
    return file


def test_full_file_loads_into_typed_values(full_file: Path) -> None:
    """Every key of a complete file arrives with the right type; omitted keys get defaults."""
    cfg = config.load(full_file, env=ENV)
    assert cfg.log_level == "DEBUG"
    assert cfg.wall.grid == 9 and cfg.wall.tiles(2) == 9
    assert cfg.recording == RecordingConfig(Path("recordings"), 30.0, 14.0, 250.5)
    assert cfg.recording_dir() == full_file.parent / "recordings"
    assert cfg.recording.max_total_bytes == int(250.5 * 2**30)
    assert cfg.detection.threshold_for("person") == 0.6
    assert cfg.detection.threshold_for("cat") == 0.45
    assert cfg.model_path() == full_file.parent / "models" / "yolo11n.onnx"
    front, garage = cfg.cameras
    assert front.transport == "udp" and front.detect and front.record
    assert front.detect_fps == 2.5 and cfg.detect_fps(garage) == 4.0
    assert front.masks[1] == ((1000.0, 500.0), (1200.0, 500.5), (1100.0, 700.0))
    assert front.onvif == OnvifConfig(None, 8000, "operator", "ONVIF_PW")
    assert garage == Camera(name="Garage", url="clips/garage.mp4")
    assert garage.resolved_url() == str(full_file.parent / "clips" / "garage.mp4")
    assert cfg.camera("Garage") is garage
    with pytest.raises(KeyError, match="no camera named 'Back'"):
        cfg.camera("Back")


def test_round_trip_is_exact(full_file: Path, tmp_path: Path) -> None:
    """load → dumps → load gives an equal config, and dumps is stable from then on."""
    cfg = config.load(full_file, env=ENV)
    text = config.dumps(cfg)
    again = config.loads(text, path=full_file, env=ENV)
    assert again == cfg
    assert config.dumps(again) == text
    saved = config.save(cfg, tmp_path / "copy" / "camwall.toml")
    (tmp_path / "copy" / "models").mkdir()
    (tmp_path / "copy" / "models" / "yolo11n.onnx").write_bytes(b"onnx")
    assert config.load(saved, check_env=False) == cfg


def test_defaults_round_trip() -> None:
    """An empty config (just the version) round-trips and has sensible defaults."""
    cfg = config.loads("version = 1\n")
    assert cfg == Config()
    assert cfg.recording.segment_seconds == 60.0 and cfg.wall.grid == "auto"
    assert config.loads(config.dumps(cfg)) == cfg


def test_env_password_is_used_but_never_shown(full_file: Path) -> None:
    """resolved_url carries the (percent-encoded) password; repr, str, dumps and errors never do."""
    cfg = config.load(full_file, env=ENV)
    front = cfg.cameras[0]
    encoded = "p%40ss%3Aw%2Frd%20Sup3r%23Secret"
    assert front.resolved_url(ENV) == (
        f"rtsp://admin:{encoded}@192.168.1.20:554/Streaming/Channels/101"
    )
    assert front.resolved_substream_url(ENV) == (
        f"rtsp://admin:{encoded}@192.168.1.20:554/Streaming/Channels/102"
    )
    endpoint = front.onvif_settings(ENV)
    assert endpoint is not None
    assert (endpoint.host, endpoint.port, endpoint.user) == ("192.168.1.20", 8000, "operator")
    assert endpoint.password == ONVIF_SECRET
    shown = [repr(cfg), str(cfg), repr(front), str(front), config.dumps(cfg), repr(endpoint)]
    shown += [front.display_url, repr(cfg.cameras)]
    for text in shown:
        for secret in (SECRET, encoded, ONVIF_SECRET, "p@ss"):
            assert secret not in text
    assert 'password_env = "CAM1_PASS"' in config.dumps(cfg)
    with pytest.raises(ConfigError) as info:
        front.resolved_url({})
    assert str(info.value) == (
        "password_env: environment variable CAM1_PASS (password_env of camera 'Front door') "
        "is not set"
    )


def test_resolved_url_reads_the_environment_at_use_time(
    full_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password rotated after loading is picked up: the config never stores it."""
    monkeypatch.setenv("CAM1_PASS", "first")
    monkeypatch.setenv("ONVIF_PW", "x")
    cam = config.load(full_file).cameras[0]
    assert ":first@" in cam.resolved_url()
    monkeypatch.setenv("CAM1_PASS", "second")
    assert ":second@" in cam.resolved_url()


def test_save_is_atomic_and_private(full_file: Path, tmp_path: Path) -> None:
    """save writes a new file 0600 (and keeps an existing file's mode), leaving no temp file."""
    cfg = config.load(full_file, env=ENV)
    target = tmp_path / "new.toml"
    config.save(cfg, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o640)
    config.save(cfg, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert SECRET not in target.read_text()


def test_save_refuses_an_invalid_config_and_keeps_the_old_file(
    full_file: Path, tmp_path: Path
) -> None:
    """A config built in code with a mistake is rejected before anything is written."""
    target = tmp_path / "keep.toml"
    target.write_text("version = 1\n")
    bad = Config(cameras=(Camera(name="x", url="rtp://h/s"),))
    with pytest.raises(ConfigError, match=r"camera\[0\]\.url: scheme 'rtp' is not supported"):
        config.save(bad, target)
    assert target.read_text() == "version = 1\n"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_save_to_an_unwritable_place_leaves_no_temp_file(full_file: Path, tmp_path: Path) -> None:
    """Writing under a path whose parent is a regular file fails with the OS error."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(OSError):
        config.save(config.load(full_file, env=ENV), blocker / "camwall.toml")
    assert blocker.read_text() == ""


def test_save_defaults_to_the_file_it_came_from(full_file: Path) -> None:
    """A config loaded from a file is saved back to it."""
    cfg = config.load(full_file, env=ENV)
    assert config.save(cfg) == full_file.absolute()
    assert config.load(full_file, env=ENV) == cfg


# -- property tests: the writer ---------------------------------------------------------------

_text = st.text(
    st.characters(exclude_categories=["Cs"]),  # lone surrogates cannot be UTF-8 at all
    max_size=40,
)


@given(_text)
def test_toml_string_round_trips_any_text(text: str) -> None:
    """Quotes, backslashes, control characters, DEL and non-ASCII all survive."""
    assert tomllib.loads(f"k = {toml_string(text)}")["k"] == text


_names = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789 -éü"), min_size=1, max_size=12
)
_labels = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=15)
_unit = st.floats(0, 1, allow_nan=False)
_positive = st.floats(0.01, 500, allow_nan=False)


@st.composite
def _cameras(draw: st.DrawFn) -> tuple[Camera, ...]:
    names = draw(st.lists(_names, max_size=4))
    cameras: list[Camera] = []
    taken: set[str] = set()
    for name in names:
        name = name.strip() or "cam"
        if config.safe_name(name) in taken:
            continue
        taken.add(config.safe_name(name))
        side = draw(st.integers(1, 2000))
        substream = draw(st.sampled_from([None, "rtsps://10.0.0.9/sub"]))
        streams = ["auto", "main"] if substream is None else ["auto", "main", "substream"]
        cameras.append(
            Camera(
                name=name,
                url=f"rtsp://user@10.0.0.{len(cameras) + 1}:554/s",
                substream_url=substream,
                detect_stream=draw(st.sampled_from(streams)),
                transport=draw(st.sampled_from(["tcp", "udp"])),
                password_env=draw(st.sampled_from([None, "CAM_PW"])),
                onvif=draw(st.sampled_from([None, OnvifConfig(port=8080, user="op")])),
                detect=draw(st.booleans()),
                detect_fps=draw(st.none() | _positive),
                record=draw(st.booleans()),
                masks=(((0.0, 0.0), (float(side), 0.0), (float(side), side / 3)),)
                if draw(st.booleans())
                else (),
            )
        )
    return tuple(cameras)


@settings(max_examples=60, deadline=None)
@given(
    cameras=_cameras(),
    thresholds=st.dictionaries(_labels, _unit, max_size=4),
    grid=st.sampled_from([1, 4, 9, 16, "auto"]),
    segment=st.floats(1, 3600, allow_nan=False),
    rec_dir=st.sampled_from([None, Path("/srv/rec"), Path("~/camwall rec")]),
)
def test_any_valid_config_round_trips(
    cameras: tuple[Camera, ...],
    thresholds: dict[str, float],
    grid: int | str,
    segment: float,
    rec_dir: Path | None,
) -> None:
    """Configs built in code survive dumps → loads unchanged."""
    cfg = Config(
        wall=config.WallConfig(grid=grid),  # type: ignore[arg-type]
        recording=RecordingConfig(dir=rec_dir, segment_seconds=segment),
        detection=DetectionConfig(thresholds=thresholds),
        cameras=cameras,
    )
    text = config.dumps(cfg)
    assert config.loads(text, check_env=False) == cfg


def test_the_documented_example_is_valid() -> None:
    """docs/config.example.toml loads (with its variables set) and round-trips."""
    example = Path(__file__).parents[1] / "docs" / "config.example.toml"
    env = {"FRONTDOOR_PASSWORD": "x", "GARAGE_PASSWORD": "y"}
    cfg = config.load(example, env=env)
    assert [c.name for c in cfg.cameras] == ["Front door", "Garage"]
    assert cfg.cameras[0].masks[1][2] == (2450.0, 1300.0)
    assert cfg.recording.max_total_gb == 200
    assert config.loads(config.dumps(cfg), path=example, env=env) == cfg


def test_dumps_writes_every_camera_key_the_document_writes() -> None:
    """Zones, event recording and the detection gate survive dumps → loads (one camera writer)."""
    text = """version = 1

[[camera]]
name = "door"
url = "rtsp://10.0.0.9/s"
record_on_events = ["detection"]
pre_roll_s = 3
detect_when = "camera_motion"

[[camera.zones]]
name = "path"
points = [[0.1, 0.2], [0.9, 0.2], [0.5, 0.9]]
labels = ["person"]
"""
    cfg = config.loads(text)
    again = config.loads(config.dumps(cfg))
    assert again == cfg
    door = again.camera("door")
    assert [z.name for z in door.zones] == ["path"] and door.detect_when == "camera_motion"
