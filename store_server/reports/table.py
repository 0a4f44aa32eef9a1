"""Every report as a typed table: what the terminal, CSV, Excel, charts and gRPC show.

Cells keep the report's integers (fen, thousandths, basis points); only the
renderers turn them into yuan, units and percentages for people.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from store_server.domain.money import format_yuan

Cell = int | str | None


class Kind(enum.StrEnum):
    TEXT = "text"
    COUNT = "count"
    MONEY = "money"  # fen
    QTY = "qty"  # thousandths of a unit
    BP = "bp"  # basis points, shown as a percentage
    DAYS = "days"  # None: never runs out at this pace


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Chart:
    """How to draw a table: line for trends, bar for rankings, pie for a mix, hist for sizes."""

    kind: str  # line, bar, pie, hist
    x: str  # the column of labels
    y: tuple[str, ...]  # the columns of values
    title: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # file and sheet name: sales_day, tender...
    title: str  # 中文 title
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    chart: Chart | None = None
    notes: tuple[str, ...] = ()
    # Raw values behind a histogram (basket totals in fen); not a column.
    values: tuple[int, ...] = field(default=(), repr=False)

    def column(self, key: str) -> list[Cell]:
        i = [c.key for c in self.columns].index(key)
        return [row[i] for row in self.rows]

    def as_dicts(self) -> list[dict[str, Cell]]:
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


def from_rows(
    name: str,
    title: str,
    spec: Sequence[tuple[str, str, Kind]],
    rows: Iterable[object],
    **extra: object,
) -> Table:
    """A table whose columns are attributes of the report's row objects."""
    columns = tuple(Column(k, t, kind) for k, t, kind in spec)
    return Table(
        name,
        title,
        columns,
        tuple(tuple(getattr(r, c.key) for c in columns) for r in rows),
        **extra,  # type: ignore[arg-type]
    )


def format_qty(milli: int) -> str:
    if milli % 1000 == 0:
        return str(milli // 1000)
    return f"{Decimal(milli) / 1000:f}".rstrip("0")


def format_bp(bp: int) -> str:
    """1234 -> "12.34%" (integer arithmetic, no float)."""
    sign = "-" if bp < 0 else ""
    whole, frac = divmod(abs(bp), 100)
    return f"{sign}{whole}.{frac:02d}%"


def format_cell(value: Cell, kind: Kind) -> str:
    """A cell as a person reads it: yuan with two decimals, units, percentages."""
    if value is None:
        return "∞" if kind is Kind.DAYS else ""
    if isinstance(value, str):
        return value
    if kind is Kind.MONEY:
        return format_yuan(value)
    if kind is Kind.QTY:
        return format_qty(value)
    if kind is Kind.BP:
        return format_bp(value)
    return str(value)
