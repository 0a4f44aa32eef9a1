"""What HQ says of members' balances: sums of every store's ledger entries.

Functions over HQ's database for `hqctl members` and reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select

from hq_link.hq.onecard import tables as t


@dataclass(frozen=True, slots=True)
class Balance:
    member_id: str
    points: int
    stored_value_fen: int  # paid + bonus


@dataclass(frozen=True, slots=True)
class NegativeMember:
    """A member whose stored value went below zero (spent offline at several stores)."""

    member_id: str
    home_store: str  # "" if HQ has not seen the registration
    stored_value_fen: int  # negative
    offline_spent_fen: int  # spent while a store could not reach HQ
    offline_stores: tuple[str, ...]  # the stores that let those spends through


def balance(conn: Connection, member_id: str) -> Balance:
    e = t.entries.c
    points, sv = conn.execute(
        select(
            func.coalesce(func.sum(e.points), 0),
            func.coalesce(func.sum(e.paid_fen + e.bonus_fen), 0),
        ).where(e.member_id == member_id)
    ).one()
    return Balance(member_id, int(points), int(sv))


def negative_members(conn: Connection) -> list[NegativeMember]:
    """Members whose stored value, summed over all stores, is below zero."""
    e = t.entries.c
    total = func.sum(e.paid_fen + e.bonus_fen)
    offline = func.sum(case((e.offline_day.is_not(None), -(e.paid_fen + e.bonus_fen)), else_=0))
    found = conn.execute(
        select(e.member_id, total, offline)
        .where(e.ledger == "V")
        .group_by(e.member_id)
        .having(total < 0)
        .order_by(total, e.member_id)
    ).all()
    out = []
    for member_id, sv, offline_fen in found:
        home = conn.execute(
            select(t.members.c.home_store).where(t.members.c.member_id == member_id)
        ).scalar()
        stores = conn.execute(
            select(e.store_id)
            .where(e.member_id == member_id, e.ledger == "V", e.offline_day.is_not(None))
            .distinct()
            .order_by(e.store_id)
        ).scalars()
        out.append(NegativeMember(member_id, home or "", int(sv), int(offline_fen), tuple(stores)))
    return out
