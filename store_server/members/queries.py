"""The member's own history, points about to expire, and the expiry run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select

from store_server.config import Config
from store_server.db import fast
from store_server.db.member_models import (
    CountCardRow,
    Member,
    PointsEntry,
    PointsLot,
    SaleMember,
    StoredValueEntry,
)
from store_server.db.sales_models import Sale
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.members.identity import mask_phone
from store_server.members import ledger
from store_server.members.ledger import Source


@dataclass(frozen=True, slots=True)
class Purchase:
    receipt_no: str
    store_id: str
    total_fen: int
    at: datetime
    points_earned: int


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    ledger: str  # points, stored_value
    kind: str
    points: int
    paid_fen: int
    bonus_fen: int
    source_kind: str
    source_id: str
    store_id: str
    at: datetime


def history(conn: Connection, member_id: str, limit: int) -> tuple[list[Purchase], list[Entry]]:
    purchases = [
        Purchase(*row)
        for row in conn.execute(
            select(
                Sale.receipt_no,
                Sale.store_id,
                Sale.total_fen,
                Sale.created_at,
                SaleMember.points_earned,
            )
            .join(SaleMember, SaleMember.sale_id == Sale.sale_id)
            .where(SaleMember.member_id == member_id)
            .order_by(Sale.created_at.desc())
            .limit(limit)
        )
    ]
    points = [
        Entry(
            r.entry_id,
            "points",
            r.kind,
            r.points,
            0,
            0,
            r.source_kind,
            r.source_id,
            r.store_id,
            r.created_at,
        )
        for r in conn.execute(
            select(PointsEntry)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.created_at.desc(), PointsEntry.entry_id.desc())
            .limit(limit)
        )
    ]
    values = [
        Entry(
            r.entry_id,
            "stored_value",
            r.kind,
            0,
            r.paid_fen,
            r.bonus_fen,
            r.source_kind,
            r.source_id,
            r.store_id,
            r.created_at,
        )
        for r in conn.execute(
            select(StoredValueEntry)
            .where(StoredValueEntry.member_id == member_id)
            .order_by(StoredValueEntry.created_at.desc(), StoredValueEntry.entry_id.desc())
            .limit(limit)
        )
    ]
    entries = sorted(points + values, key=lambda e: (e.at, e.entry_id), reverse=True)[:limit]
    return purchases, entries


@dataclass(frozen=True, slots=True)
class Expiring:
    member_id: str
    masked_phone: str
    points: int
    expires_on: date


def expiring(conn: Connection, today: date, before: date, limit: int) -> list[Expiring]:
    """Members with points whose last day falls between today and `before` (reminders)."""
    rows = conn.execute(
        select(PointsLot.member_id, Member.phone, PointsLot.remaining, PointsLot.expires_on)
        .join(Member, Member.member_id == PointsLot.member_id)
        .where(
            PointsLot.remaining > 0,
            PointsLot.expires_on >= today,
            PointsLot.expires_on < before,
        )
        .order_by(PointsLot.expires_on, PointsLot.member_id)
        .limit(limit)
    )
    return [Expiring(m, mask_phone(p), r, e) for m, p, r, e in rows]


def expire_points(
    uow: UnitOfWork, config: Config, today: date, *, progress=None
) -> tuple[int, int, set[str]]:
    """Every lot past its last day loses what is left: one entry per lot.

    Returns (lots, points, members touched). Idempotent: an expired lot has
    nothing left, so a second run finds nothing.
    """
    due = uow.conn.execute(
        select(PointsLot.lot_id, PointsLot.member_id, PointsLot.remaining, PointsLot.expires_on)
        .where(
            PointsLot.remaining > 0,
            PointsLot.expires_on < today,
            # Lots earned at other stores are mirrored here (一卡通); the store
            # that earned a lot expires it, once, and the entry comes down.
            PointsLot.lot_id.like(f"{config.store_id}-%"),
        )
        .order_by(PointsLot.member_id, PointsLot.lot_id)
    ).all()
    total = 0
    members: set[str] = set()
    for i, (lot_id, member_id, remaining, _) in enumerate(due, start=1):
        ledger.take_from_lots(uow, [(lot_id, remaining)])
        ledger.points_entry(
            uow,
            config.store_id,
            member_id,
            "expire",
            -remaining,
            Source("expiry", today.isoformat()),
            lot_id=lot_id,
        )
        total += remaining
        members.add(member_id)
        if progress is not None and (i % 1000 == 0 or i == len(due)):
            progress(i, len(due))
    if due:
        uow.audit(
            "member.points_expired", today.isoformat(), detail={"lots": len(due), "points": total}
        )
    return len(due), total, members


@dataclass(frozen=True, slots=True)
class CountCardView:
    """A count_cards row, read with plain DB-API: it is on every member auth."""

    card_id: str
    member_id: str
    product_id: int
    name: str
    total_uses: int
    remaining: int
    expires_on: date | None
    created_at: datetime


_COUNT_CARDS = (
    f"SELECT {', '.join(CountCardView.__slots__)} FROM count_cards"
    " WHERE member_id = ? ORDER BY created_at"
)
assert set(CountCardView.__slots__) == set(CountCardRow.__table__.c.keys())


def count_cards(conn: Connection, member_id: str) -> list[CountCardView]:
    return [
        CountCardView(
            card_id,
            member,
            product_id,
            name,
            total_uses,
            remaining,
            date.fromisoformat(expires_on) if expires_on else None,
            datetime.fromisoformat(created_at).replace(tzinfo=UTC),
        )
        for card_id, member, product_id, name, total_uses, remaining, expires_on, created_at in (
            fast.execute(conn, _COUNT_CARDS, (member_id,))
        )
    ]
