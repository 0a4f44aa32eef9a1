"""Suppliers, min/max (库存上下限), on-order, low stock and replenishment suggestions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.dialects.sqlite import insert

from store_server.db import fast, stock_repo
from store_server.db.stock_models import PurchaseOrder, PurchaseOrderLine, StockRule, Supplier
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import AlreadyExists, InvalidArgument, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.stock.replenish import StockPosition, Suggestion, check_rule, suggest_all
from store_server.stock.lines import LineInput, products_by_id, resolve

DEFAULT_WINDOW_DAYS = 28


@dataclass(frozen=True, slots=True)
class Level:
    product_id: int
    sku: str
    name: str
    on_hand_milli: int
    on_order_milli: int
    min_milli: int
    max_milli: int


def upsert_supplier(uow: UnitOfWork, supplier_id: str, name: str, lead_days: int) -> None:
    supplier_id = supplier_id.strip()
    if not supplier_id or len(supplier_id) > 16:
        raise InvalidArgument("supplier.supplier_id", "1 to 16 characters")
    if not name.strip() or len(name) > 60:
        raise InvalidArgument("supplier.name", "1 to 60 characters")
    if lead_days < 0:
        raise InvalidArgument("supplier.lead_days", "cannot be negative")
    values = {"supplier_id": supplier_id, "name": name.strip(), "lead_days": lead_days}
    stmt = insert(Supplier).values(**values, updated_at=uow.now)
    uow.conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["supplier_id"],
            set_={
                "name": stmt.excluded.name,
                "lead_days": stmt.excluded.lead_days,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )
    uow.change("stock.supplier", supplier_id, values)


def set_rule(
    uow: UnitOfWork,
    *,
    product_id: int,
    supplier_id: str,
    min_milli: int,
    max_milli: int,
    pack_milli: int,
    lead_days: int | None,
) -> None:
    """Min/max and the supplier's case size of one product (lead_days None: the supplier's)."""
    check_rule(min_milli, max_milli, pack_milli, lead_days or 0)
    if product_id not in products_by_id(uow.conn, [product_id]):
        raise NotFound(f"no product {product_id}", reason="UNKNOWN_PRODUCT")
    supplier = supplier_id.strip() or None
    if (
        supplier is not None
        and uow.conn.execute(
            select(Supplier.supplier_id).where(Supplier.supplier_id == supplier)
        ).first()
        is None
    ):
        raise NotFound(f"no supplier {supplier}", reason="UNKNOWN_SUPPLIER")
    values = {
        "product_id": product_id,
        "supplier_id": supplier,
        "min_milli": min_milli,
        "max_milli": max_milli,
        "pack_milli": pack_milli,
        "lead_days": lead_days,
    }
    stmt = insert(StockRule).values(**values, updated_at=uow.now)
    uow.conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["product_id"],
            set_={k: stmt.excluded[k] for k in (*values, "updated_at") if k != "product_id"},
        )
    )
    uow.change("stock.rule", str(product_id), values)


def on_order(conn: Connection) -> dict[int, int]:
    """Open quantity of placed purchase orders per product."""
    rows = fast.execute(
        conn,
        "SELECT l.product_id, sum(max(l.quantity_milli - l.received_milli, 0)) "
        "FROM purchase_order_lines l JOIN purchase_orders o ON o.po_id = l.po_id "
        "WHERE o.status = 'ordered' GROUP BY l.product_id",
    )
    return {pid: int(q) for pid, q in rows}


def stock_levels(conn: Connection, product_ids: Sequence[int] | None = None) -> list[Level]:
    """On-hand, on-order and min/max; every product with a rule or stock when no ids."""
    where = (
        "WHERE p.id IN (SELECT value FROM json_each(?))"
        if product_ids
        else ("WHERE r.product_id IS NOT NULL OR s.product_id IS NOT NULL")
    )
    rows = fast.execute(
        conn,
        "SELECT p.id, p.sku, p.name, coalesce(s.on_hand_milli, 0), "
        "coalesce(r.min_milli, 0), coalesce(r.max_milli, 0) FROM products p "
        "LEFT JOIN stock_levels s ON s.product_id = p.id "
        f"LEFT JOIN stock_rules r ON r.product_id = p.id {where} ORDER BY p.id",
        (json.dumps(list(product_ids)),) if product_ids else (),
    )
    ordered = on_order(conn)
    return [
        Level(pid, sku, name, oh, ordered.get(pid, 0), mn, mx)
        for pid, sku, name, oh, mn, mx in rows
    ]


def low_stock(conn: Connection) -> list[Level]:
    """Products with a rule whose on-hand is below their minimum."""
    rows = fast.execute(
        conn,
        "SELECT p.id, p.sku, p.name, coalesce(s.on_hand_milli, 0), r.min_milli, r.max_milli "
        "FROM stock_rules r JOIN products p ON p.id = r.product_id "
        "LEFT JOIN stock_levels s ON s.product_id = p.id "
        "WHERE coalesce(s.on_hand_milli, 0) < r.min_milli ORDER BY p.id",
    )
    ordered = on_order(conn)
    return [
        Level(pid, sku, name, oh, ordered.get(pid, 0), mn, mx)
        for pid, sku, name, oh, mn, mx in rows
    ]


def suggestions(
    conn: Connection, now: datetime, window_days: int = DEFAULT_WINDOW_DAYS
) -> dict[str, list[Suggestion]]:
    """Draft purchase orders per supplier id (products with a rule and a supplier)."""
    if window_days <= 0 or window_days > 366:
        raise InvalidArgument("window_days", "1 to 366 days")
    sold = stock_repo.sold_since(conn, now - timedelta(days=window_days))
    ordered = on_order(conn)
    rows = fast.execute(
        conn,
        "SELECT r.product_id, coalesce(s.on_hand_milli, 0), r.min_milli, r.max_milli, "
        "r.pack_milli, coalesce(r.lead_days, sup.lead_days), r.supplier_id "
        "FROM stock_rules r JOIN suppliers sup ON sup.supplier_id = r.supplier_id "
        "LEFT JOIN stock_levels s ON s.product_id = r.product_id",
    )
    positions = [
        StockPosition(
            product_id=pid,
            on_hand_milli=oh,
            on_order_milli=ordered.get(pid, 0),
            sold_in_window_milli=sold.get(pid, 0),
            min_milli=mn,
            max_milli=mx,
            pack_milli=pack,
            lead_days=lead,
            supplier_id=sup,
        )
        for pid, oh, mn, mx, pack, lead, sup in rows
    ]
    return suggest_all(positions, window_days)


def place_order(
    uow: UnitOfWork, *, po_id: str, supplier_id: str, lines: Sequence[LineInput]
) -> str:
    """Record an order sent to a supplier; its open quantity is on-order until received."""
    po = check_uuid(po_id, "po_id")
    if (
        uow.conn.execute(
            select(Supplier.supplier_id).where(Supplier.supplier_id == supplier_id)
        ).first()
        is None
    ):
        raise NotFound(f"no supplier {supplier_id}", reason="UNKNOWN_SUPPLIER")
    resolved = resolve(uow.conn, lines)
    merged: dict[int, int] = {}
    for ln in resolved:
        merged[ln.product_id] = merged.get(ln.product_id, 0) + ln.quantity_milli
    existing = uow.conn.execute(
        select(PurchaseOrder.supplier_id).where(PurchaseOrder.po_id == po)
    ).first()
    if existing is not None:
        had = dict(
            fast.execute(
                uow.conn,
                "SELECT product_id, quantity_milli FROM purchase_order_lines WHERE po_id = ?",
                (po,),
            )
        )
        if existing.supplier_id != supplier_id or had != merged:
            raise AlreadyExists(f"purchase order {po} exists with other content", field="po_id")
        return po
    fast.insert_rows(
        uow.conn,
        PurchaseOrder.__table__,
        [
            {
                "po_id": po,
                "supplier_id": supplier_id,
                "status": "ordered",
                "created_by": uow.actor.operator_id,
                "created_at": uow.now,
                "ordered_at": uow.now,
            }
        ],
    )
    fast.insert_rows(
        uow.conn,
        PurchaseOrderLine.__table__,
        [
            {"po_id": po, "product_id": pid, "quantity_milli": q, "received_milli": 0}
            for pid, q in merged.items()
        ],
    )
    uow.change(
        "stock.purchase_order", po, {"supplier_id": supplier_id, "lines": sorted(merged.items())}
    )
    return po


def supplier_names(conn: Connection) -> dict[str, str]:
    return dict(fast.execute(conn, "SELECT supplier_id, name FROM suppliers"))


def order_of(conn: Connection, po_id: str) -> tuple[str, list[tuple[int, int]]]:
    """(status, [(product_id, quantity_milli)]) of a purchase order."""
    status = fast.execute(conn, "SELECT status FROM purchase_orders WHERE po_id = ?", (po_id,))
    if not status:
        raise NotFound(f"no purchase order {po_id}", reason="UNKNOWN_PURCHASE_ORDER")
    lines = fast.execute(
        conn,
        "SELECT product_id, quantity_milli FROM purchase_order_lines WHERE po_id = ? "
        "ORDER BY product_id",
        (po_id,),
    )
    return status[0][0], lines
