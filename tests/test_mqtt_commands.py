"""Commands in: the allow-list, malformed payloads refused with a reply, ACLs at the broker."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from camwall.capture.events import CameraState
from camwall.mqtt.commands import (
    MAX_COMMAND_BYTES,
    MAX_LOGGED_REFUSALS,
    CommandDispatcher,
    as_target,
)
from camwall.mqtt.remote import RemoteNodes
from camwall.mqtt.settings import COMMANDS
from camwall.mqtt.sink import MqttSink
from camwall.mqtt.topics import Topics
from fixtures.mosquitto import PASSWORDS, Broker
from support import mqtt_events as ev
from support.command_target import RecordingTarget
from support.mqtt_clients import env_for, settings_for, subscriber, wait_until

T = Topics("camwall", "cellar")


def dispatcher(
    tmp_path: Path, allowed: tuple[str, ...] = COMMANDS, **kw: Any
) -> tuple[CommandDispatcher, RecordingTarget, list[dict[str, Any]]]:
    target = RecordingTarget(["Front door", "yard"], tmp_path, **kw)
    replies: list[dict[str, Any]] = []
    snapshots: list[tuple[str, Path]] = []
    d = CommandDispatcher(
        target, allowed, replies.append, on_snapshot=lambda c, p: snapshots.append((c, p))
    )
    return d, target, replies


def send(d: CommandDispatcher, data: Any) -> None:
    d.handle(json.dumps(data).encode() if not isinstance(data, bytes) else data)


def test_allowed_commands_run_and_reply(tmp_path: Path) -> None:
    d, target, replies = dispatcher(tmp_path)
    send(d, {"id": "1", "command": "record", "camera": "Front door", "on": True})
    send(d, {"id": 2, "command": "detect", "camera": "front_door", "on": False})
    send(d, {"command": "reconnect", "camera": "yard"})
    send(d, {"id": "4", "command": "ptz_preset", "camera": "yard", "preset": "2"})
    send(d, {"id": "5", "command": "snapshot", "camera": "yard"})
    assert target.calls == [
        ("set_recording", "Front door", True),
        ("set_detection", "Front door", False),
        ("reconnect", "yard"),
        ("goto_preset", "yard", "2"),
        ("snapshot", "yard", "jpeg"),
    ]
    assert [r["ok"] for r in replies] == [True] * 5
    assert [r["id"] for r in replies] == ["1", 2, None, "4", "5"]
    assert Path(replies[-1]["result"]["path"]).read_bytes()[:2] == b"\xff\xd8"


BAD: list[tuple[object, str]] = [
    (b"{not json", "not UTF-8 JSON"),
    (b"\xff\xfe\x00", "not UTF-8 JSON"),
    ([1, 2], "JSON object"),
    ({"camera": "yard"}, 'missing "command"'),
    ({"command": "format_disk", "camera": "yard"}, "unknown command"),
    ({"command": "record", "camera": "yard", "on": "yes"}, '"on": true or false'),
    ({"command": "record", "camera": "yard", "on": 1}, '"on": true or false'),
    ({"command": "record", "camera": "yard"}, '"on": true or false'),
    ({"command": "ptz_preset", "camera": "yard", "preset": ""}, '"preset"'),
    ({"command": "ptz_preset", "camera": "yard", "preset": 3}, '"preset"'),
    ({"command": "reconnect", "camera": "garage"}, "unknown camera 'garage'"),
    ({"command": "reconnect", "camera": ["yard"]}, 'missing "camera"'),
    (
        {"command": "reconnect", "camera": "yard", "shell": "rm -rf /"},
        "unknown key(s) for reconnect: 'shell'",
    ),
    ({"command": "reconnect", "camera": "yard", "id": {"x": 1}}, "id must be"),
    (b"{" + b'"a":"' + b"x" * MAX_COMMAND_BYTES + b'"}', "over the 4096-byte limit"),
]


@pytest.mark.parametrize(("payload", "words"), BAD)
def test_malformed_payloads_are_refused_with_a_reply_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, payload: object, words: str
) -> None:
    d, target, replies = dispatcher(tmp_path)
    with caplog.at_level(logging.WARNING, "camwall.mqtt.commands"):
        send(d, payload)
    assert target.calls == []
    assert len(replies) == 1 and replies[0]["ok"] is False
    assert words in replies[0]["error"], replies[0]["error"]
    assert "refused" in caplog.text and words in caplog.text
    assert d.refused == 1


def test_commands_outside_the_allow_list_are_refused(tmp_path: Path) -> None:
    d, target, replies = dispatcher(tmp_path, allowed=("snapshot",))
    send(d, {"id": "a", "command": "record", "camera": "yard", "on": True})
    assert target.calls == [] and replies[0]["id"] == "a"
    assert "not allowed on this node (allowed: snapshot" in replies[0]["error"]
    d, target, replies = dispatcher(tmp_path, allowed=())
    send(d, {"command": "snapshot", "camera": "yard"})
    assert target.calls == [] and "allowed: none" in replies[0]["error"]


def test_a_failing_runtime_call_is_an_answer_not_a_crash(tmp_path: Path) -> None:
    d, _target, replies = dispatcher(tmp_path, ptz=False)
    send(d, {"id": "p", "command": "ptz_preset", "camera": "yard", "preset": "1"})
    assert replies == [
        {
            "id": "p",
            "command": "ptz_preset",
            "camera": "yard",
            "ok": False,
            "error": "ControlUnsupportedError: yard: the camera has no PTZ presets",
            "result": None,
        }
    ]


def test_a_runtime_without_command_methods_refuses_everything(tmp_path: Path) -> None:
    assert as_target(object()) is None
    assert as_target(RecordingTarget([], tmp_path)) is not None
    replies: list[dict[str, Any]] = []
    CommandDispatcher(None, COMMANDS, replies.append).handle(
        b'{"command": "reconnect", "camera": "x"}'
    )
    assert replies[0]["ok"] is False and "does not take commands" in replies[0]["error"]


# -- over the broker --------------------------------------------------------------------------


@pytest.fixture
def node(broker: Broker, tmp_path: Path) -> Iterator[tuple[MqttSink, RecordingTarget]]:
    target = RecordingTarget(["Front door", "yard"], tmp_path)
    settings = settings_for(broker, "node", commands=("record", "snapshot", "reconnect"))
    sink = MqttSink(settings, node="cellar", target=target, env=env_for("node")).start()
    try:
        assert sink.connection.wait_connected(10)
        sink.publish(ev.state("Front door", CameraState.STREAMING))
        sink.publish(ev.state("yard", CameraState.STREAMING))
        yield sink, target
    finally:
        sink.close()


@pytest.fixture
def wall(broker: Broker) -> Iterator[RemoteNodes]:
    nodes = RemoteNodes(settings_for(broker, "wall"), env=env_for("wall")).start()
    try:
        assert nodes.connection.wait_connected(10)
        yield nodes
    finally:
        nodes.close()


def test_a_command_over_the_broker(
    node: tuple[MqttSink, RecordingTarget], wall: RemoteNodes
) -> None:
    _sink, target = node
    reply = wall.command("cellar", "Front door", "record", on=True).result(10)
    assert reply["ok"] is True and reply["node"] == "cellar"
    assert target.calls == [("set_recording", "Front door", True)]
    reply = wall.command("cellar", "yard", "snapshot").result(10)
    assert reply["ok"] is True
    # The snapshot reached the camera's snapshot topic (Home Assistant's camera image).
    camera = wait_until(
        lambda: wall.camera("cellar", "yard"), lambda c: c is not None and c.snapshot
    )
    assert camera is not None and camera.snapshot is not None and camera.snapshot[:2] == b"\xff\xd8"
    refused = wall.command("cellar", "yard", "detect", on=False).result(10)
    assert refused["ok"] is False and "not allowed" in refused["error"]


def test_bad_payload_over_the_broker_is_refused(
    broker: Broker, node: tuple[MqttSink, RecordingTarget]
) -> None:
    sink, target = node
    with subscriber(broker, "wall", (T.response,)) as sub:
        sub.publish(T.command, b"\x00{{{ not json")
        reply = sub.wait_topic(T.response).json()
        assert reply["ok"] is False and "not UTF-8 JSON" in reply["error"]
        sub.publish(T.command, b'{"command": "record", "camera": "yard", "on": "maybe", "id": "q"}')
        reply = sub.wait_topic(T.response, id="q").json()
        assert reply["ok"] is False
    assert target.calls == []
    assert sink.connection.is_connected()  # the node is still there


def test_a_client_without_acl_rights_cannot_command(
    broker: Broker, node: tuple[MqttSink, RecordingTarget], caplog: pytest.LogCaptureFixture
) -> None:
    _sink, target = node
    with subscriber(broker, "viewer", (T.response,)) as viewer:
        # mosquitto drops a publish the ACL forbids (MQTT 3.1.1 has no way to say so).
        viewer.publish(T.command, json.dumps({"id": "v", "command": "reconnect", "camera": "yard"}))
        with subscriber(broker, "wall", (T.response,)) as wall:
            wall.publish(
                T.command,
                json.dumps({"id": "w", "command": "record", "camera": "yard", "on": True}),
            )
            wall.wait_topic(T.response, id="w")
        # Commands are handled in order: once the wall's later one is answered, the viewer's
        # would have been too.
        assert target.calls == [("set_recording", "yard", True)]
        assert not [m for m in viewer.messages if m.json().get("id") == "v"]
    every = "".join(m.payload.decode(errors="replace") for m in viewer.messages) + caplog.text
    assert not any(secret in every for secret in PASSWORDS.values())


def test_a_bug_behind_a_command_still_gets_its_reply(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(RecordingTarget):
        def reconnect(self, name: str) -> None:
            raise AttributeError("'NoneType' object has no attribute 'stop'")

    replies: list[dict[str, Any]] = []
    d = CommandDispatcher(Broken(["yard"], tmp_path), COMMANDS, replies.append)
    d.handle(b'{"id": 9, "command": "reconnect", "camera": "yard"}')
    assert replies[0]["ok"] is False and replies[0]["error"] == "internal error (AttributeError)"
    assert "Traceback" in caplog.text and "failed unexpectedly" in caplog.text


def test_a_flood_of_bad_commands_does_not_flood_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d, _target, replies = dispatcher(tmp_path)
    with caplog.at_level(logging.WARNING, "camwall.mqtt.commands"):
        for _ in range(500):
            d.handle(b"garbage")
    assert len(replies) == 500 and d.refused == 500  # every one answered
    assert len(caplog.records) == MAX_LOGGED_REFUSALS
