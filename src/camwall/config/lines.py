"""Where each key of a TOML text is: a key path → line index for error messages.

Neither ``tomllib`` nor pydantic know line numbers, so after a file parsed cleanly this scans
its text once more, lexically: table headers (``[a.b]``, ``[[camera]]`` with a running index),
``key = value`` lines (dotted keys too) and the elements of arrays (``masks[1][2]``). Inline
tables are skipped over as one value. The scan only runs when a file has problems.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

Loc = tuple[str | int, ...]

_TOKEN = re.compile(
    r"""(?P<nl>\n)|(?P<ws>[ \t\r]+)|(?P<comment>\#[^\n]*)|(?P<ml>\"\"\"|''')"""
    r"""|(?P<str>"(?:[^"\\\n]|\\.)*"|'[^'\n]*')|(?P<punct>[\[\]{},=.])"""
    r"""|(?P<word>[^\s\[\]{},=.\#"']+)|(?P<other>.)"""
)


def _key_text(token: str) -> str:
    if token.startswith('"'):
        try:
            return str(tomllib.loads(f"k = {token}")["k"])
        except tomllib.TOMLDecodeError:
            return token.strip('"')
    if token.startswith("'"):
        return token[1:-1]
    return token


class LineIndex:
    """Maps key paths (``("camera", 0, "url")``) to 1-based line numbers of one TOML text."""

    def __init__(self, text: str, *, deep: int = 16, stop_when_deep: bool = False) -> None:
        """Scan ``text`` (valid TOML, or nested too deeply for tomllib).

        ``deep_line`` is then the first line where arrays/inline tables nest deeper than
        ``deep``, or None.
        """
        self._deep = deep
        self._stop_when_deep = stop_when_deep
        self.deep_line: int | None = None
        self._lines: dict[Loc, int] = {}
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        self._scan(text)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc``, or of its nearest enclosing key or table; None if none."""
        path = tuple(loc)
        for k in range(len(path), 0, -1):
            line = self._lines.get(path[:k])
            if line is not None:
                return line
        return None

    def _line_at(self, pos: int) -> int:
        return bisect_right(self._newlines, pos - 1) + 1

    def _record(self, path: Loc, pos: int) -> None:
        self._lines.setdefault(path, self._line_at(pos))

    def _scan(self, text: str) -> None:
        pos, end = 0, len(text)
        table: Loc = ()
        aot: dict[Loc, int] = {}
        stack: list[_Open] = []
        value_path: Loc = ()
        state = "start"  # start | key | header | value | after
        parts: list[str] = []
        header_aot = False
        while pos < end:
            match = _TOKEN.match(text, pos)
            if match is None:  # pragma: no cover - the pattern matches any character
                break
            kind, tok, start = match.lastgroup, match.group(), pos
            pos = match.end()
            if kind in ("ws", "comment"):
                continue
            if kind == "ml":
                close = text.find(tok, pos)
                while close != -1 and tok == '"""' and _escaped(text, close):
                    close = text.find(tok, close + 1)
                pos = end if close == -1 else close + 3
                while pos < end and text[pos] == tok[0]:
                    pos += 1  # up to two quotes may end the string's content
                kind = "str"
            if stack:
                self._in_value(stack, kind, tok, start)
                if len(stack) > self._deep and self.deep_line is None:
                    self.deep_line = self._line_at(start)
                if self.deep_line is not None and self._stop_when_deep:
                    return
                if not stack:
                    state = "after"
                continue
            if kind == "nl":
                if state in ("value", "after"):
                    state = "start"
                continue
            if state == "start":
                if tok == "[":
                    header_aot = text.startswith("[", pos)
                    if header_aot:
                        pos += 1
                    parts, state = [], "header"
                elif kind in ("word", "str"):
                    parts, state = [_key_text(tok)], "key"
                continue
            if state == "header":
                if tok == "]":
                    if header_aot and text.startswith("]", pos):
                        pos += 1
                    table = self._header(parts, header_aot, aot, start)
                    state = "after"
                elif kind in ("word", "str"):
                    parts.append(_key_text(tok))
                continue
            if state == "key":
                if tok == "=":
                    path = table
                    for part in parts:
                        path = (*path, part)
                        self._record(path, start)
                    state, value_path = "value", path
                elif kind in ("word", "str"):
                    parts.append(_key_text(tok))
                continue
            if state == "value":
                if tok == "[":
                    stack.append(_Open(value_path))
                elif tok == "{":
                    stack.append(_Open(None))
                if tok in "[{" and len(value_path) > self._deep and self.deep_line is None:
                    self.deep_line = self._line_at(start)
                else:
                    state = "after"

    def _header(self, parts: list[str], is_aot: bool, aot: dict[Loc, int], pos: int) -> Loc:
        path: Loc = ()
        for i, part in enumerate(parts):
            path = (*path, part)
            last = i == len(parts) - 1
            if last and is_aot:
                aot[path] = aot.get(path, 0) + 1
            if path in aot:
                self._record(path, pos)
                path = (*path, aot[path] - 1)
            self._record(path, pos)  # [a.b.c] defines a and a.b too
        self._record(path, pos)
        return path

    def _in_value(self, stack: list[_Open], kind: str | None, tok: str, pos: int) -> None:
        top = stack[-1]
        if kind == "nl":
            return
        if tok in ("]", "}"):
            stack.pop()
            return
        if tok == ",":
            top.index += 1
            top.expecting = top.path is not None
            return
        element: Loc | None = None
        if top.expecting and top.path is not None:
            element = (*top.path, top.index)
            self._record(element, pos)
            top.expecting = False
        if tok == "[":
            # Past the depth limit paths are not tracked: they would only grow quadratically.
            stack.append(_Open(element if len(stack) <= self._deep else None))
        elif tok == "{":
            stack.append(_Open(None))


@dataclass
class _Open:
    """An array or inline table being scanned; ``path`` None: its elements are not indexed."""

    path: Loc | None
    index: int = 0
    expecting: bool = field(default=True)

    def __post_init__(self) -> None:
        self.expecting = self.path is not None


def _escaped(text: str, pos: int) -> bool:
    backslashes = 0
    while pos - backslashes - 1 >= 0 and text[pos - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1
