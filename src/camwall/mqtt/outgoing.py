"""One message on its way to the broker."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Outgoing:
    """``payload`` bytes for ``topic``; a Path is a file read when sent (JPEG snapshots)."""

    topic: str
    payload: bytes | Path
    qos: int = 1
    retain: bool = False


def dumps(data: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (``default=str`` for paths and times)."""
    return json.dumps(data, default=str, ensure_ascii=False, separators=(",", ":")).encode()
