"""Models of selling: baskets, sales, returns, shifts, cash, days, stock movements.

Money is fen, quantities thousandths, times UTC. A committed sale is never
updated: corrections are new documents (returns).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store_server.db.models import Base
from store_server.db.types import UtcDateTime


class Shift(Base):
    __tablename__ = "shifts"
    shift_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[str] = mapped_column(String(16))
    business_day: Mapped[str] = mapped_column(String(10))
    float_fen: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    counted_cash_fen: Mapped[int | None] = mapped_column(BigInteger)
    z_report: Mapped[str | None] = mapped_column(Text)  # frozen JSON of the Z report
    __table_args__ = (Index("ix_shifts_device_open", "device_id", "closed_at"),)


class CashMovement(Base):
    __tablename__ = "cash_movements"
    movement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    shift_id: Mapped[str] = mapped_column(ForeignKey("shifts.shift_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # in, out, no_sale
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(120))
    operator_id: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BusinessDay(Base):
    __tablename__ = "business_days"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(16))
    reopened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reopened_by: Mapped[str | None] = mapped_column(String(16))


class BasketRow(Base):
    __tablename__ = "baskets"
    basket_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # open, held, committed, cleared
    totalled: Mapped[bool] = mapped_column(Boolean, default=False)
    member_id: Mapped[str | None] = mapped_column(String(32))
    sale_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_baskets_device_status", "device_id", "status"),)


class BasketLineRow(Base):
    __tablename__ = "basket_lines"
    line_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    basket_id: Mapped[str] = mapped_column(ForeignKey("baskets.basket_id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    code: Mapped[str] = mapped_column(String(48))
    pack_factor: Mapped[int] = mapped_column(Integer)
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    member_unit_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    fixed_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    override_unit_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    override_by: Mapped[str | None] = mapped_column(String(16))
    gift: Mapped[bool] = mapped_column(Boolean, default=False)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)


class Sale(Base):
    __tablename__ = "sales"
    sale_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[str] = mapped_column(String(16))
    business_day: Mapped[str] = mapped_column(String(10), index=True)
    shift_id: Mapped[str] = mapped_column(ForeignKey("shifts.shift_id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[str] = mapped_column(String(16))
    basket_id: Mapped[str] = mapped_column(String(36))
    member_id: Mapped[str | None] = mapped_column(String(32))
    subtotal_fen: Mapped[int] = mapped_column(BigInteger)
    discount_fen: Mapped[int] = mapped_column(BigInteger)
    rounding_fen: Mapped[int] = mapped_column(BigInteger)
    total_fen: Mapped[int] = mapped_column(BigInteger)  # payable, after rounding
    change_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    receipt: Mapped[str] = mapped_column(Text)  # the structured receipt, frozen (JSON)


class SaleLine(Base):
    __tablename__ = "sale_lines"
    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.sale_id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)  # scan units
    pack_factor: Mapped[int] = mapped_column(Integer)
    base_amount_fen: Mapped[int] = mapped_column(BigInteger)
    net_amount_fen: Mapped[int] = mapped_column(BigInteger)
    # What the customer paid for the line: net plus its share of the sale's
    # rounding. Returns refund from this, so all refunds sum to what was paid.
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    gift: Mapped[bool] = mapped_column(Boolean)


class SalePayment(Base):
    __tablename__ = "sale_payments"
    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.sale_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    tendered_fen: Mapped[int] = mapped_column(BigInteger)
    applied_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    foreign_amount_minor: Mapped[int] = mapped_column(BigInteger)
    rate_micro: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(64))


class ReturnDoc(Base):
    __tablename__ = "returns"
    return_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    original_sale_id: Mapped[str | None] = mapped_column(ForeignKey("sales.sale_id"), index=True)
    business_day: Mapped[str] = mapped_column(String(10), index=True)
    shift_id: Mapped[str] = mapped_column(ForeignKey("shifts.shift_id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(120))
    refund_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    receipt: Mapped[str] = mapped_column(Text)


class ReturnLine(Base):
    __tablename__ = "return_lines"
    return_id: Mapped[str] = mapped_column(ForeignKey("returns.return_id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    original_line_no: Mapped[int | None] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)  # scan units
    pack_factor: Mapped[int] = mapped_column(Integer)
    refund_fen: Mapped[int] = mapped_column(BigInteger)


class ReturnPayment(Base):
    __tablename__ = "return_payments"
    return_id: Mapped[str] = mapped_column(ForeignKey("returns.return_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(64))


class StockMovement(Base):
    """Every change of stock; on-hand is their sum (stock_levels caches it)."""

    __tablename__ = "stock_movements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity_milli: Mapped[int] = mapped_column(BigInteger)  # product units, signed
    kind: Mapped[str] = mapped_column(String(16))  # sale, return, ...
    source_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StockLevel(Base):
    __tablename__ = "stock_levels"
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    on_hand_milli: Mapped[int] = mapped_column(BigInteger)


class Currency(Base):
    """Exchange rates set by HQ: fen per minor unit of the currency, in millionths."""

    __tablename__ = "currencies"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    rate_micro: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
