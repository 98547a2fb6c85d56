"""Tables out of benchmark output: Markdown pipe tables and column-aligned text, and plots.

The bench scripts print their results as tables for people, some as Markdown, some aligned
with spaces. :func:`parse_tables` finds both; :func:`plot_table` draws one as a bar chart
(matplotlib, Agg backend, no display).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

_NUMBER = re.compile(r"^[×x]?\s*([-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?)\s*(?:[a-zA-Z%µ/×]+)?$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_ALIGNED_SPLIT = re.compile(r"\s{2,}")


@dataclass(frozen=True, slots=True)
class ResultTable:
    """A table whose first column names the rows; ``values`` are None where not a number."""

    title: str
    columns: tuple[str, ...]  # the label column's header first
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]

    def numeric_columns(self) -> list[int]:
        """Indexes (into ``columns[1:]``) of columns with a number in at least two rows."""
        width = len(self.columns) - 1
        return [
            i for i in range(width) if sum(values[i] is not None for _, values in self.rows) >= 2
        ]

    def to_markdown(self) -> str:
        """The table as Markdown."""
        head = "| " + " | ".join(self.columns) + " |"
        rule = "|" + "---|" * len(self.columns)
        body = [
            "| " + " | ".join([label, *("" if v is None else f"{v:g}" for v in values)]) + " |"
            for label, values in self.rows
        ]
        return "\n".join([head, rule, *body])


def number(text: str) -> float | None:
    """``"3.2"``, ``"1.04×"``, ``"12 ms"``, ``"×0.5"`` → the number; anything else None."""
    match = _NUMBER.match(text.strip())
    if match is None:
        return None
    return float(match.group(1).replace(",", "."))


def parse_tables(text: str) -> list[ResultTable]:
    """Every Markdown or aligned table in ``text`` with at least two rows."""
    lines = text.splitlines()
    tables: list[ResultTable] = []
    i = 0
    title = ""
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("|") and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1].strip()):
            end = i + 2
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            table = _markdown(title, lines[i], lines[i + 2 : end])
            if table is not None:
                tables.append(table)
            i = end
            continue
        end = _aligned_end(lines, i + 1)
        if end - (i + 1) >= 2:
            table = _aligned(title, lines[i], lines[i + 1 : end])
            if table is not None:
                tables.append(table)
                i = end
                continue
        if line:
            title = line
        i += 1
    return tables


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _markdown(title: str, header: str, body: list[str]) -> ResultTable | None:
    columns = _cells(header)
    rows = []
    for line in body:
        cells = _cells(line)
        if len(cells) != len(columns):
            continue
        rows.append((cells[0], tuple(number(c) for c in cells[1:])))
    if len(rows) < 2 or len(columns) < 2:
        return None
    return ResultTable(title, tuple(columns), tuple(rows))


def _aligned_row(line: str) -> list[str] | None:
    cells = _ALIGNED_SPLIT.split(line.strip())
    if len(cells) < 2 or any(number(c) is None for c in cells[1:]):
        return None
    return cells


def _aligned_end(lines: list[str], start: int) -> int:
    end = start
    width = None
    while end < len(lines):
        cells = _aligned_row(lines[end])
        if cells is None or (width is not None and len(cells) != width):
            break
        width = len(cells)
        end += 1
    return end


def _aligned(title: str, header: str, body: list[str]) -> ResultTable | None:
    columns = _ALIGNED_SPLIT.split(header.strip())
    rows = [_aligned_row(line) for line in body]
    if not rows or rows[0] is None or len(columns) != len(rows[0]):
        return None
    return ResultTable(
        title,
        tuple(columns),
        tuple((r[0], tuple(number(c) for c in r[1:])) for r in rows if r is not None),
    )


def plot_column(table: ResultTable) -> int | None:
    """The column worth plotting: a ratio ("×", "ratio") if there is one, else the first
    numeric column; None if the table has no numbers to plot."""
    numeric = table.numeric_columns()
    if not numeric:
        return None
    for i in numeric:
        name = table.columns[i + 1].lower()
        if "×" in name or "ratio" in name:
            return i
    return numeric[0]


def plot_table(table: ResultTable, column: int, path: Path, heading: str) -> Path:
    """Draw ``column`` of ``table`` as horizontal bars into the PNG ``path``."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no Qt
    import matplotlib.pyplot as plt

    rows = [(label, values[column]) for label, values in table.rows if values[column] is not None]
    labels = [label for label, _ in rows]
    values = [value for _, value in rows]
    assert all(v is not None for v in values)
    height = 1.2 + 0.35 * len(rows)
    fig, ax = plt.subplots(figsize=(8, height))
    try:
        ax.barh(range(len(rows)), [float(v or 0.0) for v in values], color="#4472c4")
        ax.set_yticks(range(len(rows)), labels=labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(table.columns[column + 1])
        title = heading if not table.title else f"{heading}: {table.title}"
        ax.set_title(textwrap.fill(title, 90), fontsize=9)
        for y, v in enumerate(values):
            ax.annotate(
                f"{v:g}",
                (float(v or 0.0), y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path
