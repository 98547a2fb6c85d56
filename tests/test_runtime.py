"""The runtime core: config → capture specs and detection, one event stream, clean close.

Real parts: synthetic cameras and a looping H.264 file as cameras, real capture workers, the
real detection worker process with an ONNX model built at test time, real files on disk.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from camwall.capture.events import CameraState
from camwall.config import loads
from camwall.detect import TrackEvent
from camwall.errors import ConfigError
from camwall.runtime import (
    Runtime,
    camera_detection,
    camera_spec,
    choose_stream,
    detector_spec,
    pipeline_config,
)
from fixtures.recording_runtime import RecordingRun
from support.onnx_models import constant_model, letterbox_params, to_model_space, yolov8_output
from support.runtime_events import Collector

W, H = 320, 240
PERSON = np.array([[40, 30, 140, 200]], np.float64)

MAPPING_CONFIG = """
version = 1
log_level = "DEBUG"
[recording]
dir = "rec"
segment_seconds = 30
[detection]
fps = 4
threshold = 0.6
[detection.thresholds]
car = 0.3
[[camera]]
name = "Front door"
url = "rtsp://admin@192.0.2.10/main"
substream_url = "rtsp://admin@192.0.2.10/sub"
password_env = "DOOR_PW"
transport = "udp"
record = true
detect = true
detect_fps = 2
[[camera]]
name = "Yard"
url = "rtsp://192.0.2.11/main"
substream_url = "rtsp://192.0.2.11/sub"
detect = true
masks = [[[0, 0], [100, 0], [100, 50]]]
[[camera]]
name = "Hall"
url = "rtsp://192.0.2.12/main"
substream_url = "rtsp://192.0.2.12/sub"
[[camera]]
name = "Clip"
url = "clip.mp4"
"""


def test_camera_specs_follow_the_config(tmp_path: Path) -> None:
    """Password from the environment, transport, stream choice, recording, log level."""
    cfg = loads(
        MAPPING_CONFIG, path=tmp_path / "camwall.toml", env={"DOOR_PW": "s3cret"}, check_env=False
    )
    door, yard, hall, clip = cfg.cameras
    spec = camera_spec(cfg, door, env={"DOOR_PW": "s3cret"}, stats_interval_s=5)
    assert spec.name == "Front door"
    assert spec.source.url == "rtsp://admin:s3cret@192.0.2.10/main"  # records: main stream
    assert "s3cret" not in spec.source.display_url and "s3cret" not in repr(cfg)
    assert spec.source.transport == "udp" and spec.stats_interval_s == 5
    assert spec.log_level == logging.DEBUG
    assert spec.recording is not None
    assert spec.recording.directory == tmp_path / "rec"
    assert spec.recording.segment_seconds == 30 and spec.recording.camera == "Front door"
    # Substream for a camera that only detects and has no masks; main for masks.
    assert choose_stream(hall) == "sub" and choose_stream(yard) == "main"
    assert camera_spec(cfg, hall).source.url.endswith("/sub")
    assert camera_spec(cfg, hall, stream="main").source.url.endswith("/main")
    assert camera_spec(cfg, door, env={"DOOR_PW": "x"}, stream="sub").source.url.endswith("/sub")
    assert camera_spec(cfg, hall).recording is None
    # A file stands in for a camera: it loops, with its path against the config's folder.
    clip_spec = camera_spec(cfg, clip)
    assert clip_spec.source.loop and clip_spec.source.url == str(tmp_path / "clip.mp4")
    with pytest.raises(ConfigError, match="DOOR_PW"):
        camera_spec(cfg, door, env={})


def test_detection_follows_the_config(tmp_path: Path) -> None:
    """Per-camera rate and masks; thresholds into filter and tracker; the built-in detector."""
    cfg = loads(MAPPING_CONFIG, path=tmp_path / "camwall.toml", check_env=False)
    door, yard, hall, _ = cfg.cameras
    door_det = camera_detection(cfg, door, "main")
    assert door_det is not None and door_det.fps == 2 and door_det.mask is None
    yard_det = camera_detection(cfg, yard, "main")
    assert yard_det is not None and yard_det.fps == 4
    assert yard_det.mask is not None
    assert yard_det.mask.polygons == (((0.0, 0.0), (100.0, 0.0), (100.0, 50.0)),)
    assert camera_detection(cfg, hall, "sub") is None
    assert detector_spec(cfg).kind == "people"
    pipeline = pipeline_config(cfg)
    assert pipeline.filter.min_score == {"*": 0.6, "car": 0.3}
    assert pipeline.tracker.confirm_score == {"*": 0.6, "car": 0.3}
    model = tmp_path / "m.onnx"
    model.write_bytes(b"")
    with_model = loads(
        MAPPING_CONFIG.replace("fps = 4", 'fps = 4\nmodel = "m.onnx"'),
        path=tmp_path / "camwall.toml",
        check_env=False,
    )
    spec = detector_spec(with_model)
    assert spec.kind == "onnx" and spec.model == str(model)
    assert spec.score_threshold == 0.25  # candidates for every label's own threshold


@pytest.fixture
def person_model(tmp_path: Path) -> Path:
    """An ONNX model that always sees one person at PERSON in a W×H frame."""
    r, left, top = letterbox_params(W, H)
    out = yolov8_output(to_model_space(PERSON, r, left, top), [0], [0.9])
    return constant_model(tmp_path / "person.onnx", out)


@pytest.mark.slow
def test_runtime_runs_detection_with_snapshots_and_closes_clean(
    tmp_path: Path, person_model: Path
) -> None:
    """Capture → ring → detection worker → track event with a snapshot, all in one stream."""
    cfg = loads(
        f"""
