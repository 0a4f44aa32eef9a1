"""Excel workbooks (openpyxl): one sheet per table, numbers as numbers.

Money cells hold yuan as exact decimals (fen / 100, built from the integer, not
through a float sum) with a two-decimal number format; quantities hold units
with up to three decimals; percentages hold fractions with a % format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from store_server.reports.table import Cell, Kind, Table

YUAN_FORMAT = "#,##0.00"
QTY_FORMAT = "#,##0.###"
PERCENT_FORMAT = "0.00%"
_FORMATS = {Kind.MONEY: YUAN_FORMAT, Kind.QTY: QTY_FORMAT, Kind.BP: PERCENT_FORMAT}
_DIVISORS = {Kind.MONEY: 100, Kind.QTY: 1000, Kind.BP: 10_000}


def cell_value(value: Cell, kind: Kind) -> object:
    """What the spreadsheet cell holds: yuan, units, fraction, count or text."""
    if value is None:
        return "∞" if kind is Kind.DAYS else None
    if isinstance(value, str) or kind not in _DIVISORS:
        return value
    # Decimal keeps 12345 fen exactly 123.45; openpyxl writes it as a number.
    return Decimal(value) / _DIVISORS[kind]


def write_workbook(
    tables: Sequence[Table],
    path: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for n, table in enumerate(tables):
        if progress:
            progress(f"sheet {table.name}", n, len(tables))
        title = table.name[:31]
        while title in used:
            title = f"{title[:28]}_{n}"
        used.add(title)
        ws = wb.create_sheet(title)
        ws.append([table.title])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([c.title for c in table.columns])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            ws.append([cell_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
        for i, col in enumerate(table.columns, start=1):
            fmt = _FORMATS.get(col.kind)
            letter = get_column_letter(i)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                    cell.number_format = fmt
            ws.column_dimensions[letter].width = max(10, 2 * len(col.title) + 4)
        for note in table.notes:
            ws.append([note])
        ws.freeze_panes = "A3"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    if progress:
        progress("workbook", len(tables), len(tables))
    return path
