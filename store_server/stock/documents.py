"""Stock documents: receiving, transfers out and in, adjustments, pack splits.

Each is one unit of work: the document, its lines, the movements (which update
the on-hand cache), the change-log row and, for adjustments, the audit entry.
The document id is the client's UUID: the same document sent again returns the
first one and moves nothing; another document under that id is ALREADY_EXISTS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from store_server.db import fast, stock_repo
from store_server.db.stock_models import (
    PurchaseOrder,
    PurchaseOrderLine,
    StockDocument,
    StockDocumentLine,
    Supplier,
)
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.stock.packs import split_moves
from store_server.stock.lines import LineInput, ResolvedLine, products_by_id, resolve

_DOCS = StockDocument.__table__
_LINES = StockDocumentLine.__table__


@dataclass(frozen=True, slots=True)
class DocumentView:
    doc_id: str
    kind: str
    status: str
    supplier_id: str
    other_store_id: str
    reference: str
    reason: str
    created_at: datetime
    lines: tuple[ResolvedLine, ...]


def load(conn: Connection, doc_id: str) -> DocumentView | None:
    d = conn.execute(select(_DOCS).where(_DOCS.c.doc_id == doc_id)).first()
    if d is None:
        return None
    lines = fast.execute(
        conn,
        "SELECT product_id, quantity_milli, cost_fen FROM stock_document_lines "
        "WHERE doc_id = ? ORDER BY line_no",
        (doc_id,),
    )
    return DocumentView(
        doc_id=d.doc_id,
        kind=d.kind,
        status=d.status,
        supplier_id=d.supplier_id or "",
        other_store_id=d.other_store_id or "",
        reference=d.reference,
        reason=d.reason,
        created_at=d.created_at,
        lines=tuple(ResolvedLine(p, q, c) for p, q, c in lines),
    )


def _replay(uow: UnitOfWork, doc_id: str, kind: str, lines: Sequence[ResolvedLine]) -> bool:
    """True when this document exists already as the same document (a re-send)."""
    existing = load(uow.conn, doc_id)
    if existing is None:
        return False
    if existing.kind != kind or tuple(lines) != existing.lines:
        raise AlreadyExists(f"document {doc_id} exists with other content", field="doc_id")
    return True


def _write(
    uow: UnitOfWork,
    *,
    doc_id: str,
    kind: str,
    lines: Sequence[ResolvedLine],
    status: str = "posted",
    supplier_id: str | None = None,
    other_store_id: str | None = None,
    po_id: str | None = None,
    reference: str = "",
    reason: str = "",
) -> DocumentView:
    fast.insert_rows(
        uow.conn,
        _DOCS,
        [
            {
                "doc_id": doc_id,
                "kind": kind,
                "status": status,
                "supplier_id": supplier_id,
                "other_store_id": other_store_id,
                "po_id": po_id,
                "reference": reference,
                "reason": reason,
                "operator_id": uow.actor.operator_id,
                "device_id": uow.actor.device_id,
                "created_at": uow.now,
            }
        ],
    )
    fast.insert_rows(
        uow.conn,
        _LINES,
        [
            {
                "doc_id": doc_id,
                "line_no": i + 1,
                "product_id": ln.product_id,
                "quantity_milli": ln.quantity_milli,
                "cost_fen": ln.unit_cost_fen,
            }
            for i, ln in enumerate(lines)
        ],
    )
    stock_repo.record(
        uow.conn,
        [(ln.product_id, ln.quantity_milli) for ln in lines],
        kind=kind,
        source_id=doc_id,
        at=uow.now,
    )
    payload: dict[str, object] = {
        "kind": kind,
        "status": status,
        "supplier_id": supplier_id,
        "other_store_id": other_store_id,
        "po_id": po_id,
        "reference": reference,
        "reason": reason,
        "lines": [[ln.product_id, ln.quantity_milli, ln.unit_cost_fen] for ln in lines],
    }
    uow.change(f"stock.{kind}", doc_id, payload)
    view = load(uow.conn, doc_id)
    assert view is not None
    return view


def _check_text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidArgument(field, "required")
    if len(value) > limit:
        raise InvalidArgument(field, f"at most {limit} characters")
    return value


def receive(
    uow: UnitOfWork,
    *,
    delivery_id: str,
    supplier_id: str,
    reference: str,
    lines: Sequence[LineInput],
    po_id: str = "",
) -> DocumentView:
    """Goods in from a supplier against a delivery note; fills the purchase order's lines."""
    doc_id = check_uuid(delivery_id, "delivery_id")
    reference = _check_text(reference, "reference", 64)
    supplier = _check_text(supplier_id, "supplier_id", 16, required=True)
    if (
        uow.conn.execute(
            select(Supplier.supplier_id).where(Supplier.supplier_id == supplier)
        ).first()
        is None
    ):
        raise NotFound(f"no supplier {supplier}", reason="UNKNOWN_SUPPLIER")
    resolved = resolve(uow.conn, lines)
    if _replay(uow, doc_id, "receiving", resolved):
        return load(uow.conn, doc_id)  # type: ignore[return-value]
    po = check_uuid(po_id, "po_id") if po_id else None
    if po is not None:
        _fill_order(uow, po, supplier, resolved)
    return _write(
        uow,
        doc_id=doc_id,
        kind="receiving",
        lines=resolved,
        supplier_id=supplier,
        po_id=po,
        reference=reference,
    )


