"""Applying promotions to a priced basket: pure, deterministic, explained.

Order of work: item rules (N for P, Nth at X% off, buy X get Y, bundles) use
whole units up, so one unit pays for one promotion's condition only; then
percentages on lines; then basket rules (满减, coupons) on what is left. Each
exclusive group contributes its best set of promotions for the customer,
tried on copies of the basket: several promotions of a group may apply
together only to different lines (3-for-7 on cola and half price on bread),
never two to the same line. Promotions with no group stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations

from store_server.domain.allocation import allocate_capped
from store_server.domain.money import div_round_half_up
from store_server.domain.promotions.model import (
    Bundle,
    BuyGet,
    Coupon,
    NthPercent,
    PercentOff,
    Promotion,
    QuantityPrice,
    Scope,
    Threshold,
    phase,
)

# Up to this many promotions of one group touching a basket, every subset is
# tried; beyond it (rare), each alone and all together.
EXHAUSTIVE_GROUP = 6


@dataclass
class LineState:
    """One line while promotions are applied to it."""

    line_id: str
    product_id: int
    category: str
    unit_price_fen: int  # per whole unit, after the member price
    net_fen: int
    countable: bool  # whole units that item rules may use
    promotable: bool  # not a gift, not a supervisor's price
    free_units: int  # units not yet used by an item rule
    discounts: dict[str, tuple[str, int]] = field(default_factory=dict)  # promo -> (name, fen)

    def copy(self) -> LineState:
        return LineState(
            self.line_id,
            self.product_id,
            self.category,
            self.unit_price_fen,
            self.net_fen,
            self.countable,
            self.promotable,
            self.free_units,
            dict(self.discounts),
        )

    def take(self, promo: Promotion, amount: int) -> None:
        if amount <= 0:
            return
        amount = min(amount, self.net_fen)  # never below zero
        self.net_fen -= amount
        name, before = self.discounts.get(promo.promo_id, (promo.name, 0))
        self.discounts[promo.promo_id] = (name, before + amount)


def apply_promotions(
    states: list[LineState],
    promotions: Sequence[Promotion],
    *,
    store_id: str,
    at: datetime,
    member: bool,
) -> list[LineState]:
    groups: dict[str, list[Promotion]] = {}
    for promo in promotions:
        if promo.eligible(store_id=store_id, at=at, member=member):
            groups.setdefault(promo.group or f"\x00{promo.promo_id}", []).append(promo)
    order = sorted(
        groups.items(),
        key=lambda kv: (min(phase(p.rule) for p in kv[1]), -max(p.priority for p in kv[1]), kv[0]),
    )
    lines = _LineMap(states)
    for _, promos in order:
        candidates = [p for p in promos if lines.of(p, states)]
        if len(candidates) == 1 and not candidates[0].group:
            # A promotion that stacks: nothing to choose, apply it in place.
            promo = candidates[0]
            _RULES[type(promo.rule)](promo, states, lines.of(promo, states))
        elif candidates and all(phase(p.rule) > 0 for p in candidates):
            _best_independent(states, candidates, lines)
        elif candidates:
            states = _best(states, candidates, lines)
    return states


def _best_independent(states: list[LineState], candidates: list[Promotion],
                      lines: _LineMap) -> None:
    """A group of percentages and basket rules: choose without trying each set.

    These rules use no units up, so on disjoint lines they do not interact:
    the saving of a set is the sum of its members' savings, each computed
    directly from the lines' amounts. Search the sets of promotions with
    disjoint lines (pruned by the best still possible), apply the winner.
    """
    items = []
    for promo in sorted(candidates, key=lambda p: (-p.priority, p.promo_id)):
        near = lines.of(promo, states)
        gain = _direct_gain(promo, states, near)
        if gain > 0:
            items.append((gain, frozenset(near), promo))
    items.sort(key=lambda item: -item[0])
    best: tuple[int, list[Promotion]] = (0, [])

    def search(start: int, used: frozenset[int], gain: int, chosen: list[Promotion]) -> None:
        nonlocal best
        if gain > best[0]:
            best = (gain, list(chosen))
        for k in range(start, len(items)):
            if gain + sum(g for g, _, _ in items[k:]) <= best[0]:
                return  # even taking everything left cannot win
            g, near, promo = items[k]
            if not near & used:
                chosen.append(promo)
                search(k + 1, used | near, gain + g, chosen)
                chosen.pop()

    search(0, frozenset(), 0, [])
    for promo in best[1]:
        _RULES[type(promo.rule)](promo, states, lines.of(promo, states))


def _direct_gain(promo: Promotion, states: list[LineState], near: Sequence[int]) -> int:
    """What a percentage or basket rule would save on these lines, without applying it."""
    rule = promo.rule
    eligible = [states[i].net_fen for i in near if states[i].promotable
                and promo.scope.matches(states[i].product_id, states[i].category)]
    if isinstance(rule, PercentOff):
        return sum(min(div_round_half_up(net * rule.percent_bp, 10_000), net)
                   for net in eligible)
    spend = sum(eligible)
    if isinstance(rule, Threshold):
        times = spend // rule.threshold_fen
        return min((times if rule.repeatable else min(times, 1)) * rule.discount_fen, spend)
    if isinstance(rule, Coupon):
        if spend < rule.min_spend_fen:
            return 0
        return min(rule.amount_fen or div_round_half_up(spend * rule.percent_bp, 10_000), spend)
    raise TypeError(f"{type(rule).__name__} uses units up: not a direct rule")


class _LineMap:
    """Line indexes by product and by category, so a scope finds its lines directly."""

    def __init__(self, states: list[LineState]) -> None:
        self.count = len(states)
        self._cache: dict[str, list[int]] = {}
        self.by_product: dict[int, list[int]] = {}
        self.by_category: dict[str, list[int]] = {}
        for i, s in enumerate(states):
            self.by_product.setdefault(s.product_id, []).append(i)
            self.by_category.setdefault(s.category, []).append(i)

    def of(self, promo: Promotion, states: list[LineState]) -> list[int]:
        """Indexes of the lines a promotion could change (promotable, not yet free)."""
        return [i for i in self._near(promo) if states[i].promotable and states[i].net_fen > 0]

    def _near(self, promo: Promotion) -> list[int]:
        """The lines a promotion's scopes name, whatever their state (computed once)."""
        found = self._cache.get(promo.promo_id)
        if found is not None:
            return found
        indexes: set[int] = set()
        for scope in _scopes(promo):
            if not scope.product_ids and not scope.categories:
                indexes.update(range(self.count))
                break
            for pid in scope.product_ids:
                indexes.update(self.by_product.get(pid, ()))
            for category in scope.categories:
                indexes.update(self.by_category.get(category, ()))
        self._cache[promo.promo_id] = found = sorted(indexes)
        return found


