"""Choosing the source implementation for a URL, path or device index."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from camwall.errors import StreamNotFoundError
from camwall.sources.base import Source, SourceSettings
from camwall.urls import NETWORK_SCHEMES, UrlKind, parse_url

SourceKind = UrlKind
__all__ = ["NETWORK_SCHEMES", "SourceKind", "open_source", "source_kind"]


def source_kind(url: str) -> SourceKind:
    """Classify ``url``: network stream, local file, webcam index or synthetic camera.

    Raises :class:`~camwall.errors.UrlError` (an InvalidSourceError) with the masked URL and
    a one-line reason when it names no source.
    """
    return parse_url(url.strip()).kind


def open_source(settings: SourceSettings) -> Source:
    """Create (not yet open) the right :class:`Source` for ``settings.url``."""
    parsed = parse_url(settings.url.strip())
    kind = parsed.kind
    if kind == "network":
        # Credentials typed raw (a "#" or "/" in a password) percent-encoded, as FFmpeg needs.
        settings = replace(settings, url=parsed.ffmpeg_url())
    if kind == "synthetic":
        from camwall.sources.synthetic import SyntheticSource

        return SyntheticSource(settings)
    if kind == "webcam":
        from camwall.sources.webcam import WebcamSource

        return WebcamSource(settings)
    if kind == "file":
        path = Path(parsed.path)
        if not path.exists():
            raise StreamNotFoundError(f"{path}: no such file")
    from camwall.sources.pyav import PyAVSource

    return PyAVSource(settings)
