"""Member ledger entries (points and stored value) at HQ, each at the store that made it.

Projected from "points_entry" and "stored_value_entry" change rows. The
row's store (the replicated change row's store id) is the store that made the
entry: entries HQ sends down to other stores (one card) are not sent up again,
so every entry is counted once, where it was made.

An entry's business day is its document's (the sale, return or deposit in the
same store transaction, which a batch never splits); an entry with no such
document in its transaction (expiry, gifts) takes the day of its time in the
chain's time zone (Asia/Shanghai, cut-over 04:00, as the stores' default).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Column, Connection, DateTime, PrimaryKeyConstraint, String, Table

from hq_link.hq.projectors import Insert, ProjectionError
from hq_link.hq.projectors.receipts import receipt_of
from hq_link.hq.tables import metadata
from store_server.domain.business_day import business_day

CHAIN_ZONE = ZoneInfo("Asia/Shanghai")
CHAIN_CUTOVER_HOUR = 4

entries = Table(
    "hq_ledger_entries",
    metadata,
    Column("store_id", String(16), nullable=False),  # the store that made the entry
    Column("entry_id", String(40), nullable=False),
    Column("ledger", String(12), nullable=False),  # points or stored_value
    Column("member_id", String(16), nullable=False),
    Column("kind", String(16), nullable=False),  # topup, spend, refund, cash_out / earn, redeem...
    Column("source_kind", String(16), nullable=False),
    Column("source_id", String(64), nullable=False),
    Column("points", BigInteger, nullable=False),  # signed; 0 on stored value
    Column("paid_fen", BigInteger, nullable=False),  # signed; 0 on points
    Column("bonus_fen", BigInteger, nullable=False),  # signed; 0 on points
    Column("business_day", String(10), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "entry_id"),
)

_LEDGERS = {"points_entry": "points", "stored_value_entry": "stored_value"}


def _num(payload: dict, key: str) -> int:
    value = payload.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProjectionError(f"{key} {value!r} is not an integer")
    return value


def _document_days(rows: Sequence[Any]) -> dict[int, str]:
    """txn -> the business day of the sale, return or deposit in that transaction."""
    days: dict[int, str] = {}
    for ch in rows:
        try:
            if ch.row.kind in ("sale", "return"):
                days[ch.row.txn or ch.row.seq] = str(receipt_of(ch)["business_day"])[:10]
            elif ch.row.kind == "member_deposit" and ch.payload.get("business_day"):
                days[ch.row.txn or ch.row.seq] = str(ch.payload["business_day"])[:10]
        except (KeyError, TypeError, ValueError, ProjectionError):
            continue  # the receipt projector quarantines an unreadable receipt
    return days


def entry_row(store_id: str, ch: Any, day: str | None) -> dict[str, object]:
    p = ch.payload
    ledger = _LEDGERS[ch.row.kind]
    at: datetime = ch.at
    try:
        return {
            "store_id": store_id,
            "entry_id": ch.row.key[:40],
            "ledger": ledger,
            "member_id": str(p["member_id"])[:16],
            "kind": str(p["kind"])[:16],
            "source_kind": str(p.get("source_kind", ""))[:16],
            "source_id": str(p.get("source_id", ""))[:64],
            "points": _num(p, "points") if ledger == "points" else 0,
            "paid_fen": _num(p, "paid_fen") if ledger == "stored_value" else 0,
            "bonus_fen": _num(p, "bonus_fen") if ledger == "stored_value" else 0,
            "business_day": day or business_day(at, CHAIN_ZONE, CHAIN_CUTOVER_HOUR).isoformat(),
            "at": at,
            "seq": ch.row.seq,
        }
    except KeyError as exc:
        raise ProjectionError(f"{ch.row.kind} has no {exc}") from exc


def project(conn: Connection, insert: Insert, store_id: str, rows: Sequence[Any]) -> None:
    mine = [ch for ch in rows if ch.row.kind in _LEDGERS]
    if not mine:
        return
    days = _document_days(rows)
    insert.rows(
        entries, [entry_row(store_id, ch, days.get(ch.row.txn or ch.row.seq)) for ch in mine]
    )
