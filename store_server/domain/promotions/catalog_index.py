"""Which promotions can touch a basket, found by product and category.

A store runs hundreds of promotions; a basket meets a handful. Indexing them
by the products and categories they name keeps a scan from testing every
promotion against every line.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from store_server.domain.promotions.engine import Prepared
from store_server.domain.promotions.model import Bundle, BuyGet, Promotion, Scope
from store_server.domain.schedule_edges import ScheduleEdges

# (product id, category) pairs whose promotions a set keeps: more than the
# products a large store sells in a week; past it the memo starts again.
_HITS_MAX = 20_000


class PromotionSet:
    def __init__(self, promotions: Sequence[Promotion]) -> None:
        self.promotions = tuple(promotions)
        # What the engine needs of each promotion that no basket changes, built once.
        self.prepared = tuple(Prepared(promo) for promo in self.promotions)
        self._unique_ids = len({promo.promo_id for promo in self.promotions}) == len(
            self.promotions
        )
        self._by_product: dict[int, list[int]] = {}
        self._by_category: dict[str, list[int]] = {}
        self._everywhere: list[int] = []
        self._hits: dict[tuple[int, str], tuple[int, ...]] = {}
        for index, promo in enumerate(self.promotions):
            scopes = [promo.scope]
            if isinstance(promo.rule, BuyGet) and promo.rule.get_scope is not None:
                scopes.append(promo.rule.get_scope)
            if isinstance(promo.rule, Bundle):
                scopes = [Scope(product_ids=frozenset(pid for pid, _ in promo.rule.items))]
            if any(not s.product_ids and not s.categories for s in scopes):
                self._everywhere.append(index)
                continue
            for scope in scopes:
                for pid in scope.product_ids:
                    self._by_product.setdefault(pid, []).append(index)
                for category in scope.categories:
                    self._by_category.setdefault(category, []).append(index)

    def _line_hits(self, line: tuple[int, str]) -> tuple[int, ...]:
        """The promotions naming this (product id, category) by product or category,
        each once, kept: the same products are scanned again and again."""
        product_id, category = line
        hits = tuple(
            sorted({*self._by_product.get(product_id, ()), *self._by_category.get(category, ())})
        )
        if len(self._hits) >= _HITS_MAX:
            self._hits.clear()  # rare: dropping all is cheaper than tracking use
        self._hits[line] = hits
        return hits

    @cached_property
    def edges(self) -> ScheduleEdges:
        """When any of these promotions turns on or off (a commit asks whether the
        last scan's pricing still holds: store_server.checkout)."""
        return ScheduleEdges(promo.schedule for promo in self.promotions)

    def __len__(self) -> int:
        return len(self.promotions)

    def for_basket(
        self, lines: Sequence[tuple[int, str]]
    ) -> tuple[list[Prepared], dict[str, list[int]] | None]:
        """The promotions that name any of these lines' products or categories, or
        every product, prepared for the engine (in the set's order), and,
        by promotion id, the indexes of the lines each one names, ascending.

        The lines are (product id, category) in the order the engine works in.
        Without unique promotion ids the second answer is None (the engine then
        finds each promotion's lines itself).
        """
        near: dict[int, list[int]] = {}
        hits_of = self._hits.get
        for position, line in enumerate(lines):
            hits = hits_of(line)
            if hits is None:
                hits = self._line_hits(line)
            for index in hits:
                found = near.get(index)
                if found is None:
                    near[index] = [position]
                else:
                    found.append(position)
        prepared = self.prepared
        if self._everywhere:
            every = list(range(len(lines)))
            for index in self._everywhere:
                near[index] = every  # never written to: the engine only reads them
        chosen = sorted(near)
        if not self._unique_ids:
            return [prepared[i] for i in chosen], None
        return [prepared[i] for i in chosen], {prepared[i].promo_id: near[i] for i in chosen}
