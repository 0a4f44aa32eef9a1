"""What a scan keeps or computes the fast way is what the plain way gives."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import ean

from store_server import baskets
from store_server.baskets import _InputMemo, line_input
from store_server.domain import pricing
from store_server.domain.barcodes import gtin_check_digit_right
from store_server.domain.pricing import Adjustment, LineInput, PricedLine
from tests.support.lines import stored_line


def test_fast_built_lines_and_adjustments_are_the_plain_frozen_values() -> None:
    adjustment = pricing._promotion_adjustment("p7", "第二件半价", 150)
    assert adjustment == Adjustment("PROMO:p7", "第二件半价", -150)
    assert hash(adjustment) == hash(Adjustment("PROMO:p7", "第二件半价", -150))
    line = pricing._priced_line("L1", 600, (adjustment,), 450, 1300)
    assert line == PricedLine("L1", 600, (adjustment,), 450, 1300)
    assert (line.base_amount_fen, line.net_amount_fen, line.discount_fen) == (600, 450, 150)
    assert repr(line) == repr(PricedLine("L1", 600, (adjustment,), 450, 1300))
    with pytest.raises(dataclasses.FrozenInstanceError):
        line.net_amount_fen = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        adjustment.amount_fen = 0  # type: ignore[misc]


def test_line_inputs_are_converted_once_per_line_object_and_again_when_it_changes() -> None:
    memo = _InputMemo()
    first = (stored_line(1), stored_line(2, weighed=True, quantity_milli=352, category="水果"))
    inputs = memo(first)
    assert inputs == [line_input(line) for line in first]
    assert inputs[1] == LineInput(
        line_id="00000000-0000-4000-8000-000000000002",
        product_id=1002,
        quantity_milli=352,
        unit_price_fen=300,
        member_unit_price_fen=None,
        tax_rate_bp=1300,
        category="水果",
        weighed=True,
    )
    # The next scan: the same line objects plus one; the kept inputs are reused.
    second = (*first, stored_line(3, gift=True))
    again = memo(second)
    assert again[0] is inputs[0] and again[1] is inputs[1]
    assert again[2] == line_input(second[2])
    # A line edited (a new object with the same id): converted anew.
    edited = (dataclasses.replace(first[0], quantity_milli=5000, override_unit_price_fen=250),)
    (changed,) = memo(edited)
    assert (changed.quantity_milli, changed.override_unit_price_fen) == (5000, 250)


def test_line_input_memo_full_starts_again_and_stays_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(baskets, "_INPUT_MEMO_MAX", 3)
    memo = _InputMemo()
    lines = tuple(stored_line(n, quantity_milli=1000 * n) for n in range(1, 9))
    for end in range(1, len(lines) + 1):
        assert memo(lines[:end]) == [line_input(line) for line in lines[:end]]
    assert len(memo._memo) <= 3


@settings(max_examples=500)
@given(
    st.sampled_from([8, 12, 13]).flatmap(
        lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
    ),
    st.booleans(),
)
def test_the_scans_check_digit_test_is_stdnums(code: str, fix: bool) -> None:
    if fix:  # half of them right, so both answers are tried
        code = code[:-1] + ean.calc_check_digit(code[:-1])
    assert gtin_check_digit_right(code) == ean.is_valid(code)


def test_kept_discount_adjustments_are_shared_only_between_equal_discounts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pricing, "_KEPT_MAX", 2)
    first = pricing._promotion_adjustment("p1", "满100减10", 5)
    assert pricing._promotion_adjustment("p1", "满100减10", 5) is first
    for promo_id, name, amount in [
        ("p1", "满100减10", 6),
        ("p2", "满100减10", 5),
        ("p1", "九折", 5),
    ]:
        made = pricing._promotion_adjustment(promo_id, name, amount)
        assert made == Adjustment(f"PROMO:{promo_id}", name, -amount)
    assert pricing._promotion_adjustment("p1", "满100减10", 5) == first
    assert len(pricing._PROMOTION_ADJUSTMENTS) <= 2
