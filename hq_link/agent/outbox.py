"""The store's change log as the agent reads it, and the agent's cursor.

Plain sqlite3 on the store's database file: the agent is its own process and
only reads, apart from one small row in store_meta (`hq_link.shipped_seq`,
the highest seq HQ acknowledged; `storectl doctor` and `storectl hq status`
read it). The store server keeps selling meanwhile (WAL).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# The same key as store_server.appliance.doctor.HQ_SHIPPED_KEY.
SHIPPED_KEY = "hq_link.shipped_seq"
BUSY_TIMEOUT_S = 10.0

_COLUMNS = "seq, txn, kind, key, payload, at, schema_version"


@dataclass(frozen=True, slots=True)
class ChangeRow:
    seq: int
    txn: int  # seq of the first row of its store transaction
    kind: str
    key: str
    payload_json: str
    at: str  # UTC ISO-8601
    schema_version: int


@dataclass(frozen=True, slots=True)
class Lag:
    rows: int  # change rows HQ has not acknowledged
    seconds: float  # age of the oldest of them (0 when none)
    shipped_seq: int
    last_seq: int


# change_log.at as the store server writes it: naive UTC with microseconds.
_STORED_AT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def _iso(stored: str) -> str:
    """change_log.at is naive UTC text ("2026-11-23 02:00:00.000000"): the same
    text as datetime's isoformat() with UTC, without building a datetime per row
    (a fifth of the agent's work in a catch-up)."""
    if _STORED_AT.fullmatch(stored):
        fraction = stored[19:]
        return f"{stored[:10]}T{stored[11:19]}{'' if fraction == '.000000' else fraction}+00:00"
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).isoformat()


def _row(r: tuple) -> ChangeRow:
    seq, txn, kind, key, payload, at, version = r
    return ChangeRow(
        seq=int(seq),
        txn=int(txn or seq),
        kind=kind,
        key=key,
        payload_json=payload,
        at=_iso(at),
        schema_version=int(version),
    )


class StoreOutbox:
    def __init__(self, database: Path | str) -> None:
        self.path = Path(database)
        if not self.path.exists():
            raise FileNotFoundError(f"store database {self.path} not found")
        self._conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")

    def close(self) -> None:
        self._conn.close()

    def read_after(self, seq: int, limit: int) -> list[ChangeRow]:
        """The rows after `seq`: about `limit` of them, never half a transaction.

        Rows of one transaction have consecutive seqs (one writer at a time),
        so the batch is cut at `limit` and then runs on to its last
        transaction's end.
        """
        rows: list[tuple] = []
        cursor = self._conn.execute(
            f"SELECT {_COLUMNS} FROM change_log WHERE seq > ? ORDER BY seq", (seq,)
        )
        try:
            for r in cursor:
                if len(rows) >= limit and (r[1] or r[0]) != (rows[-1][1] or rows[-1][0]):
                    break
                rows.append(r)
        finally:
            cursor.close()
        return [_row(r) for r in rows]

    def last_seq(self) -> int:
        """The newest change row's seq (0 for none): seqs have no gaps, so the
        rows after HQ's cursor are this minus the cursor, without counting them."""
        return int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0])

    def shipped_seq(self) -> int:
        row = self._conn.execute(
            "SELECT value FROM store_meta WHERE key = ?", (SHIPPED_KEY,)
        ).fetchone()
        return int(row[0]) if row else 0

    def record_shipped(self, seq: int) -> None:
        """Remember that HQ has every row up to `seq` (after HQ said so)."""
        self._conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (SHIPPED_KEY, str(seq)),
        )

    def lag(self, now: datetime, shipped: int | None = None) -> Lag:
        shipped = self.shipped_seq() if shipped is None else shipped
        conn = self._conn
        conn.execute("BEGIN")
        try:
            last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0]
            oldest = conn.execute(
                "SELECT at FROM change_log WHERE seq > ? ORDER BY seq LIMIT 1", (shipped,)
            ).fetchone()
            pending = conn.execute(
                "SELECT count(*) FROM change_log WHERE seq > ?", (shipped,)
            ).fetchone()[0]
        finally:
            conn.execute("COMMIT")
        seconds = 0.0
        if oldest is not None:
            at = datetime.fromisoformat(oldest[0]).replace(tzinfo=UTC)
            seconds = max(0.0, (now - at).total_seconds())
        return Lag(rows=int(pending), seconds=seconds, shipped_seq=shipped, last_seq=int(last))
