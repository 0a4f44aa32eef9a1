"""Replenishment (补货建议): how much to order, rounded to the supplier's case.

Quantities are thousandths of a unit. The rule, per product:

    position   = on_hand + on_order
    lead_need  = ceil(sold_in_window x lead_days / window_days)   (demand until delivery)
    projected  = position - lead_need                              (left when goods arrive)
    order when projected <= min, up to max at arrival:
    quantity   = ceil((max - projected) / pack) x pack

Whole cases are rounded up: a case short would leave the shelf below max on
arrival, and suppliers ship whole cases only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from store_server.domain.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class StockPosition:
    product_id: int
    on_hand_milli: int
    on_order_milli: int
    sold_in_window_milli: int  # net of returns; never below zero here
    min_milli: int
    max_milli: int
    pack_milli: int
    lead_days: int
    supplier_id: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    product_id: int
    supplier_id: str
    quantity_milli: int
    daily_sales_milli: int  # rounded down, for display
    lead_need_milli: int


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def check_rule(min_milli: int, max_milli: int, pack_milli: int, lead_days: int) -> None:
    if min_milli < 0:
        raise InvalidArgument("rule.min_milli", "cannot be negative")
    if max_milli < min_milli:
        raise InvalidArgument("rule.max_milli", "must be at least min_milli")
    if pack_milli <= 0:
        raise InvalidArgument("rule.pack_milli", "the supplier's pack size must be positive")
    if lead_days < 0:
        raise InvalidArgument("rule.lead_days", "cannot be negative")


def suggest(position: StockPosition, window_days: int) -> Suggestion | None:
    """The order for one product, or None when it needs none."""
    if window_days <= 0:
        raise InvalidArgument("window_days", "must be positive")
    sold = max(position.sold_in_window_milli, 0)
    lead_need = _ceil_div(sold * position.lead_days, window_days)
    projected = position.on_hand_milli + position.on_order_milli - lead_need
    if projected > position.min_milli:
        return None
    need = position.max_milli - projected
    if need <= 0:
        return None
    quantity = _ceil_div(need, position.pack_milli) * position.pack_milli
    return Suggestion(
        product_id=position.product_id,
        supplier_id=position.supplier_id,
        quantity_milli=quantity,
        daily_sales_milli=sold // window_days,
        lead_need_milli=lead_need,
    )


def suggest_all(
    positions: Iterable[StockPosition], window_days: int
) -> dict[str, list[Suggestion]]:
    """Suggestions grouped by supplier (the draft purchase orders), by product id."""
    drafts: dict[str, list[Suggestion]] = {}
    for position in sorted(positions, key=lambda p: p.product_id):
        s = suggest(position, window_days)
        if s is not None:
            drafts.setdefault(s.supplier_id, []).append(s)
    return drafts
