"""Append-only ledgers of points and stored value, and the balances they move.

Entry ids are the store id and a per-store sequence (S01-P0000000042), so
they are unique across the chain and HQ merges stores' ledgers without
conflict. Each append also moves the cached balance on the member row and
records the entry for replication, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from store_server.db import fast
from store_server.db.member_models import PointsEntry, PointsLot, StoredValueEntry
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.members.points import Lot
from store_server.members.records import add_to_balances

_POINTS = PointsEntry.__table__
_LOTS = PointsLot.__table__
_SV = StoredValueEntry.__table__
_TAKE_LOT = "UPDATE points_lots SET remaining = remaining - ? WHERE lot_id = ?"


@dataclass(frozen=True, slots=True)
class Source:
    kind: str  # sale, return, topup, expiry, gift, transfer, ...
    id: str


def _entry_id(uow: UnitOfWork, store_id: str, letter: str) -> str:
    return f"{store_id}-{letter}{uow.next_value(f'ledger:{letter}'):010d}"


def _common(uow: UnitOfWork, store_id: str, member_id: str, kind: str, source: Source) -> dict:
    return {
        "member_id": member_id,
        "kind": kind,
        "source_kind": source.kind,
        "source_id": source.id,
        "store_id": store_id,
        "operator_id": uow.actor.operator_id,
        "device_id": uow.actor.device_id,
        "created_at": uow.now,
    }


def points_entry(
    uow: UnitOfWork,
    store_id: str,
    member_id: str,
    kind: str,
    points: int,
    source: Source,
    *,
    lot_id: str | None = None,
    earned: bool = False,
    lot_dates: dict[str, str] | None = None,
) -> str:
    """Append one points entry (signed) and move the balance; returns the entry id.

    Earned points are a lot of their own, named by the entry (lot_id "");
    `lot_dates` (earned_on, expires_on) travel with the change row only, so
    the member's other stores can mirror the lot (一卡通).
    """
    entry_id = _entry_id(uow, store_id, "P")
    row = {
        "entry_id": entry_id,
        "points": points,
        "lot_id": entry_id if lot_id == "" else lot_id,
        **_common(uow, store_id, member_id, kind, source),
    }
    fast.insert_rows(uow.conn, _POINTS, [row])
    add_to_balances(uow.conn, member_id, points=points, points_earned=points if earned else 0)
    uow.change("points_entry", entry_id, {**row, **lot_dates} if lot_dates else row)
    return entry_id


def earn(
    uow: UnitOfWork,
    store_id: str,
    member_id: str,
    points: int,
    source: Source,
    *,
    today: date,
    expires_on: date,
    kind: str = "earn",
) -> str:
    """Points in: an entry and a lot of their own, which expires as one.

    Only kind "earn" counts toward the tier; "refund" gives back spent points.
    """
    entry_id = points_entry(
        uow,
        store_id,
        member_id,
        kind,
        points,
        source,
        lot_id="",
        earned=kind == "earn",
        lot_dates={"earned_on": today.isoformat(), "expires_on": expires_on.isoformat()},
    )
    fast.insert_rows(
        uow.conn,
        _LOTS,
        [
            {
                "lot_id": entry_id,
                "member_id": member_id,
                "earned_on": today,
                "expires_on": expires_on,
                "earned": points,
                "remaining": points,
            }
        ],
    )
    return entry_id


def lots(uow: UnitOfWork, member_id: str) -> list[Lot]:
    return [
        Lot(r.lot_id, r.expires_on, r.remaining)
        for r in uow.conn.execute(
            select(PointsLot.lot_id, PointsLot.expires_on, PointsLot.remaining).where(
                PointsLot.member_id == member_id, PointsLot.remaining > 0
            )
        )
    ]


def take_from_lots(uow: UnitOfWork, taken: list[tuple[str, int]]) -> None:
    uow.conn.connection.driver_connection.executemany(
        _TAKE_LOT, [(points, lot_id) for lot_id, points in taken]
    )


def stored_value_entry(
    uow: UnitOfWork,
    store_id: str,
    member_id: str,
    kind: str,
    paid_fen: int,
    bonus_fen: int,
    source: Source,
    *,
    offline_day: str | None = None,
) -> str:
    """Append one stored-value entry (signed paid and bonus parts) and move the balance.

    `offline_day` (the business day) flags a spend let through under the
    offline floor limit while HQ was unreachable (一卡通).
    """
    entry_id = _entry_id(uow, store_id, "V")
    row = {
        "entry_id": entry_id,
        "paid_fen": paid_fen,
        "bonus_fen": bonus_fen,
        "offline_day": offline_day,
        **_common(uow, store_id, member_id, kind, source),
    }
    fast.insert_rows(uow.conn, _SV, [row])
    add_to_balances(uow.conn, member_id, sv_paid_fen=paid_fen, sv_bonus_fen=bonus_fen)
    uow.change("stored_value_entry", entry_id, row)
    return entry_id