def _scopes(promo: Promotion) -> list[Scope]:
    if isinstance(promo.rule, Bundle):
        return [Scope(product_ids=frozenset(pid for pid, _ in promo.rule.items))]
    if isinstance(promo.rule, BuyGet) and promo.rule.get_scope is not None:
        return [promo.scope, promo.rule.get_scope]
    return [promo.scope]


def _subsets(candidates: list[Promotion]) -> Iterator[tuple[Promotion, ...]]:
    ordered = sorted(candidates, key=lambda p: (-p.priority, p.promo_id))
    if len(ordered) <= EXHAUSTIVE_GROUP:
        for size in range(1, len(ordered) + 1):
            yield from combinations(ordered, size)
    else:
        yield from ((p,) for p in ordered)
        yield tuple(ordered)


def _best(
    states: list[LineState],
    candidates: list[Promotion],
    lines: _LineMap,
) -> list[LineState]:
    """The subset of one group's promotions that saves the customer most.

    Each try copies only the lines its promotions can change; the rest are
    shared with the basket as it was (nothing writes to them).
    """
    touched = {p.promo_id: lines.of(p, states) for p in candidates}
    best, best_gain = states, 0
    for subset in _subsets(candidates):
        copied = sorted({i for p in subset for i in touched[p.promo_id]})
        trial = list(states)
        for i in copied:
            trial[i] = states[i].copy()
        for promo in sorted(subset, key=lambda p: (phase(p.rule), -p.priority, p.promo_id)):
            _RULES[type(promo.rule)](promo, trial, touched[promo.promo_id])
        ids = {p.promo_id for p in subset}
        if any(
            len(ids & trial[i].discounts.keys() - states[i].discounts.keys()) > 1 for i in copied
        ):
            continue  # exclusive: no line may take two promotions of one group
        gain = sum(states[i].net_fen - trial[i].net_fen for i in copied)
        if gain > best_gain:  # ties keep the earlier (smaller, higher-priority) set
            best, best_gain = trial, gain
    return best


# -- units ---------------------------------------------------------------


def _units(states: list[LineState], scope: Scope, near: Sequence[int]) -> list[tuple[int, int]]:
    """Free whole units in scope as (price, line index), dearest first, stable.

    `near` are the only lines worth looking at (the promotion's, from _LineMap).
    """
    out = []
    for i in near:
        s = states[i]
        if (
            s.countable
            and s.promotable
            and s.free_units
            and scope.matches(s.product_id, s.category)
        ):
            out.extend([(s.unit_price_fen, i)] * s.free_units)
    out.sort(key=lambda u: (-u[0], states[u[1]].line_id))
    return out


def _spread(
    promo: Promotion, states: list[LineState], units: Sequence[tuple[int, int]], discount: int
) -> None:
    """Give `discount` to the lines of `units` in proportion to their prices, and use them."""
    discount = min(discount, sum(price for price, _ in units))
    for (_, i), part in zip(units, allocate_capped(discount, [p for p, _ in units]), strict=True):
        states[i].take(promo, part)
    for _, i in units:
        states[i].free_units -= 1


