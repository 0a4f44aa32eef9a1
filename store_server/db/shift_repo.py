"""Shifts, cash movements, business days and the figures of X and Z reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, bindparam, case, func, insert, select, update

from store_server.db import fast
from store_server.db.member_models import MemberDeposit
from store_server.db.sales_models import (
    BusinessDay,
    CashMovement,
    ReturnDoc,
    ReturnPayment,
    Sale,
    SalePayment,
    Shift,
)
from store_server.domain.errors import FailedPrecondition
from store_server.domain.tender import CASH_LIKE


@dataclass(frozen=True, slots=True)
class ShiftRow:
    shift_id: str
    device_id: str
    operator_id: str
    business_day: str
    float_fen: int
    opened_at: datetime
    closed_at: datetime | None
    counted_cash_fen: int | None
    z_report: str | None


def _row(r: Row) -> ShiftRow:
    return ShiftRow(
        r.shift_id,
        r.device_id,
        r.operator_id,
        r.business_day,
        r.float_fen,
        r.opened_at,
        r.closed_at,
        r.counted_cash_fen,
        r.z_report,
    )


def get(conn: Connection, shift_id: str) -> ShiftRow | None:
    r = conn.execute(select(Shift).where(Shift.shift_id == shift_id)).first()
    return _row(r) if r else None


_OPEN_FOR_DEVICE = select(Shift).where(
    Shift.device_id == bindparam("device_id"), Shift.closed_at.is_(None)
)
_DAY = select(BusinessDay).where(BusinessDay.day == bindparam("day"))


def open_for_device(conn: Connection, device_id: str) -> ShiftRow | None:
    r = conn.execute(_OPEN_FOR_DEVICE, {"device_id": device_id}).first()
    return _row(r) if r else None


def open_shifts_of_day(conn: Connection, day: str) -> list[str]:
    return list(
        conn.execute(
            select(Shift.shift_id).where(Shift.business_day == day, Shift.closed_at.is_(None))
        ).scalars()
    )


def open_shift_id(conn: Connection, device_id: str) -> str:
    """The open shift of a till, for the commit path (one plain query, see db.fast)."""
    rows = fast.execute(
        conn, "SELECT shift_id FROM shifts WHERE device_id = ? AND closed_at IS NULL", (device_id,)
    )
    if not rows:
        raise FailedPrecondition("no open shift on this till: open one first", reason="NO_SHIFT")
    return rows[0][0]


def day_closed_fast(conn: Connection, day: str) -> bool:
    rows = fast.execute(conn, "SELECT closed_at FROM business_days WHERE day = ?", (day,))
    return bool(rows) and rows[0][0] is not None


def insert_shift(conn: Connection, **values: object) -> None:
    conn.execute(insert(Shift).values(**values))


def close_shift(
    conn: Connection, shift_id: str, *, at: datetime, counted_fen: int, z_report: str
) -> None:
    conn.execute(
        update(Shift)
        .where(Shift.shift_id == shift_id)
        .values(closed_at=at, counted_cash_fen=counted_fen, z_report=z_report)
    )


def movement(conn: Connection, movement_id: str) -> Row | None:
    return conn.execute(select(CashMovement).where(CashMovement.movement_id == movement_id)).first()


def insert_movement(conn: Connection, **values: object) -> None:
    conn.execute(insert(CashMovement).values(**values))


def day_row(conn: Connection, day: str) -> Row | None:
    return conn.execute(_DAY, {"day": day}).first()


def day_is_closed(conn: Connection, day: str) -> bool:
    row = day_row(conn, day)
    return row is not None and row.closed_at is not None


def set_day(conn: Connection, day: str, **values: object) -> None:
    if day_row(conn, day) is None:
        conn.execute(insert(BusinessDay).values(day=day, **values))
    else:
        conn.execute(update(BusinessDay).where(BusinessDay.day == day).values(**values))


@dataclass(frozen=True, slots=True)
class ShiftFigures:
    sales_count: int
    sales_total_fen: int
    discounts_fen: int
    rounding_fen: int
    returns_count: int
    returns_total_fen: int
    tenders: dict[str, tuple[int, int]]  # kind -> (applied less refunds, count)
    cash_in_fen: int
    cash_out_fen: int
    no_sale_count: int
    yuan_cash_tendered_fen: int  # notes handed over in yuan
    change_fen: int  # given back, always in yuan
    cash_refunds_fen: int  # refunds paid out in yuan cash
    # Member top-ups and count cards paid in cash, less stored value paid back in cash.
    member_cash_fen: int = 0

    @property
    def drawer_delta_fen(self) -> int:
        """What the yuan in the drawer should have changed by since the float."""
        return (
            self.yuan_cash_tendered_fen
            - self.change_fen
            - self.cash_refunds_fen
            + self.member_cash_fen
            + self.cash_in_fen
            - self.cash_out_fen
        )


def figures(
    conn: Connection, *, shift_id: str | None = None, day: str | None = None
) -> ShiftFigures:
    """Aggregates for one shift or one business day: a handful of indexed SUMs."""

    def where(col_shift: object, col_day: object) -> object:
        return col_shift == shift_id if shift_id is not None else col_day == day

    sales = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Sale.total_fen), 0),
            func.coalesce(func.sum(Sale.discount_fen), 0),
            func.coalesce(func.sum(Sale.rounding_fen), 0),
            func.coalesce(func.sum(Sale.change_fen), 0),
        ).where(where(Sale.shift_id, Sale.business_day))
    ).one()
    yuan_tendered = conn.execute(
        select(func.coalesce(func.sum(SalePayment.tendered_fen), 0))
        .join(Sale, Sale.sale_id == SalePayment.sale_id)
        .where(where(Sale.shift_id, Sale.business_day), SalePayment.kind == "cash")
    ).scalar_one()
    returns = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(ReturnDoc.refund_fen), 0),
        ).where(where(ReturnDoc.shift_id, ReturnDoc.business_day))
    ).one()
    tenders: dict[str, tuple[int, int]] = {}
    for kind, amount, count in conn.execute(
        select(SalePayment.kind, func.sum(SalePayment.applied_fen), func.count())
        .join(Sale, Sale.sale_id == SalePayment.sale_id)
        .where(where(Sale.shift_id, Sale.business_day))
        .group_by(SalePayment.kind)
    ):
        tenders[kind] = (amount, count)
    cash_refunds = 0
    for kind, amount, count in conn.execute(
        select(ReturnPayment.kind, func.sum(ReturnPayment.amount_fen), func.count())
        .join(ReturnDoc, ReturnDoc.return_id == ReturnPayment.return_id)
        .where(where(ReturnDoc.shift_id, ReturnDoc.business_day))
        .group_by(ReturnPayment.kind)
    ):
        # Cash refunds of any cash-like tender are paid out in yuan.
        key = "cash" if kind in CASH_LIKE else kind
        if key == "cash":
            cash_refunds += amount
        before = tenders.get(key, (0, 0))
        tenders[key] = (before[0] - amount, before[1] + count)

    def total(kind: str, value: object) -> object:
        return func.coalesce(func.sum(case((CashMovement.kind == kind, value), else_=0)), 0)

    cash_query = select(
        total("in", CashMovement.amount_fen),
        total("out", CashMovement.amount_fen),
        total("no_sale", 1),
    ).join(Shift, Shift.shift_id == CashMovement.shift_id)
    cash = conn.execute(cash_query.where(where(Shift.shift_id, Shift.business_day))).one()
    member_cash = conn.execute(
        select(func.coalesce(func.sum(MemberDeposit.amount_fen), 0)).where(
            where(MemberDeposit.shift_id, MemberDeposit.business_day),
            MemberDeposit.tender == "cash",
        )
    ).scalar_one()
    return ShiftFigures(
        sales_count=sales[0],
        sales_total_fen=sales[1],
        discounts_fen=sales[2],
        rounding_fen=sales[3],
        returns_count=returns[0],
        returns_total_fen=returns[1],
        tenders=tenders,
        cash_in_fen=cash[0],
        cash_out_fen=cash[1],
        no_sale_count=cash[2],
        yuan_cash_tendered_fen=yuan_tendered,
        change_fen=sales[4],
        cash_refunds_fen=cash_refunds,
        member_cash_fen=member_cash,
    )
