"""Choosing the source implementation for a URL, path or device index."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from camwall.errors import InvalidSourceError, StreamNotFoundError
from camwall.redact import mask_url
from camwall.sources.base import Source, SourceSettings

SourceKind = Literal["network", "file", "webcam", "synthetic"]
NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")


def source_kind(url: str) -> SourceKind:
    """Classify ``url``: network stream, local file, webcam index or synthetic camera."""
    text = url.strip()
    if not text:
        raise InvalidSourceError(
            "the camera URL is empty; enter rtsp://host/path, a file path or a webcam number"
        )
    if text.isdigit() or text.startswith("webcam://"):
        return "webcam"
    scheme = urlsplit(text).scheme.lower()
    if scheme == "synthetic":
        return "synthetic"
    if scheme in NETWORK_SCHEMES:
        return "network"
    if scheme == "file" or not scheme or len(scheme) == 1:  # len 1: a Windows drive letter
        return "file"
    raise InvalidSourceError(
        f"{mask_url(text)}: scheme {scheme!r} is not supported; use rtsp, rtsps, http, https, "
        "a file path, a webcam number or synthetic://"
    )


def open_source(settings: SourceSettings) -> Source:
    """Create (not yet open) the right :class:`Source` for ``settings.url``."""
    kind = source_kind(settings.url)
    if kind == "synthetic":
        from camwall.sources.synthetic import SyntheticSource

        return SyntheticSource(settings)
    if kind == "webcam":
        from camwall.sources.webcam import WebcamSource

        return WebcamSource(settings)
    if kind == "file":
        path = Path(
            urlsplit(settings.url).path if settings.url.startswith("file:") else settings.url
        )
        if not path.exists():
            raise StreamNotFoundError(f"{path}: no such file")
    from camwall.sources.pyav import PyAVSource

    return PyAVSource(settings)
