"""HQ's stock reports: stock value, stocktake variance and replenishment per store.

All three read the snapshots the stores' day closes sent (stock_facts), so
their titles say "as of each store's last day close" and name the days.
Columns are the store reports' own (store_server.reports.catalog), with the
store in front where the rows are per store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from hq_link.hq.projectors.ledger import CHAIN_ZONE
from hq_link.hq.reports import stock_facts
from hq_link.hq.reports.scope import HqScope
from store_server.reports import stock
from store_server.reports.arith import ex_tax
from store_server.reports.catalog import (
    REPLENISHMENT_COLUMNS,
    STOCK_COLUMNS,
    VARIANCE_CATEGORY_COLUMNS,
    VARIANCE_COLUMNS,
)
from store_server.reports.table import Chart, Kind, Table, from_rows

K = Kind
STORE = ("store_id", "门店", K.TEXT)


@dataclass(frozen=True, slots=True)
class StoreStockRow:
    store_id: str
    business_day: str
    closed_at: str
    products: int
    on_hand_milli: int
    value_fen: int
    value_ex_tax_fen: int


def _per_store(heads: Sequence[stock_facts.AsOf], facts: Sequence) -> list[StoreStockRow]:
    acc: dict[str, list[int]] = {}
    for f in facts:
        a = acc.setdefault(f.store_id, [0, 0, 0])
        a[0] += f.on_hand_milli
        a[1] += f.value_fen
        a[2] += ex_tax(f.value_fen, f.tax_rate_bp)
    return [
        StoreStockRow(
            h.store_id,
            h.business_day,
            h.closed_at.astimezone(CHAIN_ZONE).strftime("%Y-%m-%d %H:%M"),
            h.products,
            *acc.get(h.store_id, [0, 0, 0]),
        )
        for h in heads
    ]


def stock_value(conn: Connection, scope: HqScope) -> list[Table]:
    heads = stock_facts.as_of(conn, scope)
    facts = stock_facts.stock_facts(conn, scope)
    as_of = stock_facts.title_as_of(heads)
    return [
        from_rows(
            "stock_value",
            f"库存金额 (成本) {as_of}",
            STOCK_COLUMNS,
            stock.stock_value(facts),
            chart=Chart("bar", "category", ("value_fen",), "库存金额 (元)"),
            notes=(
                "库存为各门店最近一次日结时的库存, 按门店当时的进价 "
                "(on hand as of each store's last day close, at its cost then)",
            ),
        ),
        from_rows(
            "stock_stores",
            "各门店库存 (日结快照)",
            [
                STORE,
                ("business_day", "日结营业日", K.TEXT),
                ("closed_at", "日结时间", K.TEXT),
                ("products", "商品数", K.COUNT),
                ("on_hand_milli", "库存数量", K.QTY),
                ("value_fen", "库存金额 (含税)", K.MONEY),
                ("value_ex_tax_fen", "库存金额 (不含税)", K.MONEY),
            ],
            _per_store(heads, facts),
            chart=Chart("bar", "store_id", ("value_fen",), "门店库存金额 (元)"),
        ),
    ]


@dataclass(frozen=True, slots=True)
class CategoryVariance:
    store_id: str
    category: str
    products: int
    variance_milli: int
    variance_cost_fen: int


def variance(conn: Connection, scope: HqScope, limit: int) -> list[Table]:
    """Stocktakes posted in the range: the list, the biggest losses, per category."""
    lines = stock_facts.variance_lines(conn, scope)
    takes = stock_facts.stocktake_list(conn, scope, lines)
    cats: dict[tuple[str, str], list[int]] = {}
    for ln in lines:
        a = cats.setdefault((ln.store_id, ln.category), [0, 0, 0])
        a[0] += 1
        a[1] += ln.variance_milli
        a[2] += ln.variance_cost_fen
    changed = sorted(
        (ln for ln in lines if ln.variance_milli),
        key=lambda ln: (ln.variance_cost_fen, ln.store_id, ln.sku),
    )
    period = f"{scope.first} 至 {scope.last}"
    return [
        from_rows(
            "stocktakes",
            f"盘点单 (过账于 {period})",
            [
                STORE,
                ("session_id", "盘点单", K.TEXT),
                ("name", "名称", K.TEXT),
                ("business_day", "过账营业日", K.TEXT),
                ("products", "盘点商品数", K.COUNT),
                ("adjusted", "差异商品数", K.COUNT),
                ("variance_milli", "差异数量", K.QTY),
                ("variance_cost_fen", "差异金额", K.MONEY),
            ],
            takes,
            notes=("门店日结时上传已过账的盘点 (stocktakes arrive with the next day close)",),
        ),
        from_rows(
            "variance",
            f"盘点差异 {period}",
            [STORE, *VARIANCE_COLUMNS],
            changed[:limit],
        ),
        from_rows(
            "variance_categories",
            "盘点差异 (品类)",
            [STORE, *VARIANCE_CATEGORY_COLUMNS],
            [CategoryVariance(s, c, *a) for (s, c), a in sorted(cats.items())],
            chart=Chart("bar", "category", ("variance_cost_fen",), "盘点差异金额 (元)"),
        ),
    ]


def replenishment(conn: Connection, scope: HqScope, window_days: int) -> list[Table]:
    heads = stock_facts.as_of(conn, scope)
    return [
        from_rows(
            "replenishment",
            f"补货建议 {stock_facts.title_as_of(heads)}",
            [STORE, *REPLENISHMENT_COLUMNS],
            stock_facts.replenishment(conn, scope, window_days),
            notes=(
                f"门店补货规则, 库存为日结快照, 销量为截至 {scope.last} 的近 {window_days} 天 "
                f"(the store's rule on its day-close stock; pace over {window_days} days)",
            ),
        )
    ]
