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

from store_server.domain.allocation import allocate_capped, fit_caps
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


@dataclass(slots=True)
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
        if amount > self.net_fen:
            amount = self.net_fen  # never below zero
        self.net_fen -= amount
        found = self.discounts.get(promo.promo_id)
        self.discounts[promo.promo_id] = (
            (promo.name, amount) if found is None else (found[0], found[1] + amount)
        )


class Prepared:
    """What the engine needs of one promotion that no basket changes (built once per set)."""

    __slots__ = (
        "always",
        "apply",
        "categories",
        "everywhere",
        "group_key",
        "members_only",
        "phase",
        "priority",
        "product_ids",
        "promo",
        "promo_id",
        "schedule",
        "solo_key",
        "stores",
    )

    def __init__(self, promo: Promotion) -> None:
        self.promo = promo
        self.promo_id = promo.promo_id
        self.group_key = promo.group or f"\x00{promo.promo_id}"
        self.phase = phase(promo.rule)
        self.priority = promo.priority
        self.apply = _RULES[type(promo.rule)]
        scopes = _scopes(promo)
        self.everywhere = any(not s.product_ids and not s.categories for s in scopes)
        self.product_ids = frozenset().union(*(s.product_ids for s in scopes))
        self.categories = frozenset().union(*(s.categories for s in scopes))
        self.members_only = promo.members_only
        self.stores = promo.stores
        self.schedule = sch = promo.schedule
        # On at any time: no need to ask the schedule (Schedule.active would say yes).
        self.always = (
            sch.valid_from is None
            and sch.valid_to is None
            and not sch.days_of_week
            and sch.time_from is None
            and sch.time_to is None
        )
        self.solo_key = (self.phase, -self.priority, self.group_key)


def apply_promotions(
    states: list[LineState],
    promotions: Sequence[Promotion],
    *,
    store_id: str,
    at: datetime,
    member: bool,
) -> list[LineState]:
    """Apply promotions to lines given in line_id order (the order pricing works in)."""
    return apply_prepared(
        states, [Prepared(p) for p in promotions], store_id=store_id, at=at, member=member
    )


def apply_prepared(
    states: list[LineState],
    promotions: Sequence[Prepared],
    *,
    store_id: str,
    at: datetime,
    member: bool,
    near: dict[str, list[int]] | None = None,
) -> list[LineState]:
    """apply_promotions for promotions prepared ahead (a PromotionSet keeps them).

    `near`, if given, holds by promotion id the indexes of the lines each
    promotion's scopes name (ascending); promotions missing from it are looked up.
    A promotion naming no line of the basket takes no part, not even in its
    group's place in the order: the answer is the same whether or not an
    index (PromotionSet) left it out beforehand.
    """
    lines = _LineMap(states, near)
    groups: dict[str, list[Prepared]] = {}
    for prep in promotions:
        # Promotion.eligible, with what does not change read once.
        if prep.members_only and not member:
            continue
        if prep.stores and store_id not in prep.stores:
            continue
        if (prep.always or prep.schedule.active(at)) and lines.named(prep):
            found = groups.get(prep.group_key)
            if found is None:
                groups[prep.group_key] = [prep]
            else:
                found.append(prep)
    keyed = []
    for key, preps in groups.items():
        if len(preps) == 1:
            keyed.append((preps[0].solo_key, preps))
        else:
            first = min(p.phase for p in preps)
            keyed.append(((first, -max(p.priority for p in preps), key), preps))
    keyed.sort(key=_first)  # group keys are unique: the lists are never compared
    for _, preps in keyed:
        candidates = []
        touched = []
        # Nothing changes the lines while a group's candidates are found, so
        # promotions naming the same lines (store-wide ones) share one list.
        live: dict[int, list[int]] = {}
        for prep in preps:
            found = lines.of(prep, states, live)
            if found:
                candidates.append(prep)
                touched.append(found)
        if not candidates:
            continue
        if len(candidates) == 1:
            prep = candidates[0]
            if not prep.promo.group or prep.phase > 0:
                # Nothing to choose: a promotion that stacks, or a percentage or
                # basket rule alone in its group (it applies exactly when it
                # saves: one that saves nothing changes no line). Apply it in place.
                prep.apply(prep.promo, states, touched[0])
            else:
                states = _best_one(states, prep, touched[0])
        elif all(p.phase > 0 for p in candidates):
            _best_independent(states, candidates, touched)
        else:
            states = _best(states, candidates, touched)
    return states


def _first(item: tuple) -> object:
    return item[0]