def _fill_order(uow: UnitOfWork, po_id: str, supplier: str, lines: Sequence[ResolvedLine]) -> None:
    row = uow.conn.execute(
        select(PurchaseOrder.status, PurchaseOrder.supplier_id).where(PurchaseOrder.po_id == po_id)
    ).first()
    if row is None:
        raise NotFound(f"no purchase order {po_id}", reason="UNKNOWN_PURCHASE_ORDER")
    if row.status != "ordered":
        raise FailedPrecondition(f"purchase order {po_id} is {row.status}", reason="ORDER_NOT_OPEN")
    if row.supplier_id != supplier:
        raise InvalidArgument("supplier_id", f"purchase order {po_id} is from {row.supplier_id}")
    for ln in lines:
        uow.conn.execute(
            update(PurchaseOrderLine)
            .where(PurchaseOrderLine.po_id == po_id, PurchaseOrderLine.product_id == ln.product_id)
            .values(received_milli=PurchaseOrderLine.received_milli + ln.quantity_milli)
        )
    open_lines = fast.execute(
        uow.conn,
        "SELECT count(*) FROM purchase_order_lines "
        "WHERE po_id = ? AND received_milli < quantity_milli",
        (po_id,),
    )[0][0]
    if not open_lines:
        uow.conn.execute(
            update(PurchaseOrder).where(PurchaseOrder.po_id == po_id).values(status="received")
        )


def send_transfer(
    uow: UnitOfWork,
    *,
    transfer_id: str,
    to_store_id: str,
    reference: str,
    lines: Sequence[LineInput],
) -> DocumentView:
    """Goods out to another store; the change log carries the document to it (via HQ)."""
    doc_id = check_uuid(transfer_id, "transfer_id")
    other = _check_text(to_store_id, "to_store_id", 16, required=True)
    reference = _check_text(reference, "reference", 64)
    out = [
        ResolvedLine(ln.product_id, -ln.quantity_milli, ln.unit_cost_fen)
        for ln in resolve(uow.conn, lines)
    ]
    if _replay(uow, doc_id, "transfer_out", out):
        return load(uow.conn, doc_id)  # type: ignore[return-value]
    return _write(
        uow,
        doc_id=doc_id,
        kind="transfer_out",
        lines=out,
        status="sent",
        other_store_id=other,
        reference=reference,
    )


def receive_transfer(
    uow: UnitOfWork, *, transfer_id: str, from_store_id: str, lines: Sequence[LineInput]
) -> DocumentView:
    """Goods in from another store's transfer, under the sender's transfer id."""
    doc_id = check_uuid(transfer_id, "transfer_id")
    other = _check_text(from_store_id, "from_store_id", 16, required=True)
    resolved = resolve(uow.conn, lines)
    if _replay(uow, doc_id, "transfer_in", resolved):
        return load(uow.conn, doc_id)  # type: ignore[return-value]
    return _write(uow, doc_id=doc_id, kind="transfer_in", lines=resolved, other_store_id=other)


def adjust(
    uow: UnitOfWork, *, adjustment_id: str, reason: str, lines: Sequence[LineInput]
) -> DocumentView:
    """A correction with a reason (breakage, expiry, theft found...); audited."""
    doc_id = check_uuid(adjustment_id, "adjustment_id")
    reason = _check_text(reason, "reason", 120, required=True)
    resolved = resolve(uow.conn, lines, signed=True)
    if _replay(uow, doc_id, "adjustment", resolved):
        return load(uow.conn, doc_id)  # type: ignore[return-value]
    view = _write(uow, doc_id=doc_id, kind="adjustment", lines=resolved, reason=reason)
    uow.audit(
        "stock.adjust",
        doc_id,
        detail={"reason": reason, "lines": [[ln.product_id, ln.quantity_milli] for ln in resolved]},
    )
    return view


def split_pack(
    uow: UnitOfWork,
    *,
    split_id: str,
    case_product_id: int,
    unit_product_id: int,
    cases_milli: int,
    units_per_case: int,
    assemble: bool,
) -> DocumentView:
    """One case becomes `units_per_case` units (or back): two movements, one document."""
    doc_id = check_uuid(split_id, "split_id")
    if case_product_id == unit_product_id:
        raise InvalidArgument("unit_product_id", "must differ from case_product_id")
    known = products_by_id(uow.conn, [case_product_id, unit_product_id])
    for field, pid in (("case_product_id", case_product_id), ("unit_product_id", unit_product_id)):
        if pid not in known:
            raise NotFound(f"{field}: no product {pid}", reason="UNKNOWN_PRODUCT")
    case_delta, unit_delta = split_moves(cases_milli, units_per_case, assemble=assemble)
    lines = [
        ResolvedLine(case_product_id, case_delta, None),
        ResolvedLine(unit_product_id, unit_delta, None),
    ]
    if _replay(uow, doc_id, "pack_split", lines):
        return load(uow.conn, doc_id)  # type: ignore[return-value]
    return _write(
        uow,
        doc_id=doc_id,
        kind="pack_split",
        lines=lines,
        reason="assemble" if assemble else "split",
    )
