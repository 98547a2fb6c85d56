"""Camera names made safe for file names (recording segments, snapshots)."""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_SAFE_LENGTH = 64


def safe_name(name: str) -> str:
    """``name`` reduced to lower-case ASCII letters, digits, ``-`` and ``_`` (never empty).

    Accents are dropped rather than replaced ("Küche" → "kuche") so names stay readable;
    any other run of characters becomes one ``_``. Lower case, because recordings often go
    to file systems that ignore case (exFAT disks, SMB shares).
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", ascii_text).strip("_-").lower()
    return cleaned[:MAX_SAFE_LENGTH] or "camera"