def _best_independent(
    states: list[LineState], candidates: list[Prepared], touched: list[list[int]]
) -> None:
    """A group of percentages and basket rules: choose without trying each set.

    These rules use no units up, so on disjoint lines they do not interact:
    the saving of a set is the sum of its members' savings, each computed
    directly from the lines' amounts. Search the sets of promotions with
    disjoint lines (pruned by the best still possible), apply the winner.
    Applying one winner changes only its own lines, so the others' lines
    (`touched`) stay as they were found.
    """
    items = []
    ordered = sorted(
        zip(candidates, touched, strict=True), key=lambda c: (-c[0].priority, c[0].promo_id)
    )
    # Candidates on the same lines (apply_prepared shares their list) share
    # the spend and the set: a store's several 满减 tiers all name every line.
    spends: dict[int, int] = {}
    sets: dict[int, frozenset[int]] = {}
    for prep, near in ordered:
        gain = _direct_gain(prep.promo, states, near, spends)
        if gain > 0:
            near_set = sets.get(id(near))
            if near_set is None:
                near_set = sets[id(near)] = frozenset(near)
            items.append((gain, near_set, prep, near))
    if not items:
        return
    if len(items) == 1:
        _, _, prep, near = items[0]
        prep.apply(prep.promo, states, near)
        return
    items.sort(key=lambda item: -item[0])
    # left[k]: the gain of items[k:] all together, the most a search from k can add.
    left = [0] * (len(items) + 1)
    for k in range(len(items) - 1, -1, -1):
        left[k] = left[k + 1] + items[k][0]
    best: tuple[int, list[tuple[Prepared, list[int]]]] = (0, [])

    def search(
        start: int, used: frozenset[int], gain: int, chosen: list[tuple[Prepared, list[int]]]
    ) -> None:
        nonlocal best
        if gain > best[0]:
            best = (gain, list(chosen))
        for k in range(start, len(items)):
            if gain + left[k] <= best[0]:
                return  # even taking everything left cannot win
            g, near_set, prep, near = items[k]
            if near_set.isdisjoint(used):
                chosen.append((prep, near))
                search(k + 1, used | near_set, gain + g, chosen)
                chosen.pop()

    search(0, frozenset(), 0, [])
    for prep, near in best[1]:
        prep.apply(prep.promo, states, near)


def _direct_gain(
    promo: Promotion, states: list[LineState], near: Sequence[int], spends: dict[int, int]
) -> int:
    """What a percentage or basket rule would save on these lines, without applying it.

    `near` are the rule's lines as _LineMap.of finds them: in its scope,
    promotable, with something left to pay, so every one of them counts.
    `spends` keeps what those lines cost by id(near), for rules sharing them.
    """
    rule = promo.rule
    if isinstance(rule, PercentOff):
        bp = rule.percent_bp
        return sum(
            [min(_half_up(net * bp, 10_000), net) for net in [states[i].net_fen for i in near]]
        )
    spend = spends.get(id(near))
    if spend is None:
        spend = spends[id(near)] = sum([states[i].net_fen for i in near])
    if isinstance(rule, Threshold):
        times = spend // rule.threshold_fen
        return min((times if rule.repeatable else min(times, 1)) * rule.discount_fen, spend)
    if isinstance(rule, Coupon):
        if spend < rule.min_spend_fen:
            return 0
        return min(rule.amount_fen or div_round_half_up(spend * rule.percent_bp, 10_000), spend)
    raise TypeError(f"{type(rule).__name__} uses units up: not a direct rule")


def _half_up(numerator: int, denominator: int) -> int:
    """div_round_half_up, with the common case (nothing negative) done in one division."""
    if numerator >= 0 and denominator > 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return div_round_half_up(numerator, denominator)


