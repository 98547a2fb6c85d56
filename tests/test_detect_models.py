"""camwall model fetch / add / list against a loopback HTTP server serving real ONNX files."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from camwall.cli import main
from camwall.detect.catalog import CATALOG, CatalogEntry
from camwall.detect.download import Progress
from camwall.detect.model_store import ModelInfo, add_model, fetch_model, list_models
from camwall.detect.yolo_onnx import OnnxDetector
from camwall.errors import (
    ModelChecksumError,
    ModelDownloadError,
    ModelFetchError,
    ModelLayoutError,
    ModelLoadError,
)
from support.model_server import ModelServer, closed_port_url, serving
from support.onnx_models import constant_model, yolov8_output


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real (constant-output) YOLOv8-layout model of about 700 kB."""
    out = yolov8_output(np.array([[320, 320, 100, 200]]), [0], [0.9], anchors=2000)
    path = constant_model(tmp_path_factory.mktemp("m") / "tiny.onnx", out)
    return path.read_bytes()


def entry_for(
    data: bytes, url: str, *, pinned: bool = True, layout: str = "yolov8"
) -> CatalogEntry:
    return CatalogEntry(
        name="tiny",
        url=url,
        licence="MIT (test)",
        layout=layout,
        input_size=(640, 640),
        labels="coco80",
        sha256=hashlib.sha256(data).hexdigest() if pinned else None,
        size=len(data) if pinned else None,
    )


