"""The figures a store sends HQ with its Z report and its day close, for reconciliation.

HQ recomputes the same figures from the replicated receipts and ledger entries
and reports every difference (hq_link.hq.reconcile); so the payload holds the
store's own numbers as its Z report printed them, never HQ's.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from store_server.db import fast
from store_server.db.shift_repo import ShiftFigures


def figures_payload(figures: ShiftFigures) -> dict[str, object]:
    """A shift's or a day's figures as JSON-ready values (fen and counts)."""
    data = asdict(figures)
    data["tenders"] = {k: [int(v[0]), int(v[1])] for k, v in sorted(figures.tenders.items())}
    return data


def day_ledger(
    conn: Connection, store_id: str, day: str, zone: ZoneInfo, cutover_hour: int
) -> dict[str, object]:
    """What this store's own ledger entries moved on one business day, per kind.

    Entries that another store made (one card) are left out: HQ counts each
    entry once, at the store that made it.
    """
    first = date.fromisoformat(day)
    start = datetime.combine(first, time(cutover_hour), tzinfo=zone)
    end = datetime.combine(first + timedelta(days=1), time(cutover_hour), tzinfo=zone)
    span = (store_id, start, end)
    sv = fast.execute(
        conn,
        "SELECT kind, sum(paid_fen), sum(bonus_fen), count(*) FROM stored_value_entries "
        "WHERE store_id = ? AND created_at >= ? AND created_at < ? GROUP BY kind",
        span,
    )
    points = fast.execute(
        conn,
        "SELECT kind, sum(points), count(*) FROM points_entries "
        "WHERE store_id = ? AND created_at >= ? AND created_at < ? GROUP BY kind",
        span,
    )
    return {
        "stored_value": {k: [int(p), int(b), int(n)] for k, p, b, n in sorted(sv)},
        "points": {k: [int(p), int(n)] for k, p, n in sorted(points)},
    }
