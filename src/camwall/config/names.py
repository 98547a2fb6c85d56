"""Camera names made safe for file names (recording folders and segments, snapshots).

A name keeps what ASCII can show of it ("Küche" → ``kuche``, "Front door" → ``front_door``);
when letters had to be dropped (Cyrillic, CJK, emoji…) a short hash of the full name is
appended, so "Кухня" and "Гараж" get different folders (``camera-3f9a1c2e``,
``camera-81d07b44``) instead of both becoming ``camera``. Names that differ only in case,
accents or punctuation still share a slug; the config loader rejects such pairs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_SAFE_LENGTH = 64
#: Every safe name matches this (what retention accepts as a camwall camera folder).
SAFE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,63})$")
_HASH_CHARS = 8
#: Latin letters that Unicode does not decompose into ASCII, spelled the usual way.
_LATIN = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "TH",
        "ð": "d",
        "Ð": "D",
        "ı": "i",
    }
)


def safe_name(name: str) -> str:
    """``name`` reduced to lower-case ASCII letters, digits, ``-`` and ``_`` (never empty).

    Accents are dropped rather than replaced ("Küche" → "kuche") so names stay readable;
    any other run of characters becomes one ``_``. Lower case, because recordings often go
    to file systems that ignore case (exFAT disks, SMB shares). A name that loses letters
    on the way (non-Latin scripts) gets ``-`` and a hash of the whole name appended.
    """
    normal = unicodedata.normalize("NFC", name)
    decomposed = unicodedata.normalize("NFKD", normal.translate(_LATIN))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", ascii_text).strip("_-").lower()
    lost = any(
        ord(c) > 127 and not unicodedata.combining(c) and unicodedata.category(c)[0] in "LNS"
        for c in decomposed
    )
    if not lost and cleaned:
        return cleaned[:MAX_SAFE_LENGTH].rstrip("_-") or "camera"
    digest = hashlib.sha256(normal.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    stem = cleaned[: MAX_SAFE_LENGTH - _HASH_CHARS - 1].rstrip("_-") or "camera"
    return f"{stem}-{digest}"