class _LineMap:
    """Line indexes by product and by category, so a scope finds its lines directly."""

    def __init__(self, states: list[LineState], near: dict[str, list[int]] | None) -> None:
        self.states = states
        self.count = len(states)
        self._cache: dict[int, list[int]] = {}  # by id(prep): promotion ids may repeat
        self._given = near or {}
        self.by_product: dict[int, list[int]] | None = None
        self.by_category: dict[str, list[int]] = {}

    def of(self, prep: Prepared, states: list[LineState], live: dict[int, list[int]]) -> list[int]:
        """Indexes of the lines a promotion could change (promotable, not yet free).

        `live` keeps the answers by id of the scope's line list while the lines
        do not change; the lists it returns are shared, so no one writes to them.
        """
        found = self.named(prep)
        out = live.get(id(found))
        if out is None:
            out = live[id(found)] = [
                i for i in found if states[i].promotable and states[i].net_fen > 0
            ]
        return out

    def named(self, prep: Prepared) -> list[int]:
        """The lines a promotion's scopes name, whatever their state."""
        found = self._given.get(prep.promo_id)
        if found is None:
            found = self._cache.get(id(prep))
            if found is None:
                found = self._near(prep)
        return found

    def _near(self, prep: Prepared) -> list[int]:
        """The lines a promotion's scopes name, whatever their state (computed once)."""
        if prep.everywhere:
            found = list(range(self.count))
        else:
            if self.by_product is None:
                self.by_product = {}
                for i, s in enumerate(self.states):  # product and category never change
                    self.by_product.setdefault(s.product_id, []).append(i)
                    self.by_category.setdefault(s.category, []).append(i)
            indexes: set[int] = set()
            by_product, by_category = self.by_product, self.by_category
            if len(prep.product_ids) < len(by_product):
                for pid in prep.product_ids:
                    hit = by_product.get(pid)
                    if hit:
                        indexes.update(hit)
            else:
                for pid, hit in by_product.items():
                    if pid in prep.product_ids:
                        indexes.update(hit)
            for category in prep.categories:
                hit = by_category.get(category)
                if hit:
                    indexes.update(hit)
            found = sorted(indexes)
        self._cache[id(prep)] = found
        return found


def _scopes(promo: Promotion) -> list[Scope]:
    if isinstance(promo.rule, Bundle):
        return [Scope(product_ids=frozenset(pid for pid, _ in promo.rule.items))]
    if isinstance(promo.rule, BuyGet) and promo.rule.get_scope is not None:
        return [promo.scope, promo.rule.get_scope]
    return [promo.scope]


def _subsets(
    candidates: list[tuple[Prepared, list[int]]],
) -> Iterator[tuple[tuple[Prepared, list[int]], ...]]:
    ordered = sorted(candidates, key=lambda c: (-c[0].priority, c[0].promo_id))
    if len(ordered) <= EXHAUSTIVE_GROUP:
        for size in range(1, len(ordered) + 1):
            yield from combinations(ordered, size)
    else:
        yield from ((c,) for c in ordered)
        yield tuple(ordered)


def _best_one(states: list[LineState], prep: Prepared, near: list[int]) -> list[LineState]:
    """_best for a group with one promotion touching the basket: it applies if it saves."""
    trial = _try(states, prep, near)
    return trial if trial is not None else states


def _try(states: list[LineState], prep: Prepared, near: list[int]) -> list[LineState] | None:
    """One promotion on copies of its lines: the basket after it, or None if it saves nothing."""
    trial = list(states)
    for i in near:
        trial[i] = states[i].copy()
    prep.apply(prep.promo, trial, near)
    gain = 0
    for i in near:
        gain += states[i].net_fen - trial[i].net_fen
    return trial if gain > 0 else None


def _best_apart(
    states: list[LineState], candidates: list[Prepared], touched: list[list[int]]
) -> list[LineState]:
    """_best for promotions on lines apart (no line shared), at most EXHAUSTIVE_GROUP of them.

    Each reads and writes only its own lines, so a set saves the sum of what
    its members save alone, and no line can take two of them. The first set
    _best's search would settle on is then the set of those that save
    something: every smaller set saves less, and so does any other of that size.
    """
    best = states
    for prep, near in zip(candidates, touched, strict=True):
        trial = _try(states, prep, near)
        if trial is not None:
            if best is states:
                best = list(states)
            for i in near:
                best[i] = trial[i]
    return best


def _best(
    states: list[LineState],
    candidates: list[Prepared],
    touched: list[list[int]],
) -> list[LineState]:
    """The subset of one group's promotions that saves the customer most.

    Each try copies only the lines its promotions can change; the rest are
    shared with the basket as it was (nothing writes to them).
    """
    if len(candidates) <= EXHAUSTIVE_GROUP and sum(map(len, touched)) == len(set().union(*touched)):
        return _best_apart(states, candidates, touched)
    return _tried(states, candidates, touched)


def _tried(
    states: list[LineState], candidates: list[Prepared], touched: list[list[int]]
) -> list[LineState]:
    """_best by trying the sets of _subsets one by one (every set, up to
    EXHAUSTIVE_GROUP promotions): what each shortcut must choose the same as."""
    best, best_gain = states, 0
    for subset in _subsets(list(zip(candidates, touched, strict=True))):
        if len(subset) == 1:
            copied = subset[0][1]
        else:
            copied = sorted({i for _, near in subset for i in near})
        trial = list(states)
        for i in copied:
            trial[i] = states[i].copy()
        for prep, near in sorted(subset, key=lambda c: (c[0].phase, -c[0].priority, c[0].promo_id)):
            prep.apply(prep.promo, trial, near)
        if len(subset) > 1 and _shares_a_line(subset, states, trial):
            continue  # exclusive: no line may take two promotions of one group
        gain = sum(states[i].net_fen - trial[i].net_fen for i in copied)
        if gain > best_gain:  # ties keep the earlier (smaller, higher-priority) set
            best, best_gain = trial, gain
    return best


