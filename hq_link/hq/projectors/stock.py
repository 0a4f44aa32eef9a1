"""The stores' stock as of their last day close, and their posted stocktakes, for HQ's reports.

Projected from the `stock_snapshot` and `stocktake.lines` change rows the day
close writes (store_server.stock.snapshot). HQ keeps one snapshot per store,
the latest: a snapshot of a later store transaction replaces the rows of the
earlier one, and parts of an older one (a replay) are ignored. A store's
snapshot may arrive in several calls (ingest's row-by-row fallback): the first
part of a newer transaction clears the store's rows, later parts of the same
transaction add theirs. Stocktake lines are kept per session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    select,
    update,
)

from hq_link.hq.projectors import Insert, ProjectionError, integer
from hq_link.hq.tables import metadata

SNAPSHOT_KIND = "stock_snapshot"  # store_server.stock.snapshot
LINES_KIND = "stocktake.lines"

# Which snapshot a store's rows belong to.
stock_heads = Table(
    "hq_stock_heads",
    metadata,
    Column("store_id", String(16), primary_key=True),
    Column("business_day", String(10), nullable=False),  # the day closed
    Column("txn", BigInteger, nullable=False),  # the store transaction (day close) it came in
    Column("at", DateTime(timezone=True), nullable=False),  # when the store closed the day
)

stock_snapshots = Table(
    "hq_stock_snapshots",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("sku", String(40), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("name", String(120), nullable=False),
    Column("category", String(60), nullable=False),
    Column("tax_rate_bp", Integer, nullable=False),
    Column("on_hand_milli", BigInteger, nullable=False),  # may be negative
    Column("cost_fen", BigInteger, nullable=True),  # per unit, tax incl.; None: no cost
    # The replenishment rule of a product with a supplier (else all None).
    Column("on_order_milli", BigInteger, nullable=True),
    Column("min_milli", BigInteger, nullable=True),
    Column("max_milli", BigInteger, nullable=True),
    Column("pack_milli", BigInteger, nullable=True),
    Column("lead_days", Integer, nullable=True),
    Column("supplier_id", String(16), nullable=True),
    Column("supplier_name", String(60), nullable=True),
    PrimaryKeyConstraint("store_id", "sku"),
)

stocktakes = Table(
    "hq_stocktakes",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("session_id", String(36), nullable=False),
    Column("name", String(60), nullable=False),
    Column("business_day", String(10), nullable=False),  # when it was posted
    Column("posted_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("store_id", "session_id"),
)

stocktake_lines = Table(
    "hq_stocktake_lines",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("session_id", String(36), nullable=False),
    Column("sku", String(40), nullable=False),
    Column("name", String(120), nullable=False),
    Column("category", String(60), nullable=False),
    Column("counted_milli", BigInteger, nullable=False),
    Column("expected_milli", BigInteger, nullable=False),
    Column("unit_cost_fen", BigInteger, nullable=False),  # frozen when the stocktake was posted
    PrimaryKeyConstraint("store_id", "session_id", "sku"),
)


def _records(p: dict, key: str) -> list[dict]:
    fields, items = p.get("fields"), p.get(key)
    if not isinstance(fields, list) or not isinstance(items, list):
        raise ProjectionError(f"{key} or fields missing")
    out = []
    for item in items:
        if not isinstance(item, list) or len(item) != len(fields):
            raise ProjectionError(f"a {key} entry does not match its fields: {item!r}")
        out.append(dict(zip(fields, item, strict=True)))
    return out


def _snapshot_rows(store_id: str, day: str, p: dict) -> list[dict]:
    suppliers = p.get("suppliers") or {}
    rows = []
    for r in _records(p, "products"):
        rule = r.get("rule")
        on_order = mn = mx = pack = lead = sup = None
        if rule is not None:
            if not isinstance(rule, list) or len(rule) != 6:
                raise ProjectionError(f"rule {rule!r} is not [on_order, min, max, pack, lead, id]")
            on_order, mn, mx, pack, lead = (integer(v, "rule") for v in rule[:5])
            sup = str(rule[5])[:16]
        cost = r.get("cost_fen")
        rows.append(
            {
                "store_id": store_id,
                "sku": str(r["sku"])[:40],
                "business_day": day,
                "name": str(r.get("name", ""))[:120],
                "category": str(r.get("category", ""))[:60],
                "tax_rate_bp": integer(r.get("tax_rate_bp"), "tax_rate_bp"),
                "on_hand_milli": integer(r.get("on_hand_milli"), "on_hand_milli"),
                "cost_fen": None if cost is None else integer(cost, "cost_fen"),
                "on_order_milli": on_order,
                "min_milli": mn,
                "max_milli": mx,
                "pack_milli": pack,
                "lead_days": lead,
                "supplier_id": sup,
                "supplier_name": None if sup is None else str(suppliers.get(sup, ""))[:60],
            }
        )
    return rows


def _snapshots(conn: Connection, insert: Insert, store_id: str, parts: Sequence[Any]) -> None:
    """Apply a call's snapshot parts (in seq order): the newest transaction wins."""
    h = stock_heads.c
    head = conn.execute(select(h.txn).where(h.store_id == store_id)).first()
    held = None if head is None else head.txn
    new_head: dict | None = None
    rows: list[dict] = []
    for ch in parts:
        p = ch.payload
        day = str(p.get("day", ""))[:10]
        if len(day) != 10:
            raise ProjectionError("stock snapshot without its business day")
        txn = ch.row.txn or ch.row.seq
        if held is not None and held > txn:
            continue  # a part of an older snapshot than the one HQ holds
        if held is None or held < txn:
            # A newer day close: its snapshot replaces the store's previous one whole
            # (also rows of an older one earlier in this call).
            held, rows = txn, []
            new_head = {"business_day": day, "txn": txn, "at": ch.at}
        rows += _snapshot_rows(store_id, day, p)
    if new_head is not None:
        conn.execute(delete(stock_snapshots).where(stock_snapshots.c.store_id == store_id))
        if head is None:
            conn.execute(insert(stock_heads).values(store_id=store_id, **new_head))
        else:
            conn.execute(update(stock_heads).where(h.store_id == store_id).values(**new_head))
    insert.rows(stock_snapshots, rows)  # one COPY for the call in ingest's fast path