version = 1
[detection]
model = "{person_model}"
fps = 5
[[camera]]
name = "lobby"
url = "synthetic://lobby?width={W}&height={H}&fps=20"
detect = true
[[camera]]
name = "plain"
url = "synthetic://plain?width=64&height=48&fps=10"
""",
        path=tmp_path / "camwall.toml",
    )
    events = Collector()
    rt = Runtime(cfg, events, mode="thread", snapshot_dir=tmp_path / "snaps", stats_interval_s=1)
    try:
        rt.start()
        assert sorted(rt.cameras()) == ["lobby", "plain"]
        events.wait_type("state", 30, camera="lobby", state="streaming")
        events.wait_type("detect_worker", 60, state="ready")
        appeared = events.wait_type("track", 60, camera="lobby", kind="appeared")
        result = events.wait(
            lambda i: i["type"] == "detections" and i["camera"] == "lobby" and i["detections"], 30
        )
        events.wait_type("detect_stats", 30, camera="lobby")
        events.wait_type("stats", 30, camera="plain")
        mark = len(events)
        rt.remove_camera("lobby")
        events.wait_type("state", 20, after=mark, camera="lobby", state="stopped")
        left = events.wait_type("track", 20, after=mark, camera="lobby", kind="left")
        assert rt.cameras() == ["plain"]
        # The last camera that detects went: the detection process goes too.
        events.wait_type("detect_worker", 20, after=mark, state="stopped")
        assert rt.detection_service is None
    finally:
        assert rt.close(timeout=15)
    assert appeared["label"] == "person" and appeared["snapshot"]
    assert Path(appeared["snapshot"]).is_file() and Path(appeared["snapshot"]).stat().st_size > 0
    assert left["track_id"] == appeared["track_id"]
    assert result["detections"][0]["label"] == "person"
    # Everything reached one callback, typed, and every event makes a JSON line.
    assert any(isinstance(e.payload, TrackEvent) for e in events.events)
    for item in events.items:
        json.dumps(item, allow_nan=False)  # plain JSON, no NaN
        assert {"type", "time", "camera"} <= item.keys()
    kinds = [i["kind"] for i in events.of_type("runtime")]
    assert kinds[0] == "started" and kinds[-2:] == ["stopping", "stopped"]
    assert events.items[-1]["type"] == "runtime"
    assert rt.close() is True  # idempotent


@pytest.mark.slow
def test_runtime_records_and_applies_retention(
    recording_runtime: Callable[..., RecordingRun],
) -> None:
    """A recording camera: segments as events; a tiny size cap makes retention delete the oldest."""
    run = recording_runtime(max_total_gb=0.00004)
    deleted = run.events.wait_type("retention", 30)
    run.close()
    closed = run.closed_segments()
    assert len(closed) >= 2
    assert deleted["deleted"] >= 1 and deleted["directory"] == str(run.folder)
    assert not closed[0].path.exists()  # the oldest went first
    total = sum(p.stat().st_size for p in run.folder.rglob("*.mp4"))
    assert total < 0.00004 * 2**30 + 60_000  # the cap, plus the segment open at the time


def test_runtime_rejects_a_second_camera_of_the_same_name(tmp_path: Path) -> None:
    """add_camera of a running name is a ValueError; nothing else starts."""
    cfg = loads(
        'version = 1\n[[camera]]\nname = "a"\nurl = "synthetic://a?width=64&height=48&fps=5"\n'
    )
    events = Collector()
    rt = Runtime(cfg, events, mode="thread")
    try:
        rt.start()
        with pytest.raises(ValueError, match="already running"):
            rt.add_camera(cfg.cameras[0])
        with pytest.raises(RuntimeError, match="already"):
            rt.start()
        events.wait_type("state", 20, camera="a", state="streaming")
    finally:
        assert rt.close(timeout=10)
    with pytest.raises(RuntimeError, match="closed"):
        rt.add_camera(cfg.cameras[0])
    assert rt.detection_service is None  # no camera detects: no detection process was started


def test_unwritable_recording_folder_is_reported_not_fatal(tmp_path: Path) -> None:
    """The runtime says at once that the folder is unusable; capture runs regardless."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    cfg = loads(
        f"""
version = 1
[recording]
dir = "{blocker}/rec"
[[camera]]
name = "a"
url = "synthetic://a?width=64&height=48&fps=5"
record = true
"""
    )
    events = Collector()
    rt = Runtime(cfg, events, mode="thread")
    try:
        rt.start()
        error = events.wait_type("runtime", 10, kind="error")
        events.wait_type("state", 20, camera="a", state="streaming")
    finally:
        assert rt.close(timeout=10)
    assert error["camera"] == "a" and str(blocker) in error["message"]


