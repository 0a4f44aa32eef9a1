"""Receipt lines with HQ's master data: categories, tax rates, costs and what each line paid.

The replicated receipt lines carry the SKU, units and the line's net amount.
Category, tax rate and cost come from HQ's master data (hq_md_products) as it
is now -- the store's reports read the same fields from its copy of the same
master data, also as it is now, so the figures agree while the store is in
step with HQ. A SKU HQ has no master data for is reported under UNKNOWN, at
0 % tax and no cost.

What a line paid: the store reports `paid_fen` = the line's net amount plus
its share of the receipt's cash rounding (抹零), split over the lines by
store_server.domain.allocation.allocate exactly as the checkout split it. The
receipts carry the rounding and every line's net amount, so HQ splits it
again the same way, in SQL (only receipts with a rounding need it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Connection, Subquery, and_, case, cast, func, select

from hq_link.hq.masterdata.tables import products as md_products
from hq_link.hq.projectors.receipts import lines, receipts
from hq_link.hq.reports.facts import _in_scope
from hq_link.hq.reports.scope import HqScope
from store_server.domain.money import MILLI, div_round_half_up
from store_server.reports.facts import CategoryFact, ProductFact

R, L, M = receipts.c, lines.c, md_products.c
UNKNOWN = "(总部无此商品)"
_JOIN = lines.join(receipts, and_(R.store_id == L.store_id, R.doc_id == L.doc_id)).outerjoin(
    md_products, M.sku == L.sku
)
_CATEGORY = func.coalesce(M.category, UNKNOWN)
_RATE = func.coalesce(M.tax_rate_bp, 0)


def _milli_to_fen(value: int) -> int:
    return div_round_half_up(value, MILLI)


def _half_away(n: Any, d: Any) -> Any:
    """n / d rounded half away from zero in SQL (d > 0), as div_round_half_up."""
    q = (func.abs(n) * 2 + d) // (d * 2)
    return case((n < 0, -q), else_=q)


def rounding_shares(scope: HqScope) -> Subquery:
    """(store_id, business_day, sku, share): each sale line's share of its receipt's 抹零.

    store_server.domain.allocation.allocate in SQL: parts in proportion to the
    lines' net amounts, rounded half away from zero; the largest line (the
    first of equals) takes the remainder; all of it on the first line when
    the nets sum to zero. Only receipts with a rounding are read. (PostgreSQL's
    sum of bigints is numeric: cast back, so `/` divides integers.)
    """
    doc = (L.store_id, L.doc_id)
    x = (
        select(
            L.store_id,
            L.doc_id,
            L.business_day,
            L.sku,
            L.net_fen.label("w"),
            R.rounding_fen.label("t"),
            cast(func.sum(L.net_fen).over(partition_by=doc), BigInteger).label("total_w"),
            func.row_number()
            .over(partition_by=doc, order_by=(L.net_fen.desc(), L.line_no))
            .label("big"),
            func.row_number().over(partition_by=doc, order_by=L.line_no).label("first"),
        )
        .select_from(_JOIN)
        .where(*_in_scope(L, scope), *_in_scope(R, scope), R.kind == "sale", R.rounding_fen != 0)
        .subquery()
    )
    part = case(
        (x.c.total_w > 0, _half_away(x.c.t * x.c.w, x.c.total_w)),
        (x.c.first == 1, x.c.t),
        else_=0,
    )
    y = select(x, part.label("part")).subquery()
    rest = y.c.t - func.sum(y.c.part).over(partition_by=(y.c.store_id, y.c.doc_id))
    share = y.c.part + case(((y.c.total_w > 0) & (y.c.big == 1), rest), else_=0)
    return select(y.c.store_id, y.c.business_day, y.c.sku, share.label("share")).subquery()


def paid_by_rate(conn: Connection, scope: HqScope) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """(store, day) -> [(tax rate bp, fen paid by the sales' lines)], as DayFact.paid_by_rate."""
    acc: dict[tuple[str, str, int], int] = defaultdict(int)
    for store, day, rate, paid in conn.execute(
        select(R.store_id, R.business_day, _RATE, func.sum(L.net_fen))
        .select_from(_JOIN)
        .where(*_in_scope(L, scope), *_in_scope(R, scope), R.kind == "sale")
        .group_by(R.store_id, R.business_day, _RATE)
    ):
        acc[(store, day, int(rate))] += int(paid)
    sh = rounding_shares(scope)
    for store, day, r, share in conn.execute(
        select(sh.c.store_id, sh.c.business_day, _RATE, func.sum(sh.c.share))
        .select_from(sh.outerjoin(md_products, M.sku == sh.c.sku))
        .group_by(sh.c.store_id, sh.c.business_day, _RATE)
    ):
        acc[(store, day, int(r))] += int(share)
    out: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for (store, day, rate), paid in sorted(acc.items()):
        out[(store, day)].append((rate, paid))
    return out


def category_facts(conn: Connection, scope: HqScope) -> list[CategoryFact]:
    """Per store, category and tax rate: units, paid, cost (units x HQ's cost), refunds."""
    is_sale = R.kind == "sale"
    rows = conn.execute(
        select(
            R.store_id,
            _CATEGORY,
            _RATE,
            func.sum(case((is_sale, L.units_milli), else_=0)),
            func.sum(case((is_sale, L.net_fen), else_=0)),
            func.sum(case((is_sale, L.units_milli * func.coalesce(M.cost_fen, 0)), else_=0)),
            func.sum(case((is_sale, 0), else_=-L.net_fen)),
            func.count().filter(is_sale),
        )
        .select_from(_JOIN)
        .where(*_in_scope(L, scope), *_in_scope(R, scope))
        .group_by(R.store_id, _CATEGORY, _RATE)
    ).all()
    acc: dict[tuple[str, str, int], list[int]] = {}
    for store, cat, rate, units, paid, cost, refund, sold in rows:
        acc[(store, cat, int(rate))] = [int(units), int(paid), int(cost), int(refund), int(sold)]
    sh = rounding_shares(scope)
    for store, cat, rate, share in conn.execute(
        select(sh.c.store_id, _CATEGORY, _RATE, func.sum(sh.c.share))
        .select_from(sh.outerjoin(md_products, M.sku == sh.c.sku))
        .group_by(sh.c.store_id, _CATEGORY, _RATE)
    ):
        acc.setdefault((store, cat, int(rate)), [0, 0, 0, 0, 1])[1] += int(share)
    # As the store does: a category's refunds go on its first row with sales only
    # (or on a row of their own when it sold nothing in the scope).
    refunds: dict[tuple[str, str], int] = defaultdict(int)
    for (store, cat, _), a in acc.items():
        refunds[(store, cat)] += a[3]
    facts = []
    seen: set[tuple[str, str]] = set()
    for (store, cat, rate), a in sorted(acc.items()):
        if a[4] == 0:
            continue
        refund = 0 if (store, cat) in seen else refunds[(store, cat)]
        seen.add((store, cat))
        facts.append(CategoryFact(store, cat, rate, a[0], a[1], _milli_to_fen(a[2]), refund))
    for (store, cat), refund in sorted(refunds.items()):
        if (store, cat) not in seen and refund:
            facts.append(CategoryFact(store, cat, 0, 0, 0, 0, refund))
    return facts


@dataclass(frozen=True, slots=True)
class SkuSales:
    sku: str
    name: str
    category: str
    sold_milli: int  # net of returns
    sales_fen: int  # paid, net of refunds
    stores: int  # stores that sold or returned it


def sku_sales(conn: Connection, scope: HqScope) -> dict[str, SkuSales]:
    """Every SKU sold or returned in the scope, summed over its stores."""
    rows = conn.execute(
        select(
            L.sku,
            func.max(func.coalesce(M.name, L.name)),
            func.max(_CATEGORY),
            func.sum(L.units_milli),
            func.sum(L.net_fen),
            func.count(func.distinct(L.store_id)),
        )
        .select_from(lines.outerjoin(md_products, M.sku == L.sku))
        .where(*_in_scope(L, scope))
        .group_by(L.sku)
    ).all()
    out = {s: SkuSales(s, n, c, int(q), int(f), int(k)) for s, n, c, q, f, k in rows}
    sh = rounding_shares(scope)
    for sku, share in conn.execute(select(sh.c.sku, func.sum(sh.c.share)).group_by(sh.c.sku)):
        x, share = out[sku], int(share)
        out[sku] = SkuSales(x.sku, x.name, x.category, x.sold_milli, x.sales_fen + share, x.stores)
    return out


def sold_by_store(conn: Connection, scope: HqScope) -> dict[tuple[str, str], int]:
    """(store, sku) -> units sold net of returns over the scope (thousandths)."""
    return {
        (s, k): int(q)
        for s, k, q in conn.execute(
            select(L.store_id, L.sku, func.sum(L.units_milli))
            .where(*_in_scope(L, scope))
            .group_by(L.store_id, L.sku)
        )
    }


def product_facts(
    sold: dict[str, SkuSales], on_hand: dict[str, tuple[str, str, int]]
) -> list[ProductFact]:
    """ProductFacts over the chain, by SKU: sales of the scope, on-hand of the snapshots.

    `on_hand`: sku -> (name, category, on-hand thousandths) summed over the stores.
    product_id is 0: ties in a ranking fall back to the SKU order (the store's to its ids).
    """
    facts = []
    for sku in sorted(set(sold) | set(on_hand)):
        s = sold.get(sku)
        name, cat, oh = on_hand.get(sku, ("", "", 0))
        facts.append(
            ProductFact(
                "*",
                0,
                sku,
                s.name if s else name,
                cat or (s.category if s else UNKNOWN),
                s.sold_milli if s else 0,
                s.sales_fen if s else 0,
                oh,
            )
        )
    return facts