def _shares_a_line(
    subset: tuple[tuple[Prepared, list[int]], ...],
    states: list[LineState],
    trial: list[LineState],
) -> bool:
    """Whether two promotions of a tried set apply to one line.

    A percentage or basket rule applies to every line it reads (its spend
    counts each one, even one whose share rounds to nothing), as
    _best_independent counts it; an item rule to the lines whose units it
    discounted.
    """
    claimed: set[int] = set()
    for prep, near in subset:
        if prep.phase > 0:
            lines = near
        else:
            promo_id = prep.promo_id
            lines = [
                i
                for i in near
                if promo_id in trial[i].discounts and promo_id not in states[i].discounts
            ]
        for i in lines:
            if i in claimed:
                return True
            claimed.add(i)
    return False


# -- units ---------------------------------------------------------------


def _units(states: list[LineState], scope: Scope, near: Sequence[int]) -> list[tuple[int, int]]:
    """Free whole units in scope as (price, line index), dearest first, stable.

    `near` are the only lines worth looking at (the promotion's, from _LineMap),
    in ascending index order; the lines come in line_id order (pricing sorts
    them), so a stable sort by price alone breaks ties by line_id.
    """
    products, categories = scope.product_ids, scope.categories
    everywhere = not products and not categories
    out = []
    for i in near:
        s = states[i]
        if (
            s.countable
            and s.promotable
            and s.free_units
            and (everywhere or s.product_id in products or s.category in categories)
        ):
            out.extend([(s.unit_price_fen, i)] * s.free_units)
    out.sort(key=_price, reverse=True)  # reverse keeps equal prices in their order
    return out


def _price(unit: tuple[int, int]) -> int:
    return unit[0]


def _spread(
    promo: Promotion, states: list[LineState], units: Sequence[tuple[int, int]], discount: int
) -> None:
    """Give `discount` to the lines of `units` in proportion to their prices, and use them."""
    prices = [price for price, _ in units]
    discount = min(discount, sum(prices))
    for (_, i), part in zip(units, _allocate(discount, prices), strict=True):
        states[i].take(promo, part)
    for _, i in units:
        states[i].free_units -= 1


def _allocate(total: int, caps: list[int]) -> list[int]:
    """allocation.allocate_capped, with the common case (nothing negative) done here.

    The same parts: each total x cap / sum rounded half up, the largest cap
    (the first of equals) takes the remainder, then no part above its cap.
    """
    weight_sum = sum(caps)
    if total < 0 or total > weight_sum or weight_sum <= 0 or min(caps) < 0:
        return allocate_capped(total, caps)
    twice = 2 * weight_sum
    parts = [(2 * total * cap + weight_sum) // twice for cap in caps]
    parts[caps.index(max(caps))] += total - sum(parts)
    return fit_caps(parts, caps)


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
    gifts = sorted(_units(states, rule.get_scope, near), key=_price)  # cheapest first, stable
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
    bp = rule.percent_bp
    products, categories = promo.scope.product_ids, promo.scope.categories
    everywhere = not products and not categories
    for i in near:
        s = states[i]
        if s.promotable and (everywhere or s.product_id in products or s.category in categories):
            s.take(promo, _half_up(s.net_fen * bp, 10_000))


def _basket(
    promo: Promotion,
    states: list[LineState],
    near: Sequence[int],
    discount_of: Callable[[int], int],
) -> None:
    # `near` are the rule's promotable lines in its scope (_LineMap.of); a
    # promotion tried before it in the same set may have left one nothing to pay.
    lines = [s for s in map(states.__getitem__, near) if s.net_fen > 0]
    caps = [s.net_fen for s in lines]
    spend = sum(caps)
    discount = min(discount_of(spend), spend)
    if discount > 0:
        promo_id, name = promo.promo_id, promo.name
        for s, part in zip(lines, _allocate(discount, caps), strict=True):
            # LineState.take, inline: a basket rule gives a part to every line in scope.
            if part <= 0:
                continue
            if part > s.net_fen:
                part = s.net_fen
            s.net_fen -= part
            found = s.discounts.get(promo_id)
            s.discounts[promo_id] = (name, part) if found is None else (found[0], found[1] + part)


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
