"""Snapshots: one frame (as a ring or a detector holds it) to a PNG or JPEG file."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from camwall.config.names import safe_name
from camwall.frames.pixfmt import PixelFormat
from camwall.record.storage import FILE_MODE, ensure_dir, storage_error

Kind = Literal["png", "jpeg"]
_SUFFIXES: dict[str, Kind] = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
JPEG_QUALITY = 92


def snapshot_filename(camera: str, kind: Kind, when: float | None = None) -> str:
    """``frontdoor_20261126T104800.123Z.png``: camera and UTC time to the millisecond."""
    moment = datetime.fromtimestamp(time.time() if when is None else when, UTC)
    stamp = moment.strftime("%Y%m%dT%H%M%S") + f".{moment.microsecond // 1000:03d}Z"
    return f"{safe_name(camera)}_{stamp}.{'png' if kind == 'png' else 'jpg'}"


def to_bgr(frame: npt.NDArray[np.uint8], fmt: PixelFormat) -> npt.NDArray[np.uint8]:
    """``frame`` as OpenCV wants it for writing: BGR (alpha dropped) or single-channel grey.

    Alpha is dropped because ring frames are painted as opaque RGB32: their alpha byte is
    not meaningful, and a PNG with alpha 0 would look empty.
    """
    if frame.dtype != np.uint8:
        raise ValueError(f"frames are uint8, not {frame.dtype}")
    channels = 1 if frame.ndim == 2 else frame.shape[2]
    if frame.ndim not in (2, 3) or channels != fmt.channels:
        raise ValueError(
            f"a {fmt.name} frame has {fmt.channels} channel(s); got shape {frame.shape}"
        )
    if fmt is PixelFormat.BGRA:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    if fmt is PixelFormat.RGB:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), dtype=np.uint8)
    if fmt is PixelFormat.GRAY and frame.ndim == 3:
        return np.ascontiguousarray(frame[:, :, 0])
    return np.ascontiguousarray(frame)


def save_snapshot(
    frame: npt.NDArray[np.uint8],
    fmt: PixelFormat,
    path_or_dir: str | os.PathLike[str],
    camera: str,
    kind: Kind = "png",
) -> Path:
    """Write ``frame`` (pixel format ``fmt``) as an image and return its path.

    ``path_or_dir`` is a file path ending in .png/.jpg/.jpeg, or a folder (created if
    needed) where a name from the camera and the time is chosen. The file appears whole or
    not at all (temp file + rename). Disk problems raise StorageError naming the path.
    """
    target = Path(path_or_dir)
    suffix_kind = _SUFFIXES.get(target.suffix.lower())
    if suffix_kind is None:
        folder = ensure_dir(target)
        target = _free_name(folder, camera, kind)
    else:
        if suffix_kind != kind:
            raise ValueError(f"{target.name}: the suffix says {suffix_kind} but kind is {kind!r}")
        folder = ensure_dir(target.parent)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if kind == "jpeg" else []
    ok, encoded = cv2.imencode(".png" if kind == "png" else ".jpg", to_bgr(frame, fmt), params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {frame.shape} frame as {kind}")
    tmp_path: Path | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        tmp_path = Path(tmp_name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(encoded.tobytes())
            os.fchmod(fh.fileno(), FILE_MODE)
        tmp_path.replace(target)
    except OSError as exc:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)
        raise storage_error("write the snapshot", target, exc) from None
    return target


def _free_name(folder: Path, camera: str, kind: Kind) -> Path:
    path = folder / snapshot_filename(camera, kind)
    n = 1
    while path.exists():
        path = path.with_name(f"{path.stem.split('~')[0]}~{n}{path.suffix}")
        n += 1
    return path
