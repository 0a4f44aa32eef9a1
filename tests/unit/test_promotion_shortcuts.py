"""The engine's shortcuts choose what trying every set of a group's promotions chooses.

apply_prepared takes shortcuts on the scan path: a lone percentage or basket
rule is applied in place, a group of percentages and basket rules is searched
by their direct savings (_best_independent), promotions on lines apart are
tried one by one (_best_apart), and promotions naming the same lines share
one list. Here a reference engine sends every group with a choice through
_tried (each set tried on copies of the basket), and pricing must come out
the same, line for line and adjustment for adjustment.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store_server.domain import pricing
from store_server.domain.pricing import LineInput, price_basket
from store_server.domain.promotions import (
    Bundle,
    BuyGet,
    Coupon,
    NthPercent,
    PercentOff,
    Promotion,
    QuantityPrice,
    Scope,
    Threshold,
    engine,
)
from store_server.domain.promotions.catalog_index import PromotionSet
from store_server.domain.promotions.engine import LineState, Prepared
from tests.unit.test_promotions import CATEGORY, NOON, PRICE, PRODUCTS, ln, only

GROUPS = ["", "a", "b"]
SCOPES = st.one_of(
    st.just(Scope()),
    st.sampled_from(PRODUCTS).map(only),
    st.sampled_from(sorted(set(CATEGORY.values()))).map(lambda c: Scope(categories=frozenset({c}))),
)


def _promotion(n: int, rule: object, scope: Scope, group: str, priority: int) -> Promotion:
    return Promotion(f"x{n}", f"促销{n}", rule, scope=scope, group=group, priority=priority)


RULES = st.one_of(
    st.builds(PercentOff, st.integers(1, 9000)),
    st.builds(Threshold, st.integers(100, 4000), st.integers(1, 900), st.booleans()),
    st.builds(Coupon, st.integers(0, 500), st.just(0), st.integers(0, 3000)),
    st.builds(Coupon, st.just(0), st.integers(1, 5000), st.integers(0, 3000)),
    st.builds(QuantityPrice, st.integers(2, 3), st.integers(100, 2000)),
    st.builds(NthPercent, st.integers(2, 3), st.integers(1, 10_000)),
    st.builds(BuyGet, st.integers(1, 2), st.integers(1, 2)),
)
PROMOTIONS = st.lists(
    st.tuples(
        RULES,
        SCOPES,
        st.sampled_from(GROUPS),
        st.integers(0, 2),
    ),
    max_size=7,
).map(lambda specs: [_promotion(n, *spec) for n, spec in enumerate(specs)])
BUNDLES = st.lists(
    st.builds(
        lambda a, b, price, group, n: Promotion(
            f"u{n}", f"捆绑{n}", Bundle(((a, 1), (b, 1)), price), group=group
        ),
        st.sampled_from(PRODUCTS),
        st.sampled_from(PRODUCTS),
        st.integers(100, 2000),
        st.sampled_from(GROUPS),
        st.integers(0, 3),
    ),
    max_size=2,
    unique_by=lambda p: p.promo_id,
)
BASKETS = st.lists(st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 5)), min_size=1, max_size=8)


def reference_apply(
    states: list[LineState],
    promotions: list[Prepared],
    *,
    store_id: str,
    at: datetime,
    member: bool,
    near: dict[str, list[int]] | None = None,
) -> list[LineState]:
    """apply_prepared without shortcuts: same groups in the same order, every
    group with a choice decided by _tried."""

    def named(prep: Prepared) -> list[int]:
        scopes = engine._scopes(prep.promo)
        return [
            i
            for i, s in enumerate(states)
            if any(sc.matches(s.product_id, s.category) for sc in scopes)
        ]

    groups: dict[str, list[Prepared]] = {}
    for prep in promotions:
        # Only promotions naming a line of the basket, so the groups' order
        # does not depend on promotions that cannot apply.
        if prep.promo.eligible(store_id=store_id, at=at, member=member) and named(prep):
            groups.setdefault(prep.group_key, []).append(prep)
    order = sorted(
        groups.items(),
        key=lambda kv: (
            min(p.phase for p in kv[1]),
            -max(p.priority for p in kv[1]),
            kv[0],
        ),
    )
    for _, preps in order:
        candidates, touched = [], []
        for prep in preps:
            found = [i for i in named(prep) if states[i].promotable and states[i].net_fen > 0]
            if found:
                candidates.append(prep)
                touched.append(found)
        if not candidates:
            continue
        if len(candidates) == 1 and not candidates[0].promo.group:
            candidates[0].apply(candidates[0].promo, states, touched[0])
        else:
            states = engine._tried(states, candidates, touched)
    return states


def _lines(items: list[tuple[int, int]]) -> list[LineInput]:
    return [ln(f"l{i}", pid, units) for i, (pid, units) in enumerate(items)]


@settings(max_examples=400, deadline=None)
@given(BASKETS, PROMOTIONS, BUNDLES)
def test_shortcuts_choose_what_trying_every_set_chooses(
    items: list[tuple[int, int]], promos: list[Promotion], bundles: list[Promotion]
) -> None:
    lines = _lines(items)
    every = [*promos, *bundles]
    fast = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=PromotionSet(every))
    plain = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=every)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pricing, "apply_prepared", reference_apply)
        reference = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=every)
    assert fast == reference
    assert plain == reference


def test_the_reference_is_what_is_compared() -> None:
    """A sanity check of the reference itself: a 满减 group of two tiers over the
    whole basket gives the better tier, spread over the lines by their amounts."""
    lines = _lines([(1, 2), (4, 1)])  # 2 cokes (600) and bread (1290): 1890
    tiers = [
        Promotion("m1", "满10减1", Threshold(1000, 100), group="满减"),
        Promotion("m2", "满18减3", Threshold(1800, 300), group="满减"),
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pricing, "apply_prepared", reference_apply)
        priced = price_basket(lines, member=None, store_id="S01", at=NOON, promotions=tiers)
    assert priced.total_fen == 1890 - 300
    assert [p.net_amount_fen for p in priced.lines] == [600 - 95, 1290 - 205]
    assert {a.code for p in priced.lines for a in p.adjustments} == {"PROMO:m2"}
    assert PRICE[1] == 300
