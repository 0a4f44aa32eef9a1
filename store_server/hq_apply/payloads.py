"""Master-data change payloads, as HQ writes them and stores read them.

Pure (no I/O): HQ and the store's applier share these shapes, so what one side
writes the other reads. Every payload is the whole new state of one thing;
money is integer fen, tax rates basis points. Products are named by SKU, never
by a store's own row id; a promotion's definition may name products by SKU
(strings) where the store's format has product ids, and each store maps them
to its own ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from store_server.domain.catalog_import import ProductDraft


class Entity(StrEnum):
    PRODUCT = "product"
    STORE_PRICE = "store_price"
    PRICE_CHANGE = "price_change"
    PROMOTION = "promotion"
    TIER = "tier"
    OPERATOR = "operator"
    CURRENCY = "currency"


# The order a snapshot is applied in: what others refer to comes first.
SNAPSHOT_ORDER: tuple[Entity, ...] = (
    Entity.PRODUCT,
    Entity.STORE_PRICE,
    Entity.PRICE_CHANGE,
    Entity.PROMOTION,
    Entity.TIER,
    Entity.OPERATOR,
    Entity.CURRENCY,
)


class PayloadError(ValueError):
    """A payload the store cannot read (a newer HQ, or a bug): the page is refused."""


def product_payload(draft: ProductDraft) -> dict[str, Any]:
    return {
        "sku": draft.sku,
        "name": draft.name,
        "pinyin": draft.pinyin,
        "category": draft.category,
        "unit": draft.unit,
        "weighed": draft.weighed,
        "plu": draft.plu,
        "tax_rate_bp": draft.tax_rate_bp,
        "retail_price_fen": draft.retail_price_fen,
        "member_price_fen": draft.member_price_fen,
        "cost_fen": draft.cost_fen,
        "status": draft.status,
        "barcodes": [list(b) for b in draft.barcodes],
    }


def _int(payload: Mapping[str, Any], key: str, *, optional: bool = False) -> int | None:
    value = payload.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{key}: {value!r} is not a whole number")
    return value


def _str(payload: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    value = payload.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{key}: {value!r} is not text")
    return value


def draft_from_payload(payload: Mapping[str, Any]) -> ProductDraft:
    """The store's import draft of a product payload (row 0: it came from HQ)."""
    try:
        codes = tuple(
            (str(code), int(pack), None if price is None else int(price))
            for code, pack, price in payload.get("barcodes", [])
        )
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"barcodes: {exc}") from exc
    return ProductDraft(
        row=0,
        sku=str(_str(payload, "sku")),
        name=str(_str(payload, "name")),
        category=str(_str(payload, "category")),
        unit=str(_str(payload, "unit")),
        weighed=bool(payload.get("weighed", False)),
        plu=_str(payload, "plu", optional=True),
        tax_rate_bp=int(_int(payload, "tax_rate_bp") or 0),
        retail_price_fen=int(_int(payload, "retail_price_fen") or 0),
        member_price_fen=_int(payload, "member_price_fen", optional=True),
        cost_fen=_int(payload, "cost_fen", optional=True),
        status=str(_str(payload, "status")),
        pinyin=_str(payload, "pinyin", optional=True),
        barcodes=codes,
    )


def _map_scope(scope: Any, ref: Callable[[Any], Any]) -> Any:
    if not isinstance(scope, dict) or not isinstance(scope.get("product_ids"), list):
        return scope
    return {**scope, "product_ids": [ref(p) for p in scope["product_ids"]]}


def map_product_refs(definition: Mapping[str, Any], ref: Callable[[Any], Any]) -> dict[str, Any]:
    """A copy of a promotion definition with every product reference passed
    through `ref` (scope.product_ids, rule.get_scope.product_ids, rule.items)."""
    out = dict(definition)
    out["scope"] = _map_scope(definition.get("scope"), ref)
    rule = definition.get("rule")
    if isinstance(rule, dict):
        rule = dict(rule)
        if "get_scope" in rule:
            rule["get_scope"] = _map_scope(rule["get_scope"], ref)
        items = rule.get("items")
        if isinstance(items, list):
            rule["items"] = [[ref(i[0]), *i[1:]] if isinstance(i, list) and i else i for i in items]
        out["rule"] = rule
    return out


def skus_of(definition: Mapping[str, Any]) -> set[str]:
    """The SKUs a definition names (its string product references)."""
    found: set[str] = set()

    def note(ref: Any) -> Any:
        if isinstance(ref, str):
            found.add(ref)
        return ref

    map_product_refs(definition, note)
    return found


def resolve_skus(definition: Mapping[str, Any], ids: Mapping[str, int]) -> dict[str, Any]:
    """The definition with SKU strings replaced by this store's product ids."""

    def to_id(ref: Any) -> Any:
        if not isinstance(ref, str):
            return ref
        if ref not in ids:
            raise PayloadError(f"promotion {definition.get('promo_id')}: no product {ref}")
        return ids[ref]

    return map_product_refs(definition, to_id)


def snapshot_required(since: int, *, latest: int, floor: int, max_behind: int) -> bool:
    """Whether a store at revision `since` must start over from a snapshot.

    `floor` is the oldest revision HQ's history still has (0: all of it);
    `max_behind` (0: no limit) is how far behind a store may page instead.
    """
    if since <= 0:
        # A new store: the state is smaller than the whole history (unless
        # there is none yet).
        return latest > 0
    if since > latest:
        return True  # a store ahead of HQ (HQ restored from a backup): start over
    if floor and since < floor - 1:
        return True
    return bool(max_behind) and latest - since > max_behind


def page_end(revisions: list[int], page_size: int, latest: int, since: int) -> tuple[int, bool]:
    """(revision reached, has_more) after a page of `revisions` read up to `latest`.

    A full page ends at its last change and may have more; a short one means
    nothing else of this store up to `latest`, so the store skips to it.
    """
    if len(revisions) >= page_size:
        return revisions[-1], revisions[-1] < latest
    return max(latest, since), False
