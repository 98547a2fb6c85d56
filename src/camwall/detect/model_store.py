"""The models folder: fetch catalog models, add a user's own, list them; one sidecar JSON each.

``<models dir>/<name>.onnx`` sits next to ``<name>.json``, which records what inspecting the
model with ONNX Runtime found (input, outputs, layout, classes, preprocessing) and where it
came from (URL or file, licence, sha256). The folder is ``--models-dir``, else
``$CAMWALL_MODELS_DIR``, else the platform's user data folder (``~/.local/share/camwall/models``
on Linux). Downloads in progress live in its hidden ``.partial`` folder; a model file appears
in the folder only once complete and verified, and only with its sidecar.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from camwall.detect.catalog import CatalogEntry
from camwall.detect.download import Progress, download, sha256_of
from camwall.errors import ModelFetchError, ModelLayoutError, ModelLoadError

log = logging.getLogger(__name__)

ENV_DIR = "CAMWALL_MODELS_DIR"
PARTIAL = ".partial"
UNKNOWN_LICENCE = "unknown (a user's own model)"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def models_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The models folder: ``override``, else ``$CAMWALL_MODELS_DIR``, else the user data folder."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    return platformdirs.user_data_path("camwall") / "models"


def resolve_model(text: str, folder: Path | None = None) -> Path:
    """A model path: ``text`` if it names a file, else ``<models dir>/<text>.onnx`` if that exists.

    So ``DetectorSpec(model="yolox_nano")`` finds what ``camwall model fetch yolox_nano`` put
    in the models folder. Otherwise ``text`` as a path (the detector then says it is missing).
    """
    path = Path(text).expanduser()
    if path.is_file() or "/" in text or path.suffix == ".onnx":
        return path
    candidate = (folder or models_dir()) / f"{text}.onnx"
    return candidate if candidate.is_file() else path


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a sidecar records about one model."""

    name: str
    file: str
    sha256: str
    size: int
    layout: str
    preprocess: str
    classes: int | None
    labels: list[str]
    input: dict[str, Any]
    outputs: list[dict[str, Any]]
    source: str
    licence: str = UNKNOWN_LICENCE
    added: str = ""

    def to_json(self) -> str:
        """The sidecar's text."""
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ModelInfo:
        """Parse a sidecar; ValueError if it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a model sidecar is a JSON object")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(f"not a camwall model sidecar: {exc}") from None


def _shape(dims: Any) -> list[int | str | None]:
    return [d if isinstance(d, int | str) else None for d in dims]


def inspect_model(path: Path) -> dict[str, Any]:
    """Load ``path`` with ONNX Runtime and say what it is; ModelLayoutError/ModelLoadError if unusable.

    The model is accepted only if camwall's detector can run it: one N×3×H×W float input and
    outputs of a recognised layout (YOLOv5, YOLOv8/11, YOLOX, or NMS included). A model with
    a dynamic output is run once on a grey frame to settle its layout.
    """
    from camwall.detect.yolo_onnx import OnnxDetector

    det = OnnxDetector(path, threads=1)
    if det.layout is None:
        det.warm_up()
    layout = det.layout
    if layout is None:  # warm_up settles the layout or raises
        raise ModelLayoutError(f"{path}: cannot tell the output layout")
    session = det.session
    inp = session.get_inputs()[0]
    return {
        "layout": layout.value,
        "preprocess": layout.preprocess,
        "classes": det.classes,
        "labels": list(det.labels),
        "input": {"name": inp.name, "shape": _shape(inp.shape), "type": inp.type},
        "outputs": [
            {"name": o.name, "shape": _shape(o.shape), "type": o.type}
            for o in session.get_outputs()
        ],
    }


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ModelFetchError(
            f"model name {name!r}: use letters, digits, '.', '_' or '-' (at most 64), "
            "starting with a letter or digit"
        )
    return name


def _record(
    folder: Path,
    name: str,
    model: Path,
    source: str,
    licence: str | None,
    digest: str,
    found: dict[str, Any] | None = None,
) -> ModelInfo:
    if found is None:
        try:
            found = inspect_model(model)
        except (ModelLayoutError, ModelLoadError):
            model.unlink(missing_ok=True)
            raise
    info = ModelInfo(
        name=name,
        file=model.name,
        sha256=digest,
        size=model.stat().st_size,
        source=source,
        licence=licence or UNKNOWN_LICENCE,
        added=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **found,
    )
    _write_atomic(folder / f"{name}.json", info.to_json().encode())
    return info


def add_model(
    path: Path, folder: Path, *, name: str | None = None, licence: str | None = None
) -> ModelInfo:
    """Inspect a user's ``.onnx`` file and copy it into ``folder`` with its sidecar.

    Refused (ModelLayoutError / ModelLoadError, nothing copied) if camwall cannot run it.
    """
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    name = _check_name(name or path.stem)
    found = inspect_model(path)  # refuse before copying anything
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{name}.onnx"
    if dest.exists() and dest.resolve() == path.resolve():
        raise ModelFetchError(f"{path} is already in the models folder")
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".onnx", dir=folder)
    os.close(fd)
    try:
        shutil.copyfile(path, tmp)
        digest = sha256_of(Path(tmp))
        Path(tmp).replace(dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return _record(folder, name, dest, str(path.resolve()), licence, digest, found)


def fetch_model(
    entry: CatalogEntry,
    folder: Path,
    *,
    allow_unpinned: bool = False,
    url: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
    on_unpinned: Callable[[str], None] | None = None,
) -> ModelInfo:
    """Download catalog ``entry`` (from ``url``, a mirror, if given) into ``folder``, verified.

    An entry without a pinned sha256 is refused unless ``allow_unpinned``; then
    ``on_unpinned`` is told the digest of what arrived, for pinning.
    """
    if not entry.pinned and not allow_unpinned:
        raise ModelFetchError(
            f"{entry.name} has no pinned sha256 yet ({entry.hash_source or 'not verified'}), so "
            "camwall cannot check that the download is the intended file; pass "
            "--allow-unpinned to fetch it anyway (its sha256 is printed for pinning)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / entry.filename
    got = download(
        url or entry.url,
        dest,
        sha256=entry.sha256,
        size=entry.size,
        partial_dir=folder / PARTIAL,
        progress=progress,
        timeout=timeout,
    )
    if not entry.pinned and on_unpinned is not None:
        on_unpinned(got.sha256)
    info = _record(folder, entry.name, dest, entry.url, entry.licence, got.sha256)
    if info.layout != entry.layout:
        dest.unlink(missing_ok=True)
        (folder / f"{entry.name}.json").unlink(missing_ok=True)
        raise ModelLayoutError(
            f"{entry.name}: the downloaded model has the {info.layout} layout, the catalog "
            f"expects {entry.layout}; discarded"
        )
    return info


def list_models(folder: Path) -> list[ModelInfo | Path]:
    """Models in ``folder``: their sidecar info, or the bare path of an ``.onnx`` without one."""
    if not folder.is_dir():
        return []
    out: list[ModelInfo | Path] = []
    for model in sorted(folder.glob("*.onnx")):
        if model.name.startswith("."):
            continue
        sidecar = model.with_suffix(".json")
        try:
            out.append(ModelInfo.from_json(sidecar.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            log.debug("%s: no usable sidecar (%s)", model, exc)
            out.append(model)
    return out
