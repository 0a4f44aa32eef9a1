"""HQ's figures of a store's day from its projections, and the store's own as replicated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, func, select

from hq_link.hq import tables
from hq_link.hq.projectors.closes import day_closes, shifts
from hq_link.hq.projectors.ledger import CHAIN_CUTOVER_HOUR, CHAIN_ZONE, entries
from hq_link.hq.projectors.receipts import payments, receipts
from hq_link.hq.reconcile.compare import DayFigures


def hq_day(conn: Connection, store_id: str, day: str, *, ledger: bool = True) -> DayFigures:
    """What HQ's replicated receipts and ledger entries add up to for one store's day."""
    r = receipts.c
    where = (r.store_id == store_id, r.business_day == day)
    sales = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(r.total_fen), 0),
            func.coalesce(func.sum(r.discount_fen), 0),
            func.coalesce(func.sum(r.rounding_fen), 0),
            func.coalesce(func.sum(r.change_fen), 0),
        ).where(*where, r.kind == "sale")
    ).one()
    returns = conn.execute(
        select(func.count(), func.coalesce(func.sum(r.total_fen), 0)).where(
            *where, r.kind == "return"
        )
    ).one()
    p = payments.c
    tenders = {
        k: (int(a), int(n))
        for k, a, n in conn.execute(
            select(p.kind, func.sum(p.applied_fen), func.count())
            .where(p.store_id == store_id, p.business_day == day)
            .group_by(p.kind)
        )
    }
    sv: dict[str, tuple[int, int, int]] | None = None
    pts: dict[str, tuple[int, int]] | None = None
    if ledger:
        e = entries.c
        ewhere = (e.store_id == store_id, e.business_day == day)
        sv = {
            k: (int(a), int(b), int(n))
            for k, a, b, n in conn.execute(
                select(e.kind, func.sum(e.paid_fen), func.sum(e.bonus_fen), func.count())
                .where(*ewhere, e.ledger == "stored_value")
                .group_by(e.kind)
            )
        }
        pts = {
            k: (int(a), int(n))
            for k, a, n in conn.execute(
                select(e.kind, func.sum(e.points), func.count())
                .where(*ewhere, e.ledger == "points")
                .group_by(e.kind)
            )
        }
    return DayFigures(
        sales_count=int(sales[0]),
        sales_total_fen=int(sales[1]),
        discounts_fen=int(sales[2]),
        rounding_fen=int(sales[3]),
        change_fen=int(sales[4]),
        returns_count=int(returns[0]),
        returns_total_fen=-int(returns[1]),  # the store counts refunds as positive
        tenders=tenders,
        stored_value=sv,
        points=pts,
    )


@dataclass(frozen=True, slots=True)
class DayClose:
    closed: bool
    figures: dict | None
    ledger: dict | None


def day_close(conn: Connection, store_id: str, day: str) -> DayClose | None:
    c = day_closes.c
    row = conn.execute(
        select(c.closed, c.figures, c.ledger).where(c.store_id == store_id, c.business_day == day)
    ).first()
    return DayClose(bool(row[0]), row[1], row[2]) if row else None


@dataclass(frozen=True, slots=True)
class ShiftZ:
    shift_id: str
    z: dict | None  # None: opened, no Z report at HQ


def shifts_of_day(conn: Connection, store_id: str, day: str) -> list[ShiftZ]:
    c = shifts.c
    return [
        ShiftZ(sid, z)
        for sid, z in conn.execute(
            select(c.shift_id, c.z)
            .where(c.store_id == store_id, c.business_day == day)
            .order_by(c.opened_at, c.shift_id)
        )
    ]


def known_stores(conn: Connection) -> list[str]:
    return sorted(r[0] for r in conn.execute(select(tables.store_cursors.c.store_id)))


def latest_change_at(conn: Connection, store_id: str) -> datetime | None:
    """The time of the newest change row HQ has of the store (its replication front)."""
    c = tables.changes.c
    at = conn.execute(select(func.max(c.at)).where(c.store_id == store_id)).scalar()
    # SQLite (the demo) hands back naive UTC; PostgreSQL an aware time.
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def quarantined(conn: Connection, store_id: str) -> int:
    q = tables.quarantine.c
    return int(conn.execute(select(func.count()).where(q.store_id == store_id)).scalar_one())


def day_end_utc(day: str) -> datetime:
    """The first instant after a business day, in the chain's zone and cut-over."""
    nxt = date.fromisoformat(day) + timedelta(days=1)
    # In UTC: SQLite compares times as text, so parameters must be UTC like the rows.
    return datetime.combine(nxt, time(CHAIN_CUTOVER_HOUR), tzinfo=CHAIN_ZONE).astimezone(UTC)
