"""Pricing a 50-line basket with 500 active promotions, in process (target p99 < 2 ms).

The physical reference is the same basket priced with no promotion at all, in
the same run: the ratio is the promotions' cost.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime

from bench.support import measure_pair, verdict
from store_server.domain.pricing import LineInput, price_basket
from store_server.domain.promotions import (
    Bundle,
    BuyGet,
    NthPercent,
    PercentOff,
    Promotion,
    QuantityPrice,
    Scope,
    Threshold,
)
from store_server.domain.promotions.catalog_index import PromotionSet

PRODUCTS = 100_000
CATEGORIES = [f"类{i}" for i in range(16)]
LINES = 50
PROMOTIONS = 500
CALLS = 2_000
AT = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def make_promotions(rng: random.Random, *, categories: list[str] = CATEGORIES) -> list[Promotion]:
    """A large store's week: 480 flyer items, 15 category offers, 5 store-wide ones."""
    out = []
    for i in range(PROMOTIONS):
        pid = rng.randrange(1, PRODUCTS)
        scope = Scope(product_ids=frozenset(rng.sample(range(1, PRODUCTS), 5)))
        kind = i % 5
        if i < 5:  # store-wide
            rule = Threshold(rng.randrange(5000, 20000), rng.randrange(500, 2000), i % 2 == 0)
            scope = Scope()
        elif i < 20:  # category-wide
            rule = (
                PercentOff(rng.randrange(500, 3000))
                if i % 2
                else Threshold(rng.randrange(3000, 10000), rng.randrange(300, 1000))
            )
            scope = Scope(categories=frozenset({rng.choice(categories)}))
        elif kind == 0:
            rule = QuantityPrice(3, rng.randrange(300, 3000))
        elif kind == 1:
            rule = NthPercent(2, 5000)
        elif kind == 2:
            rule = BuyGet(1, 1)
        elif kind == 3:
            rule = Bundle(((pid, 1), (pid + 1, 1)), rng.randrange(300, 2000))
        else:
            rule = PercentOff(rng.randrange(500, 3000))
        # Groups as a store uses them: one 满减 per basket; small groups per product family.
        group = "满减" if isinstance(rule, Threshold) else f"g{i % 60}" if i % 5 < 2 else ""
        out.append(Promotion(f"p{i}", f"促销{i}", rule, scope=scope, group=group, priority=i % 3))
    return out


def run() -> bool:
    rng = random.Random(5)
    promos = make_promotions(rng)
    promo_set = PromotionSet(promos)
    # Half the lines are products some promotion names, as in a real weekly flyer.
    named = sorted({pid for p in promos for pid in p.scope.product_ids})
    baskets = []
    for _ in range(50):
        lines = []
        for n in range(LINES):
            pid = rng.choice(named) if n % 2 else rng.randrange(1, PRODUCTS)
            lines.append(
                LineInput(
                    line_id=f"{n:04d}",
                    product_id=pid,
                    quantity_milli=rng.randint(1, 4) * 1000,
                    unit_price_fen=rng.randrange(100, 5000),
                    category=rng.choice(CATEGORIES),
                )
            )
        baskets.append(lines)
    applied = sum(
        len(p.adjustments)
        for p in price_basket(
            baskets[0], member=None, store_id="S01", at=AT, promotions=promo_set
        ).lines
    )
    plain, with_promos = measure_pair(
        lambda i: price_basket(baskets[i % 50], member=None, store_id="S01", at=AT),
        lambda i: price_basket(
            baskets[i % 50], member=None, store_id="S01", at=AT, promotions=promo_set
        ),
        CALLS,
        label="pricing",
    )
    print(f"\n== pricing, {LINES}-line basket, {PROMOTIONS} active promotions, in process")
    print(f"  no promotions       p50 {plain.p50_ms:6.3f} ms  p99 {plain.p99_ms:6.3f} ms")
    print(
        f"  500 promotions      p50 {with_promos.p50_ms:6.3f} ms  p99 {with_promos.p99_ms:6.3f}"
        f" ms  ({applied} adjustments on the first basket)"
        f"   (target p99 < 2 ms: {verdict(with_promos.p99_ms < 2)})"
    )
    return with_promos.p99_ms < 2


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
