"""The stores' stock as of their last day close (hq_link.hq.projectors.stock) as report facts.

HQ knows a store's on-hand only from the snapshot its day close sent, so every
figure here is "as of" that close (AsOf says which, per store), whatever the
report's range; the sales a figure is compared with (days of stock,
replenishment pace) come from the receipts of the range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, select

from hq_link.hq.projectors.stock import stock_heads, stock_snapshots, stocktake_lines, stocktakes
from hq_link.hq.reports.facts import _in_scope
from hq_link.hq.reports.line_facts import sold_by_store
from hq_link.hq.reports.scope import HqScope
from store_server.domain.money import MILLI, div_round_half_up
from store_server.domain.stock.replenish import StockPosition, suggest_all
from store_server.domain.stock.variance import cost_of
from store_server.reports.facts import StockFact

H, S, T, V = stock_heads.c, stock_snapshots.c, stocktakes.c, stocktake_lines.c


def _stores(col: object, scope: HqScope) -> list:
    return [col.in_(scope.stores)] if scope.stores else []  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AsOf:
    store_id: str
    business_day: str  # the day whose close sent the snapshot
    closed_at: datetime
    products: int  # rows in the snapshot


def as_of(conn: Connection, scope: HqScope) -> list[AsOf]:
    counts = (
        select(S.store_id, func.count().label("n"))
        .where(*_stores(S.store_id, scope))
        .group_by(S.store_id)
        .subquery()
    )
    return [
        AsOf(s, d, at, int(n or 0))
        for s, d, at, n in conn.execute(
            select(H.store_id, H.business_day, H.at, counts.c.n)
            .outerjoin(counts, counts.c.store_id == H.store_id)
            .where(*_stores(H.store_id, scope))
            .order_by(H.store_id)
        )
    ]


def title_as_of(heads: list[AsOf]) -> str:
    """ "截至各门店最近一次日结 (S01 2026-11-23, S02 2026-11-22)" for a title."""
    if not heads:
        return "截至最近一次日结 (尚无门店日结库存 no day close received)"
    shown = ", ".join(f"{h.store_id} {h.business_day}" for h in heads[:6])
    more = f" 等 {len(heads)} 店" if len(heads) > 6 else ""
    return f"截至各门店最近一次日结 ({shown}{more})"


def stock_facts(conn: Connection, scope: HqScope) -> list[StockFact]:
    """Per store, category and tax rate, as store_server.reports.facts.stock_facts."""
    oh = S.on_hand_milli
    pos = case((oh > 0, oh), else_=0)
    rows = conn.execute(
        select(
            S.store_id,
            S.category,
            S.tax_rate_bp,
            func.count().filter(oh > 0),
            func.sum(pos),
            func.sum(pos * func.coalesce(S.cost_fen, 0)),
            func.count().filter(oh > 0, S.cost_fen.is_(None)),
            func.count().filter(oh < 0),
        )
        .where(oh != 0, *_stores(S.store_id, scope))
        .group_by(S.store_id, S.category, S.tax_rate_bp)
        .order_by(S.store_id, S.category, S.tax_rate_bp)
    ).all()
    return [
        StockFact(
            s, cat, int(rate), int(n), int(q), div_round_half_up(int(v), MILLI), int(nc), int(neg)
        )
        for s, cat, rate, n, q, v, nc, neg in rows
    ]


def on_hand_by_sku(conn: Connection, scope: HqScope) -> dict[str, tuple[str, str, int]]:
    """sku -> (name, category, on-hand summed over the scope's stores)."""
    return {
        sku: (name, cat, int(q))
        for sku, name, cat, q in conn.execute(
            select(S.sku, func.max(S.name), func.max(S.category), func.sum(S.on_hand_milli))
            .where(*_stores(S.store_id, scope))
            .group_by(S.sku)
        )
    }


@dataclass(frozen=True, slots=True)
class ReplenishmentRow:
    store_id: str
    supplier_id: str
    supplier: str
    sku: str
    name: str
    on_hand_milli: int
    on_order_milli: int
    min_milli: int
    max_milli: int
    daily_milli: int
    order_milli: int


def replenishment(conn: Connection, scope: HqScope, window_days: int) -> list[ReplenishmentRow]:
    """The store's rule (store_server.domain.stock.replenish) on each store's snapshot.

    The pace is the units sold net of returns over the `window_days` business
    days ending with the scope's last day, from the receipts -- as the store's
    report run for that day counts its sale and return movements since then.
    """
    window = HqScope(scope.stores, scope.last - timedelta(days=window_days - 1), scope.last)
    sold = sold_by_store(conn, window)
    rows = conn.execute(
        select(
            S.store_id,
            S.sku,
            S.name,
            S.on_hand_milli,
            S.on_order_milli,
            S.min_milli,
            S.max_milli,
            S.pack_milli,
            S.lead_days,
            S.supplier_id,
            S.supplier_name,
        )
        .where(S.supplier_id.is_not(None), *_stores(S.store_id, scope))
        .order_by(S.store_id, S.sku)
    ).all()
    out = []
    by_store: dict[str, list] = {}
    for r in rows:
        by_store.setdefault(r.store_id, []).append(r)
    for store, items in by_store.items():
        positions = [
            StockPosition(
                product_id=i,
                on_hand_milli=int(r.on_hand_milli),
                on_order_milli=int(r.on_order_milli),
                sold_in_window_milli=sold.get((store, r.sku), 0),
                min_milli=int(r.min_milli),
                max_milli=int(r.max_milli),
                pack_milli=int(r.pack_milli),
                lead_days=int(r.lead_days),
                supplier_id=r.supplier_id,
            )
            for i, r in enumerate(items)
        ]
        drafts = suggest_all(positions, window_days)
        for supplier in sorted(drafts):
            for s in drafts[supplier]:
                r = items[s.product_id]
                out.append(
                    ReplenishmentRow(
                        store,
                        supplier,
                        r.supplier_name or "",
                        r.sku,
                        r.name,
                        int(r.on_hand_milli),
                        int(r.on_order_milli),
                        int(r.min_milli),
                        int(r.max_milli),
                        s.daily_sales_milli,
                        s.quantity_milli,
                    )
                )
    return out


@dataclass(frozen=True, slots=True)
class VarianceLine:
    store_id: str
    session_id: str
    sku: str
    name: str
    category: str
    counted_milli: int
    expected_milli: int
    variance_milli: int
    variance_cost_fen: int  # at the cost frozen when the stocktake was posted


@dataclass(frozen=True, slots=True)
class Stocktake:
    store_id: str
    session_id: str
    name: str
    business_day: str
    products: int
    adjusted: int
    variance_milli: int
    variance_cost_fen: int


def variance_lines(conn: Connection, scope: HqScope) -> list[VarianceLine]:
    """Every line of the stocktakes the scope's stores posted in its range."""
    rows = conn.execute(
        select(
            V.store_id,
            V.session_id,
            V.sku,
            V.name,
            V.category,
            V.counted_milli,
            V.expected_milli,
            V.unit_cost_fen,
        )
        .join(stocktakes, (T.store_id == V.store_id) & (T.session_id == V.session_id))
        .where(*_in_scope(T, scope))
    ).all()
    return [
        VarianceLine(s, sid, sku, n, c, int(q), int(e), int(q) - int(e), cost_of(q - e, int(u)))
        for s, sid, sku, n, c, q, e, u in rows
    ]


def stocktake_list(conn: Connection, scope: HqScope, lines: list[VarianceLine]) -> list[Stocktake]:
    acc: dict[tuple[str, str], list[int]] = {}
    for ln in lines:
        a = acc.setdefault((ln.store_id, ln.session_id), [0, 0, 0, 0])
        a[0] += 1
        a[1] += 1 if ln.variance_milli else 0
        a[2] += ln.variance_milli
        a[3] += ln.variance_cost_fen
    return [
        Stocktake(s, sid, name, day, *acc.get((s, sid), [0, 0, 0, 0]))
        for s, sid, name, day in conn.execute(
            select(T.store_id, T.session_id, T.name, T.business_day)
            .where(*_in_scope(T, scope))
            .order_by(T.store_id, T.business_day, T.session_id)
        )
    ]
