"""The pure parts of master data down: when a store needs a snapshot, where a
page leaves it, product payloads, and promotions that name products by SKU."""

from __future__ import annotations

import pytest

from store_server.domain.catalog_import import parse_rows
from store_server.domain.promotions.codec import from_dict
from store_server.hq_apply.payloads import (
    PayloadError,
    draft_from_payload,
    map_product_refs,
    page_end,
    product_payload,
    resolve_skus,
    skus_of,
    snapshot_required,
)


def test_a_new_store_needs_a_snapshot_unless_hq_has_nothing_yet() -> None:
    assert snapshot_required(0, latest=5, floor=0, max_behind=0)
    assert not snapshot_required(0, latest=0, floor=0, max_behind=0)


def test_a_store_behind_the_history_or_too_far_behind_needs_a_snapshot() -> None:
    # History kept from revision 100 on: a store at 99 needs only 100.., at 98 it misses 99.
    assert not snapshot_required(99, latest=200, floor=100, max_behind=0)
    assert snapshot_required(98, latest=200, floor=100, max_behind=0)
    assert not snapshot_required(100, latest=100_100, floor=0, max_behind=100_000)
    assert snapshot_required(100, latest=100_101, floor=0, max_behind=100_000)
    assert not snapshot_required(1, latest=10**9, floor=0, max_behind=0)  # 0: no limit


def test_a_store_ahead_of_hq_starts_over() -> None:
    assert snapshot_required(50, latest=40, floor=0, max_behind=0)


def test_a_full_page_ends_at_its_last_change_a_short_one_at_hqs_latest() -> None:
    assert page_end([11, 12, 13], 3, latest=20, since=10) == (13, True)
    assert page_end([11, 12, 20], 3, latest=20, since=10) == (20, False)
    # Other stores' revisions 13..20 are skipped, not asked for again.
    assert page_end([11, 12], 3, latest=20, since=10) == (20, False)
    assert page_end([], 3, latest=20, since=20) == (20, False)


def _draft(**overrides: str):
    row = {
        "sku": "P1",
        "name": "可口可乐 330ml",
        "category": "饮料",
        "unit": "罐",
        "tax_rate": "13",
        "retail_price": "3.00",
        "member_price": "2.80",
        "barcode": "6901234567892",
        "case_barcode": "6901234567908",
        "case_pack": "24",
        "case_price": "66.00",
        **overrides,
    }
    drafts, errors = parse_rows([row])
    assert not errors, errors
    return drafts[0]


def test_a_product_payload_reads_back_as_the_same_draft() -> None:
    draft = _draft()
    back = draft_from_payload(product_payload(draft))
    assert back.sku == "P1" and back.retail_price_fen == 300 and back.member_price_fen == 280
    assert back.barcodes == (("6901234567892", 1, None), ("6901234567908", 24, 6600))
    assert back.tax_rate_bp == 1300 and back.status == "active"


@pytest.mark.parametrize(
    ("key", "value"),
    [("retail_price_fen", "3.00"), ("retail_price_fen", 3.0), ("sku", ""), ("barcodes", [[1]])],
)
def test_a_payload_the_store_cannot_read_is_refused(key: str, value: object) -> None:
    payload = product_payload(_draft())
    payload[key] = value
    with pytest.raises(PayloadError):
        draft_from_payload(payload)


PROMO = {
    "promo_id": "b1",
    "name": "可乐雪碧组合",
    "rule": {"type": "bundle", "items": [["P1", 1], ["P2", 1]], "price_fen": 500},
    "scope": {"product_ids": ["P1", "P2"], "categories": []},
}


def test_promotions_name_products_by_sku_and_each_store_maps_them_to_its_ids() -> None:
    assert skus_of(PROMO) == {"P1", "P2"}
    local = resolve_skus(PROMO, {"P1": 17, "P2": 42})
    assert local["scope"]["product_ids"] == [17, 42]
    assert local["rule"]["items"] == [[17, 1], [42, 1]]
    assert PROMO["scope"]["product_ids"] == ["P1", "P2"]  # the original is untouched
    promo = from_dict(local)
    assert promo.scope.product_ids == frozenset({17, 42})


def test_a_promotion_naming_a_product_the_store_lacks_is_refused() -> None:
    with pytest.raises(PayloadError, match="P2"):
        resolve_skus(PROMO, {"P1": 17})


def test_buy_get_scopes_are_mapped_too() -> None:
    promo = {
        "promo_id": "bg",
        "rule": {"type": "buy_get", "buy": 2, "get": 1, "get_scope": {"product_ids": ["P3"]}},
        "scope": {"product_ids": ["P1"], "categories": ["饮料"]},
    }
    seen: list[object] = []
    out = map_product_refs(promo, lambda r: seen.append(r) or f"<{r}>")
    assert sorted(map(str, seen)) == ["P1", "P3"]
    assert out["rule"]["get_scope"]["product_ids"] == ["<P3>"]
    assert out["scope"]["categories"] == ["饮料"]
