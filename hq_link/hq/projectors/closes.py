"""The stores' own closing figures as they sent them: shifts with their Z reports, day closes.

Projected from "shift.open", "shift.close", "day.close" and "day.reopen"
change rows. These are the store's numbers, kept as sent (JSON), so that
reconciliation compares HQ's sums against what the store printed; HQ never
recomputes or corrects them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    PrimaryKeyConstraint,
    String,
    update,
)
from sqlalchemy import Table as _Table

from hq_link.hq.projectors import Insert
from hq_link.hq.tables import metadata

_TIME = DateTime(timezone=True)
log = logging.getLogger(__name__)

shifts = _Table(
    "hq_shifts",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("shift_id", String(64), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("opened_at", _TIME, nullable=True),
    Column("closed_at", _TIME, nullable=True),
    Column("expected_cash_fen", BigInteger, nullable=True),
    Column("counted_cash_fen", BigInteger, nullable=True),
    Column("z", JSON, nullable=True),  # the Z report's figures as the store sent them
    PrimaryKeyConstraint("store_id", "shift_id"),
)

day_closes = _Table(
    "hq_day_closes",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("closed", Boolean, nullable=False),  # False after a reopen (反结账)
    Column("figures", JSON, nullable=True),  # the day's figures as the store closed it
    Column("ledger", JSON, nullable=True),  # the store's ledger movements of the day
    Column("at", _TIME, nullable=False),
    Column("seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "business_day"),
)


def _day(value: object) -> str | None:
    """A business day as the store sends it (YYYY-MM-DD), or None."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value).isoformat() if len(value) == 10 else None
    except ValueError:
        return None


def _apply(conn: Connection, insert: Insert, store_id: str, ch: Any) -> None:
    kind, key, p = ch.row.kind, ch.row.key[:64], ch.payload
    if kind == "shift.open":
        day = _day(p.get("day"))
        if day is None:
            _skip(store_id, ch, "no business day")
            return
        conn.execute(
            insert(shifts).on_conflict_do_nothing(index_elements=["store_id", "shift_id"]),
            {
                "store_id": store_id,
                "shift_id": key,
                "business_day": day,
                "device_id": str(p.get("device_id", ""))[:64],
                "opened_at": ch.at,
            },
        )
    elif kind == "shift.close":
        values = {
            "closed_at": ch.at,
            "expected_cash_fen": p.get("expected_cash_fen"),
            "counted_cash_fen": p.get("counted_cash_fen"),
            "z": p.get("z"),
        }
        done = conn.execute(
            update(shifts)
            .where(shifts.c.store_id == store_id, shifts.c.shift_id == key)
            .values(**values)
        )
        if done.rowcount == 0:  # the open was before HQ's history (or quarantined)
            day = _day(p.get("business_day"))
            if day is None:
                _skip(store_id, ch, "no business day and no shift.open")
                return
            conn.execute(
                insert(shifts).on_conflict_do_nothing(index_elements=["store_id", "shift_id"]),
                {
                    "store_id": store_id,
                    "shift_id": key,
                    "business_day": day,
                    "device_id": "",
                    **values,
                },
            )
    elif kind in ("day.close", "day.reopen"):
        day = _day(p.get("day", key))
        if day is None:
            _skip(store_id, ch, "no business day")
            return
        closed = kind == "day.close"
        values = {
            "closed": closed,
            "figures": p.get("figures") if closed else None,
            "ledger": p.get("ledger") if closed else None,
            "at": ch.at,
            "seq": ch.row.seq,
        }
        done = conn.execute(
            update(day_closes)
            .where(day_closes.c.store_id == store_id, day_closes.c.business_day == day)
            .values(**values)
        )
        if done.rowcount == 0:
            conn.execute(
                insert(day_closes).on_conflict_do_nothing(
                    index_elements=["store_id", "business_day"]
                ),
                {"store_id": store_id, "business_day": day, **values},
            )


def _skip(store_id: str, ch: Any, why: str) -> None:
    # The change row itself is kept (hq_changes); only this projection lacks it,
    # and reconciliation then reports the day close or Z report as missing.
    log.warning("store %s seq %d: %s not projected: %s", store_id, ch.row.seq, ch.row.kind, why)


_KINDS = frozenset({"shift.open", "shift.close", "day.close", "day.reopen"})


def project(conn: Connection, insert: Insert, store_id: str, rows: Sequence[Any]) -> None:
    # In seq order: a shift's open before its close, a reopen after its close.
    for ch in rows:
        if ch.row.kind in _KINDS:
            _apply(conn, insert, store_id, ch)
