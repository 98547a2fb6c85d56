"""Recording on event: a pre-roll of compressed packets in the capture worker, written when a
trigger comes, then post-roll. Real parts: an H.264 clip's real packets, the GStreamer RTSP
server as the camera, the capture supervisor and worker, segments played back with PyAV."""

from __future__ import annotations

import datetime as dt
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from camwall.capture import CameraSpec, CameraState, CaptureSupervisor
from camwall.capture.events import RecordingEvent
from camwall.capture.spec import BackoffPolicy, RecordingSpec
from camwall.config import Camera, Config, OnvifConfig, RecordingConfig, loads
from camwall.record import SegmentClosed, SegmentOpened
from camwall.record.triggered import PreRoll
from camwall.runtime import Runtime
from camwall.sources import SourceSettings
from fixtures.rtsp import RtspServer
from support.events import EventLog
from support.h264clip import Clip
from support.onnx_models import constant_model, letterbox_params, to_model_space, yolov8_output
from support.onvif_sim import OnvifSimulator
from support.runtime_events import Collector

FAST = BackoffPolicy(initial_s=0.2, factor=2.0, max_s=1.0, jitter=0.1, failed_s=1.0)


def test_pre_roll_keeps_whole_gops_covering_its_seconds(h264_clip_7s: Clip) -> None:
    """From a keyframe, at least ``seconds`` back from the newest packet, no more GOPs than
    needed; the byte bound wins over the seconds."""
    pre = PreRoll(2.0)
    small = PreRoll(10.0, max_bytes=1)
    spans = []
    with av.open(str(h264_clip_7s.path)) as container:
        stream = container.streams.video[0]
        tb = Fraction(stream.time_base)
        for n, packet in enumerate(container.demux(stream)):
            if packet.size == 0:
                continue
            pre.add(packet, tb, float(n))
            small.add(packet, tb, float(n))
            if n > 3 * 25:
                spans.append(pre.span_s)
            assert small.bytes <= 1
    # A keyframe a second: the span is 2 s to 3 s (never a whole GOP more than needed).
    assert min(spans) >= 2.0 - 1e-6 and max(spans) < 3.0 + 1e-6
    held = pre.take()
    assert held[0][1].is_keyframe
    assert len(pre) == 0 and pre.bytes == 0
    first_dts = held[0][1].dts
    assert all(p.dts > first_dts for _, p in held[1:])


def segment_events(events: EventLog, camera: str) -> list[object]:
    return [e.record for e in list(events.events) if isinstance(e, RecordingEvent)]


