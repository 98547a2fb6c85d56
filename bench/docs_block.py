"""Put a benchmark's generated results into docs/benchmarks.md without touching the prose.

Imported by bench/capture.py and bench/wall.py (not a benchmark itself). The generated text
lives between two HTML comments inside the script's section; everything else in the section
(the hand-written "what it says") and in the file (other people's sections) stays as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def replace_block(heading: str, key: str, text: str, path: Path = BENCHMARKS) -> None:
    """Replace the ``key`` block under ``heading`` (a ``## `` line) with ``text``.

    The section is appended if missing; the block goes right under the heading if the
    section has none yet.
    """
    begin, end = f"<!-- {key}: begin generated results -->", f"<!-- {key}: end -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    content = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = content.split("\n")
    try:
        start = lines.index(heading)
    except ValueError:
        content = content.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"
    else:
        stop = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        section = "\n".join(lines[start:stop])
        if begin in section and end in section:
            head, rest = section.split(begin, 1)
            section = head + block + rest.split(end, 1)[1]
        else:
            section = f"{heading}\n\n{block}\n" + section[len(heading) :].lstrip("\n")
            if not section.endswith("\n"):
                section += "\n"
        before = "\n".join(lines[:start])
        after = "\n".join(lines[stop:])
        content = before + ("\n" if before else "") + section.rstrip("\n") + "\n"
        if after:
            content += "\n" + after
    # Others edit this file too: write a complete new file and rename it over the old one.
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)