def _quantity_price(promo: Promotion, states: list[LineState], near: Sequence[int]) -> None:
    rule: QuantityPrice = promo.rule
    units = _units(states, promo.scope, near)
    for start in range(0, len(units) - rule.quantity + 1, rule.quantity):
        chunk = units[start : start + rule.quantity]
        total = sum(price for price, _ in chunk)
        if total > rule.price_fen:
            _spread(promo, states, chunk, total - rule.price_fen)


def _nth_percent(promo: Promotion, states: list[LineState], near: Sequence[int]) -> None:
    rule: NthPercent = promo.rule
    units = _units(states, promo.scope, near)
    for start in range(0, len(units) - rule.nth + 1, rule.nth):
        chunk = units[start : start + rule.nth]
        price, i = chunk[-1]  # the cheapest of the set
        states[i].take(promo, div_round_half_up(price * rule.percent_bp, 10_000))
        for _, j in chunk:
            states[j].free_units -= 1


def _buy_get(promo: Promotion, states: list[LineState], near: Sequence[int]) -> None:
    rule: BuyGet = promo.rule
    if rule.get_scope is None:
        units = _units(states, promo.scope, near)
        size = rule.buy + rule.get
        for start in range(0, len(units) - size + 1, size):
            chunk = units[start : start + size]
            free = chunk[rule.buy :]  # the cheapest of each set go free
            for price, i in free:
                states[i].take(promo, price)
            for _, i in chunk:
                states[i].free_units -= 1
        return
    buying = _units(states, promo.scope, near)
    sets = len(buying) // rule.buy
    reserved = buying[: sets * rule.buy]
    for _, i in reserved:
        states[i].free_units -= 1
    gifts = sorted(_units(states, rule.get_scope, near), key=lambda u: (u[0], states[u[1]].line_id))
    gifts = gifts[: sets * rule.get]
    used_sets = -(-len(gifts) // rule.get) if gifts else 0
    for _, i in reserved[used_sets * rule.buy :]:  # sets that found nothing to give back
        states[i].free_units += 1
    for price, i in gifts:
        states[i].take(promo, price)
        states[i].free_units -= 1


def _bundle(promo: Promotion, states: list[LineState], near: Sequence[int]) -> None:
    rule: Bundle = promo.rule
    pools = [
        (_units(states, Scope(product_ids=frozenset({pid})), near), k) for pid, k in rule.items
    ]
    sets = min((len(units) // k for units, k in pools), default=0)
    for n in range(sets):
        chunk = [u for units, k in pools for u in units[n * k : (n + 1) * k]]
        total = sum(price for price, _ in chunk)
        if total <= rule.price_fen:
            break
        _spread(promo, states, chunk, total - rule.price_fen)


def _percent_off(promo: Promotion, states: list[LineState], near: Sequence[int]) -> None:
    rule: PercentOff = promo.rule
    for i in near:
        s = states[i]
        if s.promotable and promo.scope.matches(s.product_id, s.category):
            s.take(promo, div_round_half_up(s.net_fen * rule.percent_bp, 10_000))


def _basket(
    promo: Promotion,
    states: list[LineState],
    near: Sequence[int],
    discount_of: Callable[[int], int],
) -> None:
    lines = [
        states[i]
        for i in near
        if states[i].promotable
        and states[i].net_fen > 0
        and promo.scope.matches(states[i].product_id, states[i].category)
    ]
    spend = sum(s.net_fen for s in lines)
    discount = min(discount_of(spend), spend)
    if discount > 0:
        for s, part in zip(
            lines, allocate_capped(discount, [s.net_fen for s in lines]), strict=True
        ):
            s.take(promo, part)


def _threshold(promo: Promotion, states: list[LineState], near: Sequence[int]) -> None:
    rule: Threshold = promo.rule

    def discount(spend: int) -> int:
        times = spend // rule.threshold_fen
        return (times if rule.repeatable else min(times, 1)) * rule.discount_fen

    _basket(promo, states, near, discount)


def _coupon(promo: Promotion, states: list[LineState], near: Sequence[int]) -> None:
    rule: Coupon = promo.rule

    def discount(spend: int) -> int:
        if spend < rule.min_spend_fen:
            return 0
        return rule.amount_fen or div_round_half_up(spend * rule.percent_bp, 10_000)

    _basket(promo, states, near, discount)


_RULES: dict[type, Callable[[Promotion, list[LineState], Sequence[int]], None]] = {
    QuantityPrice: _quantity_price,
    NthPercent: _nth_percent,
    BuyGet: _buy_get,
    Bundle: _bundle,
    PercentOff: _percent_off,
    Threshold: _threshold,
    Coupon: _coupon,
}
