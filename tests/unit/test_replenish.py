"""Replenishment maths, by hand."""

from __future__ import annotations

import pytest

from store_server.domain.errors import InvalidArgument
from store_server.domain.stock.replenish import StockPosition, check_rule, suggest, suggest_all


def position(**kw: object) -> StockPosition:
    base: dict[str, object] = {
        "product_id": 1,
        "on_hand_milli": 24_000,
        "on_order_milli": 0,
        "sold_in_window_milli": 56_000,
        "min_milli": 30_000,
        "max_milli": 60_000,
        "pack_milli": 24_000,
        "lead_days": 3,
        "supplier_id": "S",
    }
    base.update(kw)
    return StockPosition(**base)  # type: ignore[arg-type]


def test_orders_up_to_max_at_arrival_in_whole_cases() -> None:
    # 2 a day for 3 days of lead: 6 gone before the goods come; 18 left; up to 60: 42 -> 2 cases.
    s = suggest(position(), 28)
    assert s is not None
    assert (s.quantity_milli, s.lead_need_milli, s.daily_sales_milli) == (48_000, 6_000, 2_000)


def test_lead_need_rounds_up_to_the_thousandth() -> None:
    s = suggest(
        position(
            on_hand_milli=5_000,
            sold_in_window_milli=10_000,
            min_milli=10_000,
            max_milli=30_000,
            pack_milli=12_000,
            lead_days=1,
        ),
        28,
    )
    assert s is not None
    assert (s.lead_need_milli, s.quantity_milli) == (358, 36_000)  # 357.14 up; 25.358 -> 3 cases


def test_on_order_counts_and_above_min_orders_nothing() -> None:
    assert suggest(position(on_order_milli=12_000), 28) is not None  # 30 projected: at min
    assert suggest(position(on_order_milli=13_000), 28) is None  # 31 > min
    assert (
        suggest(position(on_hand_milli=0, max_milli=0, min_milli=0, sold_in_window_milli=0), 28)
        is None
    )  # nothing wanted


def test_returns_never_make_negative_demand() -> None:
    s = suggest(position(sold_in_window_milli=-5_000), 28)
    assert s is not None and s.lead_need_milli == 0 and s.quantity_milli == 48_000


def test_grouped_by_supplier_in_product_order() -> None:
    drafts = suggest_all(
        [
            position(product_id=3, supplier_id="B"),
            position(product_id=2, supplier_id="A"),
            position(product_id=1, supplier_id="B"),
            position(product_id=4, on_order_milli=99_000),
        ],
        28,
    )
    assert {k: [s.product_id for s in v] for k, v in drafts.items()} == {"A": [2], "B": [1, 3]}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1, 0, 1, 0), "rule.min_milli"),
        ((5, 4, 1, 0), "rule.max_milli"),
        ((0, 0, 0, 0), "rule.pack_milli"),
        ((0, 0, 1, -1), "rule.lead_days"),
    ],
)
def test_bad_rules_name_the_field(args: tuple[int, int, int, int], field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        check_rule(*args)
    assert info.value.field == field
