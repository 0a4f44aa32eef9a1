"""The handheld's count queue: every count is kept on the device (SQLite) until the
server has taken it, so a lost connection, a flat battery or a restart loses none.

A count gets its id (a UUIDv7, time-ordered, as the server prefers) when it is
made, and keeps it for every resend: the server takes a count id once.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    count_id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    zone TEXT NOT NULL,
    product_id INTEGER NOT NULL DEFAULT 0,
    code TEXT NOT NULL DEFAULT '',
    quantity_milli INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    reason TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    made_at REAL NOT NULL,
    replaces TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS counts_state ON counts (state, seq);
"""


class CountState(StrEnum):
    QUEUED = "queued"  # not yet taken by the server
    SENT = "sent"  # taken (or already had: a duplicate)
    REJECTED = "rejected"  # refused for itself (unknown barcode ...): shown, not resent


@dataclass(frozen=True)
class QueuedCount:
    count_id: str
    session_id: str
    zone: str
    product_id: int
    code: str
    quantity_milli: int  # thousandths of the scanned unit
    state: CountState
    reason: str = ""
    message: str = ""
    replaces: str = ""  # a correction: the count id it replaces


def uuid7(now_ms: int | None = None) -> str:
    """A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds first."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return str(uuid.UUID(int=value))


class CountQueue:
    """Counts on the device. One writer (the counter app); every write is committed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a count the clerk saw saved is saved
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(counts)")}
        if "replaces" not in columns:  # a queue file made before corrections existed
            self._db.execute("ALTER TABLE counts ADD COLUMN replaces TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        self._db.close()

    def add(
        self,
        session_id: str,
        zone: str,
        quantity_milli: int,
        *,
        code: str = "",
        product_id: int = 0,
        count_id: str | None = None,
        replaces: str = "",
    ) -> str:
        """Queue one count (a scanned code or a product id); returns its count id.

        replaces: the id of an earlier count this one corrects (the server keeps the new).
        """
        if bool(code) == bool(product_id):
            raise ValueError("a count names exactly one of code and product_id")
        if quantity_milli < 0:
            raise ValueError("quantity_milli must not be negative")
        count_id = count_id or uuid7()
        self._db.execute(
            "INSERT INTO counts (count_id, session_id, zone, product_id, code, quantity_milli,"
            " made_at, replaces) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (count_id, session_id, zone, product_id, code, quantity_milli, time.time(), replaces),
        )
        return count_id

    def _rows(self, where: str, args: tuple, limit: int | None = None) -> list[QueuedCount]:
        sql = (
            "SELECT count_id, session_id, zone, product_id, code, quantity_milli, state,"
            f" reason, message, replaces FROM counts WHERE {where} ORDER BY seq"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            QueuedCount(*row[:6], CountState(row[6]), row[7], row[8], row[9])
            for row in self._db.execute(sql, args)
        ]

    def queued(self, limit: int = 500) -> list[QueuedCount]:
        """The oldest counts not yet taken, in the order they were made."""
        return self._rows("state = ?", (CountState.QUEUED.value,), limit)

    def rejected(self) -> list[QueuedCount]:
        return self._rows("state = ?", (CountState.REJECTED.value,))

    def all(self) -> list[QueuedCount]:
        return self._rows("1 = 1", ())

    def of_session(self, session_id: str) -> list[QueuedCount]:
        """This stocktake's counts on the device, oldest first (the running list)."""
        return self._rows("session_id = ?", (session_id,))

    def waiting(self) -> int:
        """How many counts the server has not taken yet (the counter's badge)."""
        return self._db.execute(
            "SELECT count(*) FROM counts WHERE state = ?", (CountState.QUEUED.value,)
        ).fetchone()[0]

    def settle(self, sent: Iterable[str], rejected: Iterable[tuple[str, str, str]] = ()) -> None:
        """Record the server's answer: ids taken, and (id, reason, message) refused."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "UPDATE counts SET state = ? WHERE count_id = ?",
                [(CountState.SENT.value, cid) for cid in sent],
            )
            self._db.executemany(
                "UPDATE counts SET state = ?, reason = ?, message = ? WHERE count_id = ?",
                [(CountState.REJECTED.value, r, m, cid) for cid, r, m in rejected],
            )
