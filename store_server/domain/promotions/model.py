"""What a promotion is: a rule, a scope, a schedule, a group and a priority.

Each rule is its own small class with fields that mean one thing each (a
count is never an amount). Amounts are fen, percentages basis points
(3000 = 30%), quantities whole units of the product.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Scope:
    """Which products a rule looks at; empty means every product."""

    product_ids: frozenset[int] = frozenset()
    categories: frozenset[str] = frozenset()

    def matches(self, product_id: int, category: str) -> bool:
        if not self.product_ids and not self.categories:
            return True
        return product_id in self.product_ids or category in self.categories


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a promotion is on: a validity window, days of the week, a time of day.

    Days are 0 (Monday) to 6; times are local to the store's zone; time_to is
    exclusive, so "after 20:00" is time_from=20:00 and no time_to.
    """

    valid_from: datetime | None = None
    valid_to: datetime | None = None
    days_of_week: frozenset[int] = frozenset()
    time_from: time | None = None
    time_to: time | None = None
    zone: str = "Asia/Shanghai"

    def active(self, at: datetime) -> bool:
        if self.valid_from is not None and at < self.valid_from:
            return False
        if self.valid_to is not None and at >= self.valid_to:
            return False
        if not self.days_of_week and self.time_from is None and self.time_to is None:
            return True  # no local time needed: the common case, kept cheap
        local = at.astimezone(_zone(self.zone))
        if self.days_of_week and local.weekday() not in self.days_of_week:
            return False
        now = local.time()
        if self.time_from is not None and now < self.time_from:
            return False
        return not (self.time_to is not None and now >= self.time_to)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# -- rules: item rules take whole units of countable lines and use them up --


@dataclass(frozen=True, slots=True)
class QuantityPrice:
    """Buy `quantity` for `price_fen` (3 for 10.00); repeats for every full set."""

    quantity: int
    price_fen: int


@dataclass(frozen=True, slots=True)
class NthPercent:
    """Every `nth` unit at `percent_bp` off (第二件半价: nth=2, 5000)."""

    nth: int
    percent_bp: int


@dataclass(frozen=True, slots=True)
class BuyGet:
    """Buy `buy`, get `get` free (买一送一; 搭赠 with another product's scope).

    Same scope: of each buy+get units the cheapest `get` are free. With
    `get_scope`, every `buy` units of the scope earn `get` units of get_scope.
    """

    buy: int
    get: int
    get_scope: Scope | None = None


@dataclass(frozen=True, slots=True)
class Bundle:
    """These products together for `price_fen` (捆绑销售); repeats for every full set."""

    items: tuple[tuple[int, int], ...]  # (product_id, units)
    price_fen: int


# -- line and basket rules: they do not use units up --


@dataclass(frozen=True, slots=True)
class PercentOff:
    """`percent_bp` off every line in scope (a time-window or plain percentage)."""

    percent_bp: int


@dataclass(frozen=True, slots=True)
class Threshold:
    """Spend `threshold_fen` in scope, save `discount_fen` (满减); repeatable or once."""

    threshold_fen: int
    discount_fen: int
    repeatable: bool = False


@dataclass(frozen=True, slots=True)
class Coupon:
    """A redeemed coupon: `amount_fen` off, or `percent_bp` off, above a minimum spend."""

    amount_fen: int = 0
    percent_bp: int = 0
    min_spend_fen: int = 0


Rule = QuantityPrice | NthPercent | BuyGet | Bundle | PercentOff | Threshold | Coupon
ITEM_RULES = (QuantityPrice, NthPercent, BuyGet, Bundle)
LINE_RULES = (PercentOff,)
BASKET_RULES = (Threshold, Coupon)


def phase(rule: Rule) -> int:
    """Item rules first, then percentages on lines, then basket rules on what is left."""
    if isinstance(rule, ITEM_RULES):
        return 0
    return 1 if isinstance(rule, LINE_RULES) else 2


@dataclass(frozen=True, slots=True)
class Promotion:
    promo_id: str
    name: str  # what the receipt prints: "第二件半价", "满100减10"
    rule: Rule
    scope: Scope = field(default_factory=Scope)
    # Promotions of one exclusive group never combine beyond the best set for
    # the customer; "" stacks with everything.
    group: str = ""
    priority: int = 0
    members_only: bool = False
    stores: frozenset[str] = frozenset()  # empty: every store
    schedule: Schedule = field(default_factory=Schedule)

    def eligible(self, *, store_id: str, at: datetime, member: bool) -> bool:
        if self.members_only and not member:
            return False
        if self.stores and store_id not in self.stores:
            return False
        return self.schedule.active(at)
