"""The stock HQ reports on: appended to the change log by the day close (日结).

HQ does not know a store's on-hand (it is the sum of the store's movements).
As chains do, the store sends it once a day: the day close writes, in its own
transaction, the on-hand and cost of every product with stock (or a
replenishment rule) as `stock_snapshot` change rows of at most CHUNK products
each, and the variance lines of every stocktake posted since the previous
snapshot as `stocktake.lines` rows (the `stocktake.variance` rows that posting
writes carry the store's product ids and only the changed lines, which HQ
cannot report on by SKU or category).

Product rows are lists, in the order of PRODUCT_FIELDS / LINE_FIELDS, to keep
a 1,000-product change row near 100 KB. Quantities are thousandths, money fen.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from store_server.db import fast
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.business_day import business_day
from store_server.stock.replenishment import on_order, supplier_names

CHUNK = 1000
SNAPSHOT_KIND = "stock_snapshot"
LINES_KIND = "stocktake.lines"
# rule: None, or [on_order, min, max, pack, lead_days, supplier_id] of a product with a
# supplier (what the store's replenishment rule reads).
PRODUCT_FIELDS = ("sku", "name", "category", "tax_rate_bp", "on_hand_milli", "cost_fen", "rule")
LINE_FIELDS = ("sku", "name", "category", "counted_milli", "expected_milli", "unit_cost_fen")

# Products with stock (also below zero) or with a replenishment rule.
_PRODUCTS = (
    "SELECT p.id, p.sku, p.name, c.name, p.tax_rate_bp, coalesce(s.on_hand_milli, 0), p.cost_fen, "
    "r.min_milli, r.max_milli, r.pack_milli, coalesce(r.lead_days, sup.lead_days), "
    "r.supplier_id FROM products p JOIN categories c ON c.id = p.category_id "
    "LEFT JOIN stock_levels s ON s.product_id = p.id "
    "LEFT JOIN (stock_rules r JOIN suppliers sup ON sup.supplier_id = r.supplier_id) "
    "ON r.product_id = p.id "
    "WHERE coalesce(s.on_hand_milli, 0) != 0 OR r.product_id IS NOT NULL ORDER BY p.sku"
)
_LAST_SNAPSHOT = (
    f"SELECT seq FROM change_log WHERE kind = '{SNAPSHOT_KIND}' ORDER BY seq DESC LIMIT 1"
)
# Stocktakes posted after a seq: their `stocktake.post` change rows (a range of the log's key).
_POSTED_SINCE = "SELECT DISTINCT key FROM change_log WHERE seq > ? AND kind = 'stocktake.post'"
_SESSION = "SELECT name, posted_at FROM stocktake_sessions WHERE session_id = ?"
_LINES = (
    "SELECT p.sku, p.name, c.name, v.counted_milli, v.expected_milli, v.unit_cost_fen "
    "FROM stocktake_variances v JOIN products p ON p.id = v.product_id "
    "JOIN categories c ON c.id = p.category_id WHERE v.session_id = ? ORDER BY p.sku"
)


def _chunks(items: Sequence) -> Iterator[Sequence]:
    """Parts of CHUNK items (one empty part for no items: the snapshot says "nothing")."""
    if not items:
        yield []
        return
    size = CHUNK
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stock_rows(conn: Connection) -> list[list[object]]:
    """Every product with stock or a rule, as PRODUCT_FIELDS lists, by SKU."""
    ordered = on_order(conn)
    rows = []
    for pid, sku, name, cat, rate, oh, cost, mn, mx, pack, lead, sup in fast.execute(
        conn, _PRODUCTS
    ):
        rule = None
        if sup is not None:
            rule = [ordered.get(pid, 0), int(mn), int(mx), int(pack), int(lead or 0), sup]
        rows.append([sku, name, cat, int(rate), int(oh), None if cost is None else int(cost), rule])
    return rows


def append(uow: UnitOfWork, day: str, zone: ZoneInfo, cutover_hour: int) -> int:
    """Write the day close's stock snapshot (and new stocktakes) into the change log.

    Returns the number of change rows written. Call inside the day close's unit
    of work, so HQ gets the snapshot with the close or not at all.
    """
    conn = uow.conn
    last = fast.execute(conn, _LAST_SNAPSHOT)
    since = int(last[0][0]) if last else 0
    written = _stocktakes(uow, since, zone, cutover_hour)
    rows = stock_rows(conn)
    suppliers = supplier_names(conn)
    parts = max(1, -(-len(rows) // CHUNK))
    for part, chunk in enumerate(_chunks(rows), start=1):
        used = sorted({r[6][5] for r in chunk if r[6] is not None})
        uow.change(
            SNAPSHOT_KIND,
            f"{day}:{part}",
            {
                "day": day,
                "part": part,
                "parts": parts,
                "fields": list(PRODUCT_FIELDS),
                "products": list(chunk),
                "suppliers": {s: suppliers.get(s, "") for s in used},
            },
        )
        written += 1
    return written


def _stocktakes(uow: UnitOfWork, since: int, zone: ZoneInfo, cutover_hour: int) -> int:
    conn = uow.conn
    written = 0
    for (session_id,) in fast.execute(conn, _POSTED_SINCE, (since,)):
        found = fast.execute(conn, _SESSION, (session_id,))
        if not found or found[0][1] is None:
            continue
        name, posted = found[0]
        posted_at = posted if isinstance(posted, datetime) else _parse_time(str(posted))
        lines = [list(r) for r in fast.execute(conn, _LINES, (session_id,))]
        parts = max(1, -(-len(lines) // CHUNK))
        for part, chunk in enumerate(_chunks(lines), start=1):
            uow.change(
                LINES_KIND,
                f"{session_id}:{part}",
                {
                    "session_id": session_id,
                    "name": name,
                    "posted_at": posted_at.isoformat(),
                    "business_day": business_day(posted_at, zone, cutover_hour).isoformat(),
                    "part": part,
                    "parts": parts,
                    "fields": list(LINE_FIELDS),
                    "lines": list(chunk),
                },
            )
            written += 1
    return written


def _parse_time(text: str) -> datetime:
    """A UtcDateTime column read through the raw cursor (naive UTC text)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
