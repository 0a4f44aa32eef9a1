from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from store_server.domain.allocation import allocate, share
from store_server.domain.business_day import business_day, receipt_number
from store_server.domain.pricing import LineInput, MemberContext, price_basket

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def line(line_id: str, qty: int, price: int, **kw: object) -> LineInput:
    return LineInput(line_id=line_id, product_id=1, quantity_milli=qty, unit_price_fen=price, **kw)


def test_member_price_only_for_members_and_explained() -> None:
    lines = [line("a", 3000, 300, member_unit_price_fen=280)]
    plain = price_basket(lines, member=None, store_id="S01", at=AT)
    assert plain.total_fen == 900 and plain.lines[0].adjustments == ()
    member = price_basket(lines, member=MemberContext("M1"), store_id="S01", at=AT)
    assert member.total_fen == 840
    adj = member.lines[0].adjustments[0]
    assert (adj.code, adj.name, adj.amount_fen) == ("MEMBER_PRICE", "会员价", -60)
    assert member.discount_fen == 60 and member.subtotal_fen == 900


def test_weighed_line_rounds_half_up() -> None:
    priced = price_basket([line("a", 1250, 598)], member=None, store_id="S01", at=AT)
    assert priced.total_fen == 748  # 747.5


def test_override_gift_and_fixed_amount() -> None:
    priced = price_basket(
        [
            line("o", 3000, 450, override_unit_price_fen=399),
            line("g", 1000, 200, gift=True),
            line("f", 781, 1280, fixed_amount_fen=1000),
        ],
        member=MemberContext("M1"),
        store_id="S01",
        at=AT,
    )
    assert [p.net_amount_fen for p in priced.lines] == [1197, 0, 1000]
    assert [a.code for a in priced.line("o").adjustments] == ["PRICE_OVERRIDE"]
    assert [(a.code, a.amount_fen) for a in priced.line("g").adjustments] == [("GIFT", -200)]


@given(
    st.lists(
        st.tuples(st.integers(1, 500_000), st.integers(0, 100_000), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_pricing_invariants(items: list[tuple[int, int, bool]]) -> None:
    lines = [line(str(i), qty, price, gift=gift) for i, (qty, price, gift) in enumerate(items)]
    priced = price_basket(lines, member=None, store_id="S01", at=AT)
    reversed_ = price_basket(lines[::-1], member=None, store_id="S01", at=AT)
    assert all(p.net_amount_fen >= 0 for p in priced.lines)
    assert priced.total_fen <= priced.subtotal_fen
    assert priced.total_fen == reversed_.total_fen  # scan order does not matter
    assert priced.subtotal_fen - priced.total_fen == priced.discount_fen


@given(
    total=st.integers(-(10**6), 10**6),
    weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=20),
)
def test_allocation_parts_sum_to_the_whole(total: int, weights: list[int]) -> None:
    assert sum(allocate(total, weights)) == total


@given(amount=st.integers(0, 10**7), whole=st.integers(1, 100), cut=st.integers(0, 100))
def test_partial_refunds_sum_to_the_whole(amount: int, whole: int, cut: int) -> None:
    cut = min(cut, whole)
    first = share(amount, cut, whole)
    rest = share(amount, whole, whole) - share(amount, cut, whole)
    assert first + rest == amount


def test_business_day_cutover() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    # 02:30 local on the 24th belongs to the 23rd with a 04:00 cut-over.
    night = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    assert business_day(night, zone, 4).isoformat() == "2026-11-23"
    morning = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 04:00 local on the 24th
    assert business_day(morning, zone, 4).isoformat() == "2026-11-24"
    assert receipt_number("S01", business_day(morning, zone, 4), 42) == "S01-20261124-0042"
