"""Reading and writing the members table and its cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, update

from store_server.db.member_models import Member
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


# Member auth and every member sale read this row: plain DB-API on the same
# connection and transaction, as db/fast.py does for the commit. A SQLAlchemy
# select of these 18 columns cost ~0.5 ms of Python each time, several times a
# commit (make bench: members_bench).
_COLUMNS = ", ".join(f"m.{name}" for name in MemberRow.__slots__)
_BY = f"SELECT {_COLUMNS} FROM members m WHERE m.%s = ?"
_BY_ID = _BY % "member_id"
_BY_PHONE = _BY % "phone"
_BY_CARD = (
    f"SELECT c.status, {_COLUMNS} FROM member_cards c"
    " LEFT JOIN members m ON m.member_id = c.member_id WHERE c.card_no = ?"
)
_BIRTHDAY = MemberRow.__slots__.index("birthday")
_LOCKED = MemberRow.__slots__.index("locked_until")
assert set(MemberRow.__slots__) <= set(Member.__table__.c.keys())


def _row(values: tuple) -> MemberRow:
    """A member row as SQLAlchemy's Date and UtcDateTime would have read it."""
    out = list(values)
    if out[_BIRTHDAY] is not None:
        out[_BIRTHDAY] = date.fromisoformat(out[_BIRTHDAY])
    if out[_LOCKED] is not None:
        out[_LOCKED] = datetime.fromisoformat(out[_LOCKED]).replace(tzinfo=UTC)
    return MemberRow(*out)


def _one(conn: Connection, sql: str, key: str) -> MemberRow | None:
    row = conn.connection.driver_connection.execute(sql, (key,)).fetchone()
    return _row(row) if row else None


def by_id(conn: Connection, member_id: str) -> MemberRow | None:
    return _one(conn, _BY_ID, member_id)


def by_phone(conn: Connection, phone: str) -> MemberRow | None:
    return _one(conn, _BY_PHONE, phone)


def by_card(conn: Connection, card_no: str) -> MemberRow:
    """The member of a card; a lost or replaced card is refused, as at every store."""
    row = conn.connection.driver_connection.execute(_BY_CARD, (card_no,)).fetchone()
    if row is None:
        raise NotFound("no member with this card", reason="UNKNOWN_CARD")
    if row[0] != "active":
        raise FailedPrecondition(
            "this card was reported lost or replaced: it cannot be used", reason="CARD_LOST"
        )
    assert row[1] is not None
    return _row(row[1:])


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