def _lines(conn: Connection, insert: Insert, store_id: str, ch: Any) -> None:
    p = ch.payload
    session = str(p.get("session_id", ""))[:36]
    day = str(p.get("business_day", ""))[:10]
    if not session or len(day) != 10 or not p.get("posted_at"):
        raise ProjectionError("stocktake lines without session, business day or posting time")
    conn.execute(
        insert(stocktakes).on_conflict_do_nothing(index_elements=["store_id", "session_id"]),
        {
            "store_id": store_id,
            "session_id": session,
            "name": str(p.get("name", ""))[:60],
            "business_day": day,
            "posted_at": datetime.fromisoformat(str(p["posted_at"])),
        },
    )
    rows = [
        {
            "store_id": store_id,
            "session_id": session,
            "sku": str(r["sku"])[:40],
            "name": str(r.get("name", ""))[:120],
            "category": str(r.get("category", ""))[:60],
            "counted_milli": integer(r.get("counted_milli"), "counted_milli"),
            "expected_milli": integer(r.get("expected_milli"), "expected_milli"),
            "unit_cost_fen": integer(r.get("unit_cost_fen"), "unit_cost_fen"),
        }
        for r in _records(p, "lines")
    ]
    insert.rows(stocktake_lines, rows)


def project(conn: Connection, insert: Insert, store_id: str, rows: Sequence[Any]) -> None:
    try:
        parts = [ch for ch in rows if ch.row.kind == SNAPSHOT_KIND]
        if parts:
            _snapshots(conn, insert, store_id, parts)
        for ch in rows:
            if ch.row.kind == LINES_KIND:
                _lines(conn, insert, store_id, ch)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ProjectionError):
            raise
        raise ProjectionError(f"stock snapshot or stocktake unreadable: {exc!r}") from exc
