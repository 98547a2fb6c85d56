"""Runtime events → MQTT messages, without a broker: topics, rate limits, label sensors."""

from __future__ import annotations

import json
from pathlib import Path

from camwall.capture.events import CameraState
from camwall.mqtt import topics as topic_names
from camwall.mqtt.outgoing import Outgoing
from camwall.mqtt.settings import MqttSettings
from camwall.mqtt.topics import Topics
from camwall.mqtt.translate import MAX_TRACKS, EventTranslator, stream_url
from support import mqtt_events as ev

T = Topics("camwall", "n1")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def on(messages: list[Outgoing], leaf: str) -> list[Outgoing]:
    return [m for m in messages if m.topic.endswith(leaf)]


def test_stats_are_rate_limited_per_camera() -> None:
    clock = Clock()
    tr = EventTranslator(MqttSettings(stats_interval_s=10), T, clock=clock)
    assert len(on(tr.translate(ev.stats("a")), "/stats")) == 1
    assert on(tr.translate(ev.stats("a")), "/stats") == []
    assert len(on(tr.translate(ev.stats("b")), "/stats")) == 1
    clock.now += 9.5
    assert len(on(tr.translate(ev.stats("a")), "/stats")) == 1


def test_a_label_is_on_while_any_of_its_tracks_is_open() -> None:
    tr = EventTranslator(MqttSettings(labels=("person",)), T)
    label = T.label("door", "person")

    def label_values(messages: list[Outgoing]) -> list[bytes]:
        return [m.payload for m in messages if m.topic == label]  # type: ignore[misc]

    assert label_values(tr.translate(ev.track("door", "appeared", 1))) == [b"OFF", b"ON"]
    assert label_values(tr.translate(ev.track("door", "appeared", 2))) == []
    assert label_values(tr.translate(ev.track("door", "left", 1))) == []
    assert label_values(tr.translate(ev.track("door", "left", 2))) == [b"OFF"]
    assert label_values(tr.translate(ev.track("door", "left", 2))) == []  # a repeated "left"


def test_open_tracks_are_bounded() -> None:
    tr = EventTranslator(MqttSettings(), T)
    for i in range(MAX_TRACKS + 50):
        tr.translate(ev.track("door", "appeared", i))
    # Lost "left" events cannot grow memory without end; the label stays ON.
    for i in range(MAX_TRACKS + 50):
        out = tr.translate(ev.track("door", "left", i))
    assert [m.payload for m in out if m.topic == T.label("door", "person")] == [b"OFF"]


def test_first_event_of_a_camera_announces_it() -> None:
    tr = EventTranslator(MqttSettings(), T, urls={"Front door": "rtsp://u:pw@cam.lan:554/s1"})
    out = tr.translate(ev.state("Front door", CameraState.CONNECTING))
    topics = [m.topic for m in out]
    assert topics[0] == "camwall/v1/n1/camera/front_door/info"
    info = json.loads(out[0].payload)  # type: ignore[arg-type]
    assert info["stream_url"] == "rtsp://cam.lan:554/s1" and info["camera"] == "Front door"
    assert "homeassistant/camera/camwall_n1_front_door/config" in topics
    assert topics[-1] == "camwall/v1/n1/camera/front_door/state"
    assert all(m.retain for m in out)


def test_stream_url() -> None:
    assert stream_url("rtsp://u:p@h/x", None, "Front door") == "rtsp://h/x"
    assert stream_url("rtsp://h/x", "rtsp://relay:8554/{camera}", "Front door") == (
        "rtsp://relay:8554/front_door"
    )


def test_a_snapshot_is_published_from_its_file(tmp_path: Path) -> None:
    tr = EventTranslator(MqttSettings(), T)
    snap = tmp_path / "s.jpg"
    ev.jpeg(snap)
    out = tr.translate(ev.track("door", "appeared", 1, snapshot=snap))
    (message,) = on(out, "/snapshot")
    assert message.payload == snap and message.retain


def test_topic_parse() -> None:
    assert topic_names.parse("a/b", "a/b/v1/n1/camera/door/label/person") == (
        "n1",
        "door",
        "label/person",
    )
    assert topic_names.parse("a/b", "a/b/v1/n1/availability") == ("n1", None, "availability")
    assert topic_names.parse("a/b", "a/b/v2/n1/availability") is None
    assert topic_names.parse("a/b", "a/b/v1/n1/camera/door") is None


def test_zone_events_and_the_zone_a_track_is_in() -> None:
    from camwall.detect.messages import ZoneEvent
    from camwall.runtime.events import RuntimeEvent

    tr = EventTranslator(MqttSettings(), T)
    tr.translate(ev.track("door", "appeared", 5))
    box = (1.0, 2.0, 3.0, 4.0)
    entered = ZoneEvent("entered", "door", "porch", "person", 5, 12.0, 10.0, 1, 2, box)
    (message,) = tr.translate(RuntimeEvent(entered))  # type: ignore[arg-type]
    assert message.topic == "camwall/v1/n1/camera/door/zone"
    data = json.loads(message.payload)  # type: ignore[arg-type]
    assert data["event"] == "entered" and data["zone"] == "porch" and data["seconds_inside"] == 2.0
    end = json.loads(on(tr.translate(ev.track("door", "left", 5)), "/event")[0].payload)  # type: ignore[arg-type]
    assert end["event"] == "end" and end["zone"] == "porch"


def test_camera_changes_go_into_its_info() -> None:
    tr = EventTranslator(MqttSettings(), T)
    tr.translate(ev.state("door", CameraState.STREAMING))
    out = tr.translate(ev.changed("door", "updated", running=True, recording=True, stream="main"))
    (info,) = out
    data = json.loads(info.payload)  # type: ignore[arg-type]
    assert data["recording"] is True and data["running"] is True and info.retain
    assert (
        tr.translate(ev.changed("door", "updated", running=True, recording=True, stream="main"))
        == []
    )