def test_close_before_start_is_clean() -> None:
    """A runtime that never started closes at once."""
    rt = Runtime(loads("version = 1\n"))
    started = time.monotonic()
    assert rt.close(timeout=5)
    assert time.monotonic() - started < 2


@pytest.mark.slow
def test_a_broken_model_fails_detection_but_not_capture(tmp_path: Path) -> None:
    """The detection worker reports that the model cannot load; the camera streams on."""
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"this is not an ONNX model")
    cfg = loads(
        f"""
version = 1
[detection]
model = "{model}"
[[camera]]
name = "a"
url = "synthetic://a?width=64&height=48&fps=10"
detect = true
"""
    )
    events = Collector()
    rt = Runtime(cfg, events, mode="thread", stats_interval_s=0.5)
    try:
        rt.start()
        failed = events.wait_type("detect_worker", 60, state="failed")
        mark = len(events)
        events.wait_type("stats", 10, after=mark, camera="a")
        assert rt.state("a") is CameraState.STREAMING
    finally:
        assert rt.close(timeout=10)
    assert "broken.onnx" in failed["reason"]


def test_per_camera_timeouts_reach_the_capture_spec(tmp_path: Path) -> None:
    """`read_timeout_s` / `first_frame_timeout_s` in the config set the source's limits."""
    cfg = loads(
        'version = 1\n[[camera]]\nname = "slow"\nurl = "rtsp://192.0.2.9/timelapse"\n'
        "read_timeout_s = 30\nfirst_frame_timeout_s = 20\n"
        '[[camera]]\nname = "normal"\nurl = "rtsp://192.0.2.9/live"\n',
        path=tmp_path / "camwall.toml",
    )
    slow, normal = (camera_spec(cfg, c).source for c in cfg.cameras)
    assert (slow.read_timeout_s, slow.first_frame_timeout_s) == (30, 20)
    assert (normal.read_timeout_s, normal.first_frame_timeout_s) == (None, None)  # adaptive
