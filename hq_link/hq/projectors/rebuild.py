"""Rebuild the reconciliation and report projections of a store from HQ's change log.

For an HQ that replicated before these projections existed, or whose
projection rows were damaged: the store's rows in hq_receipts,
hq_receipt_payments, hq_receipt_lines, hq_ledger_entries, hq_shifts and
hq_day_closes are deleted and projected again from hq_changes, in seq order
and in one transaction, so a reader never sees half of it. A chunk never ends
inside a store transaction (ledger entries take their business day from the
document of their transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select

from hq_link.hq import tables
from hq_link.hq.bulk_insert import RowsRefused, RowWriter
from hq_link.hq.projectors import ProjectionError, closes, ledger, receipts

PROJECTORS = (receipts.project, ledger.project, closes.project)
TABLES = (
    receipts.receipts,
    receipts.payments,
    receipts.lines,
    ledger.entries,
    closes.shifts,
    closes.day_closes,
)
_KINDS = (
    "sale",
    "return",
    "member_deposit",
    "points_entry",
    "stored_value_entry",
    "shift.open",
    "shift.close",
    "day.close",
    "day.reopen",
)


@dataclass(frozen=True, slots=True)
class _Row:
    seq: int
    txn: int
    kind: str
    key: str


@dataclass(frozen=True, slots=True)
class _Applied:
    """What a projector reads of an applied change row (as ingest hands it over)."""

    row: _Row
    payload: Any
    at: datetime


def _chunks(conn: Connection, store_id: str, size: int) -> Iterator[list[_Applied]]:
    c = tables.changes.c
    cols = (c.seq, c.txn, c.kind, c.key, c.payload, c.at)
    after = 0
    while True:
        rows = list(
            conn.execute(
                select(*cols)
                .where(c.store_id == store_id, c.seq > after, c.kind.in_(_KINDS))
                .order_by(c.seq)
                .limit(size)
            )
        )
        if not rows:
            return
        last_txn = rows[-1][1]
        rows += conn.execute(  # the rest of the last transaction
            select(*cols)
            .where(
                c.store_id == store_id,
                c.seq > rows[-1][0],
                c.txn == last_txn,
                c.kind.in_(_KINDS),
            )
            .order_by(c.seq)
        ).all()
        after = rows[-1][0]
        yield [
            _Applied(
                _Row(int(s), int(t), k, key),
                p,
                at.replace(tzinfo=UTC) if at.tzinfo is None else at,
            )
            for s, t, k, key, p, at in rows
        ]


@dataclass(frozen=True, slots=True)
class Rebuilt:
    rows: int  # change rows read
    skipped: list[tuple[int, str]]  # (seq, reason) of rows no projection could read


def _project(conn: Connection, store_id: str, rows: list[_Applied], *, copy: bool) -> None:
    """Every projector on `rows`; with copy, each table in one COPY (as ingest's fast
    path), and a chunk the database refuses so is projected again with INSERTs."""
    if copy:
        try:
            with conn.begin_nested():
                insert = RowWriter(conn, copy=True)
                for project in PROJECTORS:
                    project(conn, insert, store_id, rows)
            return
        except RowsRefused:
            pass  # a key twice in the log (a document sent twice): skip it, as INSERTs do
    insert = RowWriter(conn, copy=False)
    for project in PROJECTORS:
        project(conn, insert, store_id, rows)


def rebuild_store(
    conn: Connection,
    store_id: str,
    *,
    chunk: int = 5_000,
    progress: Callable[[int, int], None] | None = None,
) -> Rebuilt:
    """Re-project one store in the caller's transaction.

    A row a projector cannot read is skipped and named (ingest would have
    quarantined it; here it is already in the log and stays there).
    """
    for table in TABLES:
        conn.execute(delete(table).where(table.c.store_id == store_id))
    c = tables.changes.c
    total = conn.execute(
        select(func.count()).where(c.store_id == store_id, c.kind.in_(_KINDS))
    ).scalar_one()
    done = 0
    skipped: list[tuple[int, str]] = []
    for rows in _chunks(conn, store_id, chunk):
        try:
            with conn.begin_nested():
                _project(conn, store_id, rows, copy=True)
        except ProjectionError:
            for one in rows:  # find the unreadable rows, one savepoint each
                try:
                    with conn.begin_nested():
                        _project(conn, store_id, [one], copy=False)
                except ProjectionError as exc:
                    skipped.append((one.row.seq, str(exc)))
        done += len(rows)
        if progress:
            progress(done, total)
    return Rebuilt(done, skipped)
