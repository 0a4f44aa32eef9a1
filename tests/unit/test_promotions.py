"""One table per rule, hand-computed in fen; then the engine's invariants."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store_server.domain.pricing import LineInput, MemberContext, price_basket
from store_server.domain.promotions import (
    Bundle,
    BuyGet,
    Coupon,
    NthPercent,
    PercentOff,
    Promotion,
    QuantityPrice,
    Schedule,
    Scope,
    Threshold,
)

# Monday 2026-11-23, 12:00 in Shanghai.
NOON = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
COKE, SPRITE, CHIPS, BREAD, APPLE = 1, 2, 3, 4, 5
CATEGORY = {COKE: "饮料", SPRITE: "饮料", CHIPS: "零食", BREAD: "烘焙", APPLE: "水果"}
PRICE = {COKE: 300, SPRITE: 280, CHIPS: 750, BREAD: 1290, APPLE: 1280}


def ln(line_id: str, product: int, units: int = 1, **kw: object) -> LineInput:
    return LineInput(
        line_id=line_id,
        product_id=product,
        quantity_milli=units * 1000,
        unit_price_fen=PRICE[product],
        category=CATEGORY[product],
        **kw,
    )


def only(product: int) -> Scope:
    return Scope(product_ids=frozenset({product}))


def total(
    lines: list[LineInput],
    *promos: Promotion,
    at: datetime = NOON,
    member: MemberContext | None = None,
) -> int:
    return price_basket(lines, member=member, store_id="S01", at=at, promotions=promos).total_fen


def promo(rule: object, name: str = "促销", **kw: object) -> Promotion:
    return Promotion(promo_id=kw.pop("promo_id", name), name=name, rule=rule, **kw)


@pytest.mark.parametrize(
    ("units", "expected"), [(2, 600), (3, 800), (4, 1100), (6, 1600), (7, 1900)]
)
def test_quantity_price_three_for_eight(units: int, expected: int) -> None:
    assert total([ln("a", COKE, units)], promo(QuantityPrice(3, 800), scope=only(COKE))) == expected


@pytest.mark.parametrize(
    ("units", "expected"), [(1, 1290), (2, 1935), (3, 3225), (4, 3870)]
)  # 12.90 + 6.45 per pair
def test_second_at_half_price(units: int, expected: int) -> None:
    assert total([ln("a", BREAD, units)], promo(NthPercent(2, 5000), scope=only(BREAD))) == expected


def test_nth_percent_rounds_half_up_and_discounts_the_cheaper() -> None:
    # 7.50 and 2.80 in scope: the second unit is the cheaper (2.80) at 33.33% off -> 93.324 -> 93
    lines = [ln("a", CHIPS), ln("b", SPRITE)]
    rule = promo(NthPercent(2, 3333), scope=Scope(product_ids=frozenset({CHIPS, SPRITE})))
    priced = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=[rule])
    assert priced.total_fen == 750 + 280 - 93
    assert [a.amount_fen for a in priced.line("b").adjustments] == [-93]


@pytest.mark.parametrize(
    ("coke", "sprite", "expected"),
    [
        (2, 0, 300),  # 买一送一 on coke: second free
        (3, 0, 600),
        (1, 1, 300),  # coke + sprite both in scope: the cheaper (sprite) free
    ],
)
def test_buy_one_get_one(coke: int, sprite: int, expected: int) -> None:
    lines = [ln("a", COKE, coke)] + ([ln("b", SPRITE, sprite)] if sprite else [])
    scope = Scope(categories=frozenset({"饮料"}))
    assert total(lines, promo(BuyGet(1, 1), "买一送一", scope=scope)) == expected


def test_buy_get_another_product_free() -> None:
    # 搭赠: every 2 chips earn one coke free; 3 chips and 2 cokes -> one coke free.
    lines = [ln("a", CHIPS, 3), ln("b", COKE, 2)]
    rule = promo(BuyGet(2, 1, get_scope=only(COKE)), "买薯片送可乐", scope=only(CHIPS))
    assert total(lines, rule) == 3 * 750 + 300


def test_bundles_several_in_one_basket() -> None:
    # coke + chips for 9.00 (10.50): two bundles and one coke left over.
    lines = [ln("a", COKE, 3), ln("b", CHIPS, 2)]
    rule = promo(Bundle(((COKE, 1), (CHIPS, 1)), 900), "可乐薯片套餐")
    priced = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=[rule])
    assert priced.total_fen == 2 * 900 + 300
    # The 1.50 per bundle is spread by price: coke 300/1050 -> 43, chips 107.
    assert [a.amount_fen for a in priced.line("a").adjustments] == [-86]
    assert [a.amount_fen for a in priced.line("b").adjustments] == [-214]


@pytest.mark.parametrize(
    ("spend_units", "repeatable", "expected"),
    [
        (3, False, 2250),  # 22.50 < 30.00: nothing
        (4, False, 3000 - 500),  # 30.00: save 5
        (8, False, 6000 - 500),  # once
        (8, True, 6000 - 1000),  # every 30.00
    ],
)
def test_threshold_spend_and_save(spend_units: int, repeatable: bool, expected: int) -> None:
    rule = promo(Threshold(3000, 500, repeatable), "满30减5", scope=only(CHIPS))
    assert total([ln("a", CHIPS, spend_units)], rule) == expected


def test_threshold_scope_and_allocation_sums() -> None:
    lines = [ln("a", CHIPS, 2), ln("b", COKE, 3), ln("c", APPLE)]
    rule = promo(
        Threshold(1000, 100), "满10减1", scope=Scope(categories=frozenset({"饮料", "零食"}))
    )
    priced = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=[rule])
    assert priced.total_fen == 1500 + 900 + 1280 - 100
    assert priced.line("c").adjustments == ()
    assert priced.discount_fen == 100


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (Coupon(amount_fen=500, min_spend_fen=2000), 2250 - 500),
        (Coupon(amount_fen=500, min_spend_fen=3000), 2250),
        (Coupon(percent_bp=1000), 2250 - 225),
        (Coupon(percent_bp=333), 2250 - 75),  # 74.925 -> 75
    ],
)
def test_coupons(rule: Coupon, expected: int) -> None:
    assert total([ln("a", CHIPS, 3)], promo(rule, "优惠券")) == expected


def test_time_window_applies_at_20_and_not_at_19_59_59() -> None:
    evening = Schedule(time_from=time(20, 0))
    rule = promo(PercentOff(3000), "烘焙晚八点七折", scope=only(BREAD), schedule=evening)
    at_20 = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)  # 20:00:00 Shanghai
    before = datetime(2026, 11, 23, 11, 59, 59, tzinfo=UTC)
    assert total([ln("a", BREAD)], rule, at=at_20) == 903  # 12.90 x 70% = 9.03
    assert total([ln("a", BREAD)], rule, at=before) == 1290


def test_day_of_week_validity_store_and_members_only() -> None:
    weekend = promo(PercentOff(1000), "周末九折", schedule=Schedule(days_of_week=frozenset({5, 6})))
    assert total([ln("a", CHIPS)], weekend) == 750  # NOON is a Monday
    other_store = promo(PercentOff(1000), "分店", stores=frozenset({"S02"}))
    assert total([ln("a", CHIPS)], other_store) == 750
    members = promo(PercentOff(1000), "会员专享", members_only=True)
    assert total([ln("a", CHIPS)], members) == 750
    assert total([ln("a", CHIPS)], members, member=MemberContext("M1")) == 675
    ended = promo(PercentOff(1000), "已结束", schedule=Schedule(valid_to=NOON))
    assert total([ln("a", CHIPS)], ended) == 750


def test_tier_and_card_discounts_the_better_one_wins() -> None:
    member = MemberContext("M1", tier_discount_bp=500, card_discount_bp=800)
    priced = price_basket([ln("a", CHIPS, 2)], member=member, store_id="S01", at=NOON)
    assert priced.total_fen == 1500 - 120
    assert [a.name for a in priced.lines[0].adjustments] == ["折扣卡"]


def test_exclusive_group_best_for_the_customer_and_the_choice_flips() -> None:
    half = promo(NthPercent(2, 5000), "第二件半价", scope=only(COKE), group="coke")
    three = promo(QuantityPrice(3, 700), "三罐7元", scope=only(COKE), group="coke")
    # Two cokes: half price on the second (1.50 off) beats nothing from 3-for-7.
    two = price_basket(
        [ln("a", COKE, 2)], member=None, store_id="S01", at=NOON, promotions=[half, three]
    )
    assert (two.total_fen, [a.name for a in two.lines[0].adjustments]) == (450, ["第二件半价"])
    # Three cokes: 3 for 7.00 (2.00 off) beats one half price (1.50 off).
    three_cans = price_basket(
        [ln("a", COKE, 3)], member=None, store_id="S01", at=NOON, promotions=[half, three]
    )
    assert three_cans.total_fen == 700
    assert [a.name for a in three_cans.lines[0].adjustments] == ["三罐7元"]


def test_one_group_combines_promotions_on_different_lines_only() -> None:
    coke = promo(QuantityPrice(3, 700), "三罐7元", scope=only(COKE), group="weekly")
    bread = promo(NthPercent(2, 5000), "面包第二件半价", scope=only(BREAD), group="weekly")
    ten = promo(PercentOff(1000), "九折", group="weekly", promo_id="t")
    lines = [ln("a", COKE, 3), ln("b", BREAD, 2)]
    priced = price_basket(
        lines, member=None, store_id="S01", at=NOON, promotions=[coke, bread, ten]
    )
    # 3-for-7 (2.00) and half price (6.45) beat 10% off everything (3.48).
    assert priced.total_fen == 700 + 1935
    assert [len(p.adjustments) for p in priced.lines] == [1, 1]


def test_item_rules_use_units_up_but_stacking_percentages_apply_on_top() -> None:
    bogo = promo(BuyGet(1, 1), "买一送一", scope=only(COKE), promo_id="a")
    again = promo(BuyGet(1, 1), "又一个买一送一", scope=only(COKE), promo_id="b")
    ten = promo(PercentOff(1000), "全场九折")
    priced = price_basket(
        [ln("a", COKE, 2)], member=None, store_id="S01", at=NOON, promotions=[bogo, again, ten]
    )
    # The two cans paid one 买一送一; the other finds no free units; 10% of 3.00 on top.
    assert priced.total_fen == 270
    assert [a.name for a in priced.lines[0].adjustments] == ["买一送一", "全场九折"]


def test_gifts_overrides_and_cases_are_left_alone() -> None:
    rule = promo(BuyGet(1, 1), "买一送一", scope=only(COKE))
    lines = [
        ln("a", COKE, 1, gift=True),
        ln("b", COKE, 1, override_unit_price_fen=250),
        ln("c", COKE, 1, pack_factor=24),
    ]
    priced = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=[rule])
    assert priced.total_fen == 0 + 250 + 300


# -- invariants over random baskets and promotion sets -----------------------------------

PRODUCTS = list(PRICE)
promotions = st.lists(
    st.one_of(
        st.builds(
            lambda n, p, pid, g: promo(
                QuantityPrice(n, p), f"q{pid}{n}{p}", scope=only(pid), group=g
            ),
            st.integers(2, 4),
            st.integers(100, 3000),
            st.sampled_from(PRODUCTS),
            st.sampled_from(["", "g1"]),
        ),
        st.builds(
            lambda n, bp, pid, g: promo(
                NthPercent(n, bp), f"n{pid}{n}{bp}", scope=only(pid), group=g
            ),
            st.integers(2, 3),
            st.integers(1, 10_000),
            st.sampled_from(PRODUCTS),
            st.sampled_from(["", "g1"]),
        ),
        st.builds(
            lambda b, g, pid: promo(BuyGet(b, g), f"b{pid}{b}{g}", scope=only(pid)),
            st.integers(1, 3),
            st.integers(1, 2),
            st.sampled_from(PRODUCTS),
        ),
        st.builds(
            lambda a, b, p: promo(Bundle(((a, 1), (b, 1)), p), f"u{a}{b}{p}"),
            st.sampled_from(PRODUCTS),
            st.sampled_from(PRODUCTS),
            st.integers(100, 2000),
        ),
        st.builds(
            lambda bp, g: promo(PercentOff(bp), f"p{bp}", group=g),
            st.integers(1, 9000),
            st.sampled_from(["", "g2"]),
        ),
        st.builds(
            lambda t, d, r: promo(Threshold(t, d, r), f"t{t}{d}{r}", group="g2"),
            st.integers(100, 5000),
            st.integers(1, 1000),
            st.booleans(),
        ),
    ),
    max_size=6,
    unique_by=lambda p: p.promo_id,
)
baskets = st.lists(st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 6)), min_size=1, max_size=6)


def _lines(items: list[tuple[int, int]]) -> list[LineInput]:
    return [ln(f"l{i}", pid, units) for i, (pid, units) in enumerate(items)]


@settings(max_examples=300, deadline=None)
@given(baskets, promotions)
def test_invariants(items: list[tuple[int, int]], promos: list[Promotion]) -> None:
    lines = _lines(items)
    priced = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=promos)
    assert all(p.net_amount_fen >= 0 for p in priced.lines)
    assert priced.total_fen <= priced.subtotal_fen
    for p in priced.lines:  # every fen of discount is explained on its line
        assert p.base_amount_fen + sum(a.amount_fen for a in p.adjustments) == p.net_amount_fen
    assert sum(p.discount_fen for p in priced.lines) == priced.discount_fen
    shuffled = price_basket(
        lines[::-1], member=None, store_id="S01", at=NOON, promotions=promos[::-1]
    )
    assert shuffled.total_fen == priced.total_fen
    assert {p.line_id: p for p in shuffled.lines} == {p.line_id: p for p in priced.lines}


@settings(max_examples=300, deadline=None)
@given(baskets, promotions, st.sampled_from(PRODUCTS))
def test_adding_an_item_never_lowers_the_total_unless_a_rule_says_why(
    items: list[tuple[int, int]], promos: list[Promotion], extra: int
) -> None:
    before = price_basket(_lines(items), member=None, store_id="S01", at=NOON, promotions=promos)
    after = price_basket(
        _lines([*items, (extra, 1)]), member=None, store_id="S01", at=NOON, promotions=promos
    )
    if after.total_fen < before.total_fen:

        def applied(priced: object) -> set[str]:
            return {a.code for p in priced.lines for a in p.adjustments}

        assert applied(after) != applied(before) or after.discount_fen > before.discount_fen


@settings(max_examples=200, deadline=None)
@given(baskets, promotions)
def test_the_index_finds_every_promotion_that_matters(
    items: list[tuple[int, int]], promos: list[Promotion]
) -> None:
    from store_server.domain.promotions.catalog_index import PromotionSet

    lines = _lines(items)
    plain = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=promos)
    indexed = price_basket(
        lines, member=None, store_id="S01", at=NOON, promotions=PromotionSet(promos)
    )
    assert indexed == plain
