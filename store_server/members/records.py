"""Reading and writing the members table and its cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from store_server.db.member_models import Member, MemberCard
from store_server.domain.errors import FailedPrecondition, NotFound


@dataclass(frozen=True, slots=True)
class MemberRow:
    member_id: str
    card_no: str
    phone: str
    name: str
    birthday: date | None
    tier: str
    status: str
    pin_hash: str | None
    failed_pins: int
    locked_until: datetime | None
    card_discount_bp: int
    home_store: str
    points: int
    points_earned_total: int
    spend_total_fen: int
    sv_paid_fen: int
    sv_bonus_fen: int
    birthday_coupon_year: int

    @property
    def stored_value_fen(self) -> int:
        return self.sv_paid_fen + self.sv_bonus_fen


_COLUMNS = [getattr(Member, name) for name in MemberRow.__slots__]


def _one(conn: Connection, where: object) -> MemberRow | None:
    row = conn.execute(select(*_COLUMNS).where(where)).first()
    return MemberRow(*row) if row else None


def by_id(conn: Connection, member_id: str) -> MemberRow | None:
    return _one(conn, Member.member_id == member_id)


def by_phone(conn: Connection, phone: str) -> MemberRow | None:
    return _one(conn, Member.phone == phone)


def by_card(conn: Connection, card_no: str) -> MemberRow:
    """The member of a card; a lost or replaced card is refused, as at every store."""
    card = conn.execute(
        select(MemberCard.member_id, MemberCard.status).where(MemberCard.card_no == card_no)
    ).first()
    if card is None:
        raise NotFound("no member with this card", reason="UNKNOWN_CARD")
    if card.status != "active":
        raise FailedPrecondition(
            "this card was reported lost or replaced: it cannot be used", reason="CARD_LOST"
        )
    member = by_id(conn, card.member_id)
    assert member is not None
    return member


def require(conn: Connection, member_id: str) -> MemberRow:
    member = by_id(conn, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}", reason="UNKNOWN_MEMBER")
    return member


def update_member(conn: Connection, member_id: str, **values: object) -> None:
    conn.execute(update(Member).where(Member.member_id == member_id).values(**values))


def add_to_balances(
    conn: Connection,
    member_id: str,
    *,
    points: int = 0,
    points_earned: int = 0,
    spend_fen: int = 0,
    sv_paid_fen: int = 0,
    sv_bonus_fen: int = 0,
) -> None:
    """Move the cached balances by the same amounts as the ledger entries just written."""
    conn.connection.driver_connection.execute(
        "UPDATE members SET points = points + ?, points_earned_total = points_earned_total + ?,"
        " spend_total_fen = spend_total_fen + ?, sv_paid_fen = sv_paid_fen + ?,"
        " sv_bonus_fen = sv_bonus_fen + ? WHERE member_id = ?",
        (points, points_earned, spend_fen, sv_paid_fen, sv_bonus_fen, member_id),
    )