def visible(folder: Path) -> list[str]:
    """What a person sees in the models folder (the hidden .partial folder aside)."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".partial")


def test_good_download_is_verified_installed_and_listed(tmp_path: Path, model_bytes: bytes) -> None:
    bar = io.StringIO()
    with serving(model_bytes) as server:
        info = fetch_model(
            entry_for(model_bytes, server.url), tmp_path, progress=Progress("tiny.onnx", bar)
        )
    assert visible(tmp_path) == ["tiny.json", "tiny.onnx"]
    assert (tmp_path / "tiny.onnx").read_bytes() == model_bytes
    assert not list((tmp_path / ".partial").iterdir())
    assert info.layout == "yolov8" and info.classes == 80 and info.licence == "MIT (test)"
    assert info.input["shape"] == [1, 3, 640, 640]
    assert "100%" in bar.getvalue() and "#" * 30 in bar.getvalue()
    sidecar = ModelInfo.from_json((tmp_path / "tiny.json").read_text())
    assert sidecar == info
    assert list_models(tmp_path) == [info]
    # And the detector runs it.
    assert OnnxDetector(tmp_path / "tiny.onnx").detect(
        np.zeros((360, 640, 3), np.uint8)
    ).labels == ("person",)


def test_checksum_mismatch_is_refused_and_nothing_is_left(
    tmp_path: Path, model_bytes: bytes
) -> None:
    with serving(model_bytes) as server:
        server.mode = "corrupt"
        with pytest.raises(ModelChecksumError, match="sha256 mismatch") as info:
            fetch_model(entry_for(model_bytes, server.url), tmp_path)
    assert "discarded" in str(info.value)
    assert visible(tmp_path) == []
    assert not list((tmp_path / ".partial").iterdir())


def test_truncated_download_resumes_with_a_range_request(
    tmp_path: Path, model_bytes: bytes
) -> None:
    with serving(model_bytes) as server:
        e = entry_for(model_bytes, server.url)
        server.mode = "truncate"
        with pytest.raises(ModelDownloadError, match="resume"):
            fetch_model(e, tmp_path)
        assert visible(tmp_path) == []
        part = tmp_path / ".partial" / "tiny.onnx.part"
        have = part.stat().st_size
        assert 0 < have < len(model_bytes)
        server.mode = "good"
        bar = io.StringIO()
        fetch_model(e, tmp_path, progress=Progress("tiny.onnx", bar))
        assert server.requests[-1] == ("/model.onnx", f"bytes={have}-")
    assert f"resuming at {have / 1e6:.1f} MB" in bar.getvalue()
    assert (tmp_path / "tiny.onnx").read_bytes() == model_bytes
    assert not part.exists()


def test_a_server_that_ignores_range_sends_it_all_again(tmp_path: Path, model_bytes: bytes) -> None:
    with serving(model_bytes) as server:
        e = entry_for(model_bytes, server.url)
        server.mode = "truncate"
        with pytest.raises(ModelDownloadError):
            fetch_model(e, tmp_path)
        server.mode = "norange"
        fetch_model(e, tmp_path)
    assert (tmp_path / "tiny.onnx").read_bytes() == model_bytes


def test_server_down(tmp_path: Path, model_bytes: bytes) -> None:
    with pytest.raises(ModelDownloadError, match=r"cannot reach 127\.0\.0\.1:\d+ \(.*refused"):
        fetch_model(entry_for(model_bytes, closed_port_url()), tmp_path)
    assert visible(tmp_path) == []


def test_a_stalled_server_times_out_and_the_download_resumes(
    tmp_path: Path, model_bytes: bytes
) -> None:
    with serving(model_bytes) as server:
        e = entry_for(model_bytes, server.url)
        server.mode, server.stall_s = "slow", 30.0
        with pytest.raises(ModelDownloadError, match=r"no data for 2 s"):
            fetch_model(e, tmp_path, timeout=2.0)
        server.stop_stall.set()  # let the stalled handler finish
        assert visible(tmp_path) == []
        server.mode = "good"
        fetch_model(e, tmp_path)
        assert server.requests[-1][1] is not None  # resumed
    assert (tmp_path / "tiny.onnx").read_bytes() == model_bytes


def test_unpinned_entries_need_allow_unpinned(tmp_path: Path, model_bytes: bytes) -> None:
    with serving(model_bytes) as server:
        e = entry_for(model_bytes, server.url, pinned=False)
        with pytest.raises(ModelFetchError, match="--allow-unpinned"):
            fetch_model(e, tmp_path)
        assert server.requests == []  # refused before any download
        told: list[str] = []
        fetch_model(e, tmp_path, allow_unpinned=True, on_unpinned=told.append)
    assert told == [hashlib.sha256(model_bytes).hexdigest()]


def test_a_download_of_the_wrong_kind_of_model_is_discarded(
    tmp_path: Path, model_bytes: bytes
) -> None:
    with serving(model_bytes) as server, pytest.raises(ModelLayoutError, match="expects yolox"):
        fetch_model(entry_for(model_bytes, server.url, layout="yolox"), tmp_path)
    assert visible(tmp_path) == []


def test_model_add_copies_with_a_sidecar_and_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    folder = tmp_path / "models"
    rows = np.zeros((1, 300, 6), np.float32)
    mine = constant_model(src / "my_yolov10.onnx", rows)
    info = add_model(mine, folder, licence="Apache-2.0")
    assert info.layout == "end2end" and info.preprocess == "ultralytics"
    assert visible(folder) == ["my_yolov10.json", "my_yolov10.onnx"]
    classifier = constant_model(src / "resnet.onnx", np.zeros((1, 1000), np.float32))
    with pytest.raises(ModelLayoutError, match=r"\(1, 1000\)|\[1, 1000\]"):
        add_model(classifier, folder)
    garbage = src / "broken.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="cannot load ONNX model"):
        add_model(garbage, folder)
    assert visible(folder) == ["my_yolov10.json", "my_yolov10.onnx"]


def test_cli_fetch_add_list(
    tmp_path: Path, model_bytes: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "models"
    with serving(model_bytes) as server:
        # The real catalog entry, from a "mirror" that serves another file: refused.
        rc = main(
            ["model", "fetch", "yolox_nano", "--models-dir", str(folder), "--from", server.url]
        )
    err = capsys.readouterr().err
    assert rc == 1 and "expected 3659407" in err and "discarded" in err
    assert visible(folder) == []
    assert main(["model", "fetch", "yolox_m", "--models-dir", str(folder)]) == 1
    assert "known: yolox_nano, yolox_tiny, yolox_s" in capsys.readouterr().err
    mine = tmp_path / "mine.onnx"
    mine.write_bytes(model_bytes)
    assert main(["model", "add", str(mine), "--models-dir", str(folder), "--name", "door"]) == 0
    assert "door: yolov8, input 640×640, 80 classes" in capsys.readouterr().out
    assert main(["model", "list", "--models-dir", str(folder)]) == 0
    listing = capsys.readouterr().out
    assert "door: yolov8" in listing and "yolox_nano" in listing
    assert (
        json.loads((folder / "door.json").read_text())["sha256"]
        == hashlib.sha256(model_bytes).hexdigest()
    )


def test_catalog_entries_are_honest() -> None:
    for e in CATALOG:
        assert e.url.startswith("https://") and e.licence and e.hash_source
        assert e.pinned == (e.size is not None)
        assert "AGPL" not in e.licence and "GPL-3" not in e.licence


def test_server_helper_serves_ranges() -> None:
    server = ModelServer(b"0123456789")
    server.start()
    try:
        import urllib.request

        req = urllib.request.Request(server.url, headers={"Range": "bytes=4-"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 206 and r.read() == b"456789"
    finally:
        server.close()


def test_a_model_name_resolves_in_the_models_folder(
    tmp_path: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from camwall.detect import DetectorSpec, build_detector

    monkeypatch.setenv("CAMWALL_MODELS_DIR", str(tmp_path))
    (tmp_path / "door.onnx").write_bytes(model_bytes)
    det = build_detector(DetectorSpec.parse("door"))
    assert det.name == "door"
    with pytest.raises(ModelLoadError, match="camwall model fetch"):
        build_detector(DetectorSpec.parse("nothing_here"))
