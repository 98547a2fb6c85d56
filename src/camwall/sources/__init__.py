"""Video sources: network streams and files (PyAV), webcams (OpenCV), synthetic cameras."""

from __future__ import annotations

from camwall.sources.base import (
    Source,
    SourceFrame,
    SourceSettings,
    SourceStats,
    StreamInfo,
    Transport,
)
from camwall.sources.factory import open_source, source_kind

__all__ = [
    "Source",
    "SourceFrame",
    "SourceSettings",
    "SourceStats",
    "StreamInfo",
    "Transport",
    "open_source",
    "source_kind",
]
