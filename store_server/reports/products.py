"""Best and slow sellers (畅销/滞销) with the days of stock left at the range's pace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from store_server.reports.facts import ProductFact


@dataclass(frozen=True, slots=True)
class ProductRow:
    rank: int
    store_id: str
    product_id: int
    sku: str
    name: str
    category: str
    sold_milli: int  # net of returns
    sales_fen: int
    on_hand_milli: int
    daily_milli: int  # average sold per day, rounded down
    days_left: int | None  # None: nothing sold, so no pace to run out at


def days_left(on_hand_milli: int, sold_milli: int, days: int) -> int | None:
    """Whole days the stock lasts at the average pace of `days` days (0 when none is left)."""
    if on_hand_milli <= 0:
        return 0
    if sold_milli <= 0:
        return None
    return on_hand_milli * days // sold_milli


def _row(rank: int, f: ProductFact, days: int) -> ProductRow:
    return ProductRow(
        rank,
        f.store_id,
        f.product_id,
        f.sku,
        f.name,
        f.category,
        f.sold_milli,
        f.sales_fen,
        f.on_hand_milli,
        max(f.sold_milli, 0) // days,
        days_left(f.on_hand_milli, f.sold_milli, days),
    )


def best_sellers(facts: Sequence[ProductFact], days: int, limit: int) -> list[ProductRow]:
    """The products that took the most money (then the most units), sold at all."""
    sold = [f for f in facts if f.sold_milli > 0]
    sold.sort(key=lambda f: (-f.sales_fen, -f.sold_milli, f.store_id, f.product_id))
    return [_row(i, f, days) for i, f in enumerate(sold[:limit], start=1)]


def slow_sellers(facts: Sequence[ProductFact], days: int, limit: int) -> list[ProductRow]:
    """Products in stock that sold the fewest units (none at all first), most stock first."""
    stocked = [f for f in facts if f.on_hand_milli > 0]
    stocked.sort(
        key=lambda f: (
            max(f.sold_milli, 0),
            f.sales_fen,
            -f.on_hand_milli,
            f.store_id,
            f.product_id,
        )
    )
    return [_row(i, f, days) for i, f in enumerate(stocked[:limit], start=1)]
