"""Which promotions can touch a basket, found by product and category.

A store runs hundreds of promotions; a basket meets a handful. Indexing them
by the products and categories they name keeps a scan from testing every
promotion against every line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from store_server.domain.promotions.model import Bundle, BuyGet, Promotion, Scope


class PromotionSet:
    def __init__(self, promotions: Sequence[Promotion]) -> None:
        self.promotions = tuple(promotions)
        self._by_product: dict[int, list[int]] = {}
        self._by_category: dict[str, list[int]] = {}
        self._everywhere: list[int] = []
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

    def __len__(self) -> int:
        return len(self.promotions)

    def for_lines(self, lines: Iterable[tuple[int, str]]) -> list[Promotion]:
        """The promotions that name any of these (product id, category) pairs, or all products."""
        found = set(self._everywhere)
        for product_id, category in lines:
            found.update(self._by_product.get(product_id, ()))
            found.update(self._by_category.get(category, ()))
        return [self.promotions[i] for i in sorted(found)]
