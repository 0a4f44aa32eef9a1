"""Sales per business day as the store has them and as HQ has them: count and
total in fen, compared whole (the figures a reconciliation compares)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.hq.support import STORE, hq_rows

DayTotals = dict[str, tuple[int, int]]  # business day -> (sales, total fen)


def store_days(store_db: Path) -> DayTotals:
    conn = sqlite3.connect(store_db)
    try:
        rows = conn.execute(
            "SELECT business_day, count(*), sum(total_fen) FROM sales GROUP BY business_day"
        ).fetchall()
    finally:
        conn.close()
    return {day: (int(n), int(total)) for day, n, total in rows}


def hq_days(database_url: str, store_id: str = STORE) -> DayTotals:
    rows = hq_rows(
        database_url,
        "SELECT business_day, count(*), sum(total_fen) FROM hq_sales "
        "WHERE store_id = :s AND kind = 'sale' GROUP BY business_day",
        s=store_id,
    )
    return {day: (int(n), int(total)) for day, n, total in rows}
