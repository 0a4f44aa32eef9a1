"""Stock value at cost per category, tax inclusive and exclusive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from store_server.reports.arith import ex_tax, share_bp
from store_server.reports.facts import StockFact


@dataclass(frozen=True, slots=True)
class StockValueRow:
    store_id: str
    category: str
    products: int
    on_hand_milli: int
    value_fen: int  # at cost, tax incl.
    value_ex_tax_fen: int
    share_bp: int | None  # of the whole stock's value
    without_cost: int
    negative: int


def stock_value(facts: Sequence[StockFact], *, per_store: bool = False) -> list[StockValueRow]:
    """On-hand valued at cost per category, biggest first; ex tax per tax rate."""
    acc: dict[tuple[str, str], list[int]] = {}
    for f in facts:
        key = (f.store_id if per_store else "*", f.category)
        a = acc.setdefault(key, [0] * 6)
        a[0] += f.products
        a[1] += f.on_hand_milli
        a[2] += f.value_fen
        a[3] += ex_tax(f.value_fen, f.tax_rate_bp)
        a[4] += f.without_cost
        a[5] += f.negative
    total = sum(a[2] for a in acc.values())
    rows = [
        StockValueRow(store, cat, a[0], a[1], a[2], a[3], share_bp(a[2], total), a[4], a[5])
        for (store, cat), a in acc.items()
    ]
    return sorted(rows, key=lambda r: (-r.value_fen, r.store_id, r.category))
