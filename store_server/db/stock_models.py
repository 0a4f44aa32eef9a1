"""Stock documents, replenishment settings and stocktakes.

The movements themselves (and the cached on-hand) are `sales_models.StockMovement`
and `StockLevel`: every cause appends there; the tables here hold the documents a
movement's `source_id` points at. Quantities are thousandths of a product unit,
money integer fen, times UTC.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store_server.db.models import Base
from store_server.db.types import UtcDateTime


class Supplier(Base):
    __tablename__ = "suppliers"
    supplier_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    lead_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StockRule(Base):
    """Min/max (库存上下限) and who supplies a product in what pack size."""

    __tablename__ = "stock_rules"
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    supplier_id: Mapped[str | None] = mapped_column(ForeignKey("suppliers.supplier_id"))
    min_milli: Mapped[int] = mapped_column(BigInteger)
    max_milli: Mapped[int] = mapped_column(BigInteger)
    pack_milli: Mapped[int] = mapped_column(BigInteger)  # supplier's case, e.g. 24000
    lead_days: Mapped[int | None] = mapped_column(Integer)  # NULL: the supplier's
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StockDocument(Base):
    """A receiving, transfer, adjustment or pack split; its id is the client's UUID."""

    __tablename__ = "stock_documents"
    doc_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # posted; transfer_out: sent, received
    supplier_id: Mapped[str | None] = mapped_column(String(16))
    other_store_id: Mapped[str | None] = mapped_column(String(16))
    po_id: Mapped[str | None] = mapped_column(String(36))
    reference: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(120))
    operator_id: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_stock_documents_kind_created", "kind", "created_at"),)


class StockDocumentLine(Base):
    __tablename__ = "stock_document_lines"
    doc_id: Mapped[str] = mapped_column(ForeignKey("stock_documents.doc_id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)  # signed, as it moved stock
    cost_fen: Mapped[int | None] = mapped_column(BigInteger)  # per unit


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"
    po_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.supplier_id"))
    status: Mapped[str] = mapped_column(String(16))  # draft, ordered, received, cancelled
    created_by: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ordered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    po_id: Mapped[str] = mapped_column(ForeignKey("purchase_orders.po_id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    received_milli: Mapped[int] = mapped_column(BigInteger)


class StocktakeSession(Base):
    """A stocktake (盘点); `snapshot_seq` is the last stock movement it started after."""

    __tablename__ = "stocktake_sessions"
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(16))  # open, closed, posted, cancelled
    scope: Mapped[str] = mapped_column(Text)  # JSON: {"categories": [...], "zones": [...]}
    uncounted_zero: Mapped[bool] = mapped_column(Boolean)
    recount_threshold_milli: Mapped[int] = mapped_column(BigInteger)
    snapshot_seq: Mapped[int] = mapped_column(BigInteger)
    opened_by: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    posted_by: Mapped[str | None] = mapped_column(String(16))
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StocktakeCount(Base):
    """One handheld count; `seen_seq` is the last movement committed when it arrived."""

    __tablename__ = "stocktake_counts"
    count_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("stocktake_sessions.session_id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    zone: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(48))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)  # product units
    counter_id: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(64))
    seen_seq: Mapped[int] = mapped_column(BigInteger)
    replaces: Mapped[str | None] = mapped_column(String(36))
    superseded: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_stocktake_counts_session_product", "session_id", "product_id"),)


class StocktakeVariance(Base):
    """The variance as posted, frozen for the report."""

    __tablename__ = "stocktake_variances"
    session_id: Mapped[str] = mapped_column(
        ForeignKey("stocktake_sessions.session_id"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    counted_milli: Mapped[int] = mapped_column(BigInteger)
    expected_milli: Mapped[int] = mapped_column(BigInteger)
    variance_milli: Mapped[int] = mapped_column(BigInteger)
    unit_cost_fen: Mapped[int] = mapped_column(BigInteger)
