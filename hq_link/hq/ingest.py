"""Apply one batch of a store's change rows: exactly once, in order.

In one database transaction: lock the store's cursor, refuse a gap, skip what
HQ already has, store the new rows (and their projections), quarantine the
rows it cannot apply, and move the cursor to the batch's last seq. A batch
that fails part-way leaves nothing behind, and the agent sends it again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError

from hq_link.hq import bulk_insert, tables
from hq_link.hq.projectors import PROJECTORS, ProjectionError

log = logging.getLogger(__name__)

# The newest change-row format this HQ reads (store_server.db.unit_of_work).
SUPPORTED_SCHEMA_VERSION = 1
_PROJECTED = frozenset({"sale", "return"})


@dataclass(frozen=True, slots=True)
class IncomingRow:
    seq: int
    txn: int
    kind: str
    key: str
    payload_json: str
    at: str
    schema_version: int


@dataclass(frozen=True, slots=True)
class BatchResult:
    acked_seq: int
    duplicate: bool = False
    applied_rows: int = 0
    quarantined_rows: int = 0


class BatchRejected(Exception):
    """The batch as a whole is malformed (an agent's bug): INVALID_ARGUMENT."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SequenceGap(Exception):
    """The batch starts past the store's cursor + 1: FAILED_PRECONDITION."""

    def __init__(self, store_id: str, expected_seq: int, first_seq: int) -> None:
        self.store_id = store_id
        self.expected_seq = expected_seq
        self.first_seq = first_seq
        self.message = (
            f"store {store_id}: batch starts at seq {first_seq}, HQ expects seq {expected_seq}"
        )
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class _Checked:
    row: IncomingRow
    payload: object = None
    at: datetime | None = None
    sale: dict[str, object] | None = None
    reason: str = ""


def check_batch(store_id: str, first_seq: int, last_seq: int, rows: Sequence[IncomingRow]) -> None:
    if not store_id or len(store_id) > 16:
        raise BatchRejected("store_id", "store_id: 1-16 characters")
    if first_seq < 1 or last_seq < first_seq:
        raise BatchRejected("first_seq", f"seq range {first_seq}..{last_seq} is empty or below 1")
    previous = first_seq - 1
    for row in rows:
        if row.seq <= previous or row.seq > last_seq:
            raise BatchRejected(
                "rows", f"row seq {row.seq} out of order or outside {first_seq}..{last_seq}"
            )
        previous = row.seq


def _parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _project_sale(payload: dict) -> dict[str, object]:
    receipt = payload["receipt"]
    if isinstance(receipt, str):
        receipt = json.loads(receipt)
    total = receipt["total_fen"]
    if not isinstance(total, int) or isinstance(total, bool):
        raise ValueError(f"total_fen {total!r} is not an integer")
    return {
        "receipt_no": str(receipt["receipt_no"])[:40],
        "business_day": str(receipt["business_day"])[:10],
        "total_fen": total,
    }


def check_row(row: IncomingRow) -> _Checked:
    """Parse one row; a row HQ cannot apply comes back with its reason."""
    if not 1 <= row.schema_version <= SUPPORTED_SCHEMA_VERSION:
        return _Checked(
            row,
            reason=f"schema version {row.schema_version} is not supported "
            f"(this HQ reads up to {SUPPORTED_SCHEMA_VERSION})",
        )
    if not row.kind or len(row.kind) > 40 or len(row.key) > 120:
        return _Checked(row, reason="kind must be 1-40 characters and key at most 120")
    if "\x00" in row.payload_json or "\\u0000" in row.payload_json:
        return _Checked(row, reason="payload contains NUL characters")
    try:
        payload = json.loads(row.payload_json)
    except ValueError as exc:
        return _Checked(row, reason=f"payload is not JSON: {exc}")
    if not isinstance(payload, dict):
        return _Checked(row, reason="payload is not a JSON object")
    if "\\u" in row.payload_json:  # "\ud800" is JSON, but no database stores a lone surrogate
        try:
            json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return _Checked(row, reason="payload holds text that is not valid Unicode")
    try:
        at = _parse_time(row.at)
    except ValueError:
        return _Checked(row, reason=f"time {row.at!r} is not ISO-8601")
    sale = None
    if row.kind in _PROJECTED:
        try:
            sale = _project_sale(payload)
        except (KeyError, TypeError, ValueError) as exc:
            return _Checked(row, reason=f"{row.kind} payload unreadable: {exc!r}")
    return _Checked(row, payload=payload, at=at, sale=sale)


def _why(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc)


class Ingest:
    """Applies batches to HQ's database (PostgreSQL, or SQLite for a demo)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        if engine.dialect.name == "postgresql":
            bulk_insert.install(engine)  # many-row INSERTs as COPY: a batch in few round trips
        # SQLite has no row locks: one batch at a time in this process.
        self._sqlite_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """INSERT that can say ON CONFLICT DO NOTHING in this database's dialect."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def cursor(self, store_id: str) -> tuple[int, datetime | None]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    tables.store_cursors.c.acked_seq, tables.store_cursors.c.last_applied_at
                ).where(tables.store_cursors.c.store_id == store_id)
            ).first()
        return (int(row[0]), row[1]) if row else (0, None)

    def push(
        self,
        store_id: str,
        first_seq: int,
        last_seq: int,
        rows: Sequence[IncomingRow],
        now: datetime,
    ) -> BatchResult:
        check_batch(store_id, first_seq, last_seq, rows)
        if self._sqlite_lock is None:
            return self._push(store_id, first_seq, last_seq, rows, now)
        with self._sqlite_lock:
            return self._push(store_id, first_seq, last_seq, rows, now)

    def _push(
        self,
        store_id: str,
        first_seq: int,
        last_seq: int,
        rows: Sequence[IncomingRow],
        now: datetime,
    ) -> BatchResult:
        c = tables.store_cursors.c
        with self.engine.begin() as conn:
            conn.execute(
                self._insert(tables.store_cursors)
                .values(store_id=store_id, acked_seq=0, rows_applied=0, rows_quarantined=0)
                .on_conflict_do_nothing(index_elements=["store_id"])
            )
            acked = conn.execute(
                select(c.acked_seq).where(c.store_id == store_id).with_for_update()
            ).scalar_one()
            if first_seq > acked + 1:
                raise SequenceGap(store_id, acked + 1, first_seq)
            if last_seq <= acked:
                return BatchResult(acked_seq=acked, duplicate=True)
            checked = [check_row(r) for r in rows if r.seq > acked]
            applied, quarantined = self._store(conn, store_id, checked, now)
            conn.execute(
                update(tables.store_cursors)
                .where(c.store_id == store_id)
                .values(
                    acked_seq=last_seq,
                    rows_applied=c.rows_applied + applied,
                    rows_quarantined=c.rows_quarantined + quarantined,
                    last_applied_at=now,
                )
            )
        if quarantined:
            log.warning(
                "store %s: %d row(s) of seq %d..%d quarantined",
                store_id,
                quarantined,
                first_seq,
                last_seq,
            )
        return BatchResult(acked_seq=last_seq, applied_rows=applied, quarantined_rows=quarantined)

    def _store(
        self, conn: Connection, store_id: str, checked: list[_Checked], now: datetime
    ) -> tuple[int, int]:
        good = [ch for ch in checked if not ch.reason]
        bad = [ch for ch in checked if ch.reason]
        try:
            with conn.begin_nested():
                self._insert_good(conn, store_id, good, now)
        except (StatementError, UnicodeError, ProjectionError) as exc:
            # Something the checks missed: find the rows the database refuses,
            # one savepoint each, and quarantine them with its words.
            log.warning("store %s: batch insert failed (%s); row by row", store_id, _why(exc))
            good, refused = [], []
            for ch in checked:
                if ch.reason:
                    continue
                try:
                    with conn.begin_nested():
                        self._insert_good(conn, store_id, [ch], now)
                    good.append(ch)
                except (StatementError, UnicodeError, ProjectionError) as row_exc:
                    refused.append(_Checked(ch.row, reason=f"database refused it: {_why(row_exc)}"))
            bad += refused
        if bad:
            conn.execute(
                self._insert(tables.quarantine).on_conflict_do_nothing(
                    index_elements=["store_id", "seq"]
                ),
                [
                    {
                        "store_id": store_id,
                        "seq": ch.row.seq,
                        "kind": ch.row.kind[:40],
                        "key": ch.row.key[:120],
                        "payload_text": ch.row.payload_json.replace("\x00", "\\u0000"),
                        "reason": ch.reason,
                        "quarantined_at": now,
                    }
                    for ch in bad
                ],
            )
        return len(good), len(bad)

    def _insert_good(
        self, conn: Connection, store_id: str, good: list[_Checked], now: datetime
    ) -> None:
        if not good:
            return
        conn.execute(
            self._insert(tables.changes).on_conflict_do_nothing(index_elements=["store_id", "seq"]),
            [
                {
                    "store_id": store_id,
                    "seq": ch.row.seq,
                    "txn": ch.row.txn or ch.row.seq,
                    "kind": ch.row.kind,
                    "key": ch.row.key,
                    "payload": ch.payload,
                    "at": ch.at,
                    "schema_version": ch.row.schema_version,
                    "received_at": now,
                }
                for ch in good
            ],
        )
        docs = [ch for ch in good if ch.sale is not None]
        if docs:
            conn.execute(
                self._insert(tables.sales).on_conflict_do_nothing(
                    index_elements=["store_id", "doc_id"]
                ),
                [
                    {
                        "store_id": store_id,
                        "doc_id": ch.row.key[:64],
                        "kind": ch.row.kind,
                        "seq": ch.row.seq,
                        "at": ch.at,
                        **(ch.sale or {}),
                    }
                    for ch in docs
                ],
            )
        for project in PROJECTORS:
            project(conn, self._insert, store_id, good)
