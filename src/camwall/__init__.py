"""camwall: a camera wall and library for high-resolution network cameras."""

from __future__ import annotations

__version__ = "0.1.0"
