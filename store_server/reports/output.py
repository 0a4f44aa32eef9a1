"""Tables for the terminal (CJK-aware widths) and CSV (numbers as yuan, units, %)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from store_server.reports.table import Kind, Table, format_cell

_RIGHT = {Kind.COUNT, Kind.MONEY, Kind.QTY, Kind.BP, Kind.DAYS}


def display_width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(text))
    return gap + text if right else text + gap


def to_text(table: Table) -> str:
    """The table as aligned text with a title line and its notes."""
    header = [c.title for c in table.columns]
    body = [
        [format_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)]
        for row in table.rows
    ]
    widths = [
        max(display_width(x) for x in [h, *(r[i] for r in body)]) for i, h in enumerate(header)
    ]
    right = [c.kind in _RIGHT for c in table.columns]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(_pad(x, w, r) for x, w, r in zip(cells, widths, right, strict=True))

    out = [f"== {table.title}", line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in body]
    if not body:
        out.append("(无数据 no data)")
    out += [f"  * {n}" for n in table.notes]
    return "\n".join(out)


def to_csv(table: Table) -> str:
    """CSV with a header of titles; money in yuan (2 decimals), quantities in units."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([format_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    return buf.getvalue()


def write_csv(tables: Sequence[Table], directory: Path) -> list[Path]:
    """One UTF-8 (with BOM, so Excel reads the Chinese) CSV file per table."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in tables:
        path = directory / f"{t.name}.csv"
        path.write_text(to_csv(t), encoding="utf-8-sig")
        paths.append(path)
    return paths