def wait_record(events: EventLog, kind: type, count: int, timeout: float) -> list[object]:
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in segment_events(events, "door") if isinstance(r, kind)]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, segment_events(events, "door")
        time.sleep(0.05)


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["thread", "process"])
def test_trigger_writes_the_pre_roll_then_post_roll_over_rtsp(
    tmp_path: Path, rtsp_server: RtspServer, mode: str
) -> None:
    pre_roll_s, post_roll_s = 2.0, 1.5
    events = EventLog()
    spec = CameraSpec(
        name="door",
        source=SourceSettings(rtsp_server.url("cam")),
        backoff=FAST,
        initial_frame=(320, 180),
        recording=RecordingSpec(tmp_path, segment_seconds=60.0, pre_roll_s=pre_roll_s),
    )
    sup = CaptureSupervisor(events, mode=mode)  # type: ignore[arg-type]
    try:
        sup.start(spec)
        events.wait_state("door", CameraState.STREAMING, 30)
        streaming_at = time.monotonic()
        # The scenario needs more stream than the pre-roll before the event: this is the
        # camera's history, not a wait for something to happen.
        while time.monotonic() - streaming_at < pre_roll_s + 1.5:
            events.stats("door", timeout=10, after=len(events))
        assert segment_events(events, "door") == []  # no segment without a trigger
        assert not list(tmp_path.rglob("*.mp4"))

        triggered_at = time.time()
        sup.trigger_recording("door", post_roll_s)
        (opened,) = wait_record(events, SegmentOpened, 1, timeout=10)
        assert isinstance(opened, SegmentOpened)
        # Retriggered a second later: the post-roll counts from this one.
        events.stats("door", timeout=10, after=len(events))
        retriggered_at = time.time()
        sup.trigger_recording("door", post_roll_s)
        (closed,) = wait_record(events, SegmentClosed, 1, timeout=20)
        assert isinstance(closed, SegmentClosed)
        ended_at = time.time()
    finally:
        assert sup.close(timeout=15)
    # The segment starts with the pre-roll: its first packet arrived ≥ pre_roll_s before
    # the trigger (a little RTP jitter allowed).
    lead = triggered_at - opened.start.timestamp()
    assert lead >= pre_roll_s - 0.2, lead
    assert lead < pre_roll_s + 2.5, lead  # whole GOPs, not the whole history
    # ... and lasts until post_roll_s after the last trigger.
    assert closed.duration_s >= lead + (retriggered_at - triggered_at) + post_roll_s - 0.5
    assert ended_at - retriggered_at >= post_roll_s - 0.2
    with av.open(str(closed.path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        assert packets[0].is_keyframe
        frames = sum(len(p.decode()) for p in packets)
    assert frames == closed.packets > 15 * (pre_roll_s + post_roll_s)
    assert len(list(tmp_path.rglob("*.mp4"))) == 1


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_cameras_motion_records_with_pre_roll_through_the_runtime(
    tmp_path: Path, rtsp_server: RtspServer, onvif_sim: OnvifSimulator
) -> None:
    """record_on_events = ["motion"]: tamper records nothing, the camera's motion records a
    segment that starts before it and ends post_roll_s after it."""
    events = Collector()
    config = Config(recording=RecordingConfig(dir=tmp_path))
    rt = Runtime(config, events, mode="thread", env={"PW": onvif_sim.config.password})
    sim = onvif_sim
    try:
        rt.add_camera(
            Camera(
                name="door",
                url=rtsp_server.url("cam"),
                onvif=OnvifConfig(
                    host=sim.host, port=sim.port, user=sim.config.user, password_env="PW"
                ),
                record_on_events=("motion",),
                pre_roll_s=1.0,
                post_roll_s=1.0,
            )
        )
        assert not rt.is_recording("door")  # not continuous
        events.wait_type("state", 30, camera="door", state="streaming")
        events.wait_type("camera_events_state", 30, camera="door", state="subscribed")
        started = time.monotonic()
        while time.monotonic() - started < 2.0:  # more stream than the pre-roll (history)
            events.wait_type("stats", 10, after=len(events), camera="door")
        sim.events.emit("tamper", True)
        events.wait_type("camera_event", 30, camera="door", kind="tamper")
        mark = len(events)
        sim.events.emit("motion", True)
        motion = events.wait_type("camera_event", 30, camera="door", kind="motion", after=mark)
        closed = events.wait_type("recording", 30, camera="door", event="segment_closed")
    finally:
        assert rt.close(timeout=15)
    opened = events.of_type("recording")[0]
    assert opened["event"] == "segment_opened"  # the tamper before it recorded nothing
    start = dt.datetime.fromisoformat(opened["start"]).timestamp()
    assert motion["time"] - start >= 0.8  # the pre-roll, by the segment's start
    assert closed["duration_s"] >= 1.0 + 1.0 - 0.5
    assert len(list(tmp_path.rglob("*.mp4"))) == 1


@pytest.mark.rtsp
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_object_appearing_records_through_the_runtime(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    """record_on_events = ["detection"]: camwall's own detector seeing a person appear (a
    constant tiny ONNX model) records one segment of about post_roll_s, which plays."""
    w, h = 320, 180
    r, left, top = letterbox_params(w, h)
    box = np.array([[100.0, 40.0, 160.0, 170.0]])
    model = constant_model(
        tmp_path / "person.onnx", yolov8_output(to_model_space(box, r, left, top), [0], [0.9])
    )
    cfg = loads(
        f"""
version = 1
[recording]
dir = "{tmp_path / "rec"}"
[detection]
model = "{model}"
[[camera]]
name = "door"
url = "{rtsp_server.url("cam")}"
detect = true
record_on_events = ["detection"]
pre_roll_s = 1
post_roll_s = 1.5
""",
        path=tmp_path / "camwall.toml",
    )
    events = Collector()
    rt = Runtime(cfg, events, mode="thread")
    try:
        rt.start()
        appeared = events.wait_type("track", 60, camera="door", kind="appeared")
        closed = events.wait_type("recording", 30, camera="door", event="segment_closed")
    finally:
        assert rt.close(timeout=15)
    assert appeared["label"] == "person"
    # A segment covering the moment: at least the pre-roll (its length in media time, which a
    # loaded machine's bunched packets may shorten a little, is the RTSP test's business).
    assert closed["duration_s"] > 0.5
    with av.open(closed["path"]) as container:
        stream = container.streams.video[0]
        frames = sum(len(p.decode()) for p in container.demux(stream) if p.size)
    assert frames == closed["packets"] > 0
