"""Apply one batch of a store's change rows: exactly once, in order.

In one database transaction: lock the store's cursor, refuse a gap, skip what
HQ already has, store the new rows (and their projections), quarantine the
rows it cannot apply, and move the cursor to the batch's last seq. A batch
that fails part-way leaves nothing behind, and the agent sends it again.

Each payload is parsed once, before the transaction (the batch's Python work
does not hold the store's cursor lock), with msgspec, and every projector reads
that parse; a sale's receipt rows (the bulk of a catch-up) are built then too.
The new rows go in set-based: one COPY per table on PostgreSQL
(bulk_insert.RowWriter). Only a batch the database refuses is applied again
row by row, one savepoint each, to quarantine exactly the rows it refuses.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import StatementError

from hq_link.hq import tables
from hq_link.hq.bulk_insert import JsonText, RowsRefused, RowWriter, dialect_insert
from hq_link.hq.projectors import PROJECTORS, ProjectionError, receipts

log = logging.getLogger(__name__)

# The newest change-row format this HQ reads (store_server.db.unit_of_work).
SUPPORTED_SCHEMA_VERSION = 2
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
    """A row as the projectors read it: parsed once (`reason` set: not applicable)."""

    row: IncomingRow
    payload: object = None
    at: datetime | None = None
    sale: dict[str, object] | None = None  # the hq_sales figures of a sale or return
    reason: str = ""
    receipt: dict | None = None  # a sale's or return's receipt, parsed
    # hq_receipts/payments/lines rows of a sale or return, built before the
    # transaction (receipts.rows_of; None: the projector builds them itself).
    receipt_rows: tuple | None = None


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


def _read_receipt(payload: dict) -> dict:
    receipt = payload["receipt"]
    if isinstance(receipt, str):
        receipt = _decode(receipt)
    if not isinstance(receipt, dict):
        raise TypeError("receipt is not a JSON object")
    return receipt


# msgspec parses a catch-up's payloads several times faster than json.loads (the
# biggest share of HQ's CPU per row), into the same dicts, lists, str and int
# (an integer of any size stays an int). It refuses what json.loads lets
# through and no database stores: NaN/Infinity and lone surrogates ("\\ud800").
_decode = msgspec.json.decode


def _not_json(text: str, exc: msgspec.DecodeError) -> str:
    """Why a payload msgspec refused is not applicable (the error path only)."""
    try:
        json.dumps(json.loads(text), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "payload holds text that is not valid Unicode"
    except ValueError as plain:
        return f"payload is not JSON: {plain}"
    return f"payload is not JSON: {exc}"


def _project_sale(receipt: dict) -> dict[str, object]:
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
        payload = _decode(row.payload_json)
    except msgspec.DecodeError as exc:
        return _Checked(row, reason=_not_json(row.payload_json, exc))
    if not isinstance(payload, dict):
        return _Checked(row, reason="payload is not a JSON object")
    try:
        at = _parse_time(row.at)
    except ValueError:
        return _Checked(row, reason=f"time {row.at!r} is not ISO-8601")
    sale = receipt = None
    if row.kind in _PROJECTED:
        try:
            receipt = _read_receipt(payload)
            sale = _project_sale(receipt)
        except (KeyError, TypeError, ValueError) as exc:
            return _Checked(row, reason=f"{row.kind} payload unreadable: {exc!r}")
    return _Checked(row, payload=payload, at=at, sale=sale, receipt=receipt)


def _with_receipt_rows(store_id: str, ch: _Checked) -> _Checked:
    """The row with its receipt projection built, outside the store's cursor lock
    (the biggest projection of a catch-up). A receipt the projector cannot read
    is left to it: it raises in the transaction, and that row alone is quarantined."""
    if ch.receipt is None or ch.reason:
        return ch
    try:
        built = receipts.rows_of(
            store_id, ch.row.key, ch.row.kind, ch.row.seq, ch.at, ch.payload, ch.receipt
        )
    except ProjectionError:
        return ch
    # Positional: dataclasses.replace costs as much as the rest of this per row.
    return _Checked(ch.row, ch.payload, ch.at, ch.sale, ch.reason, ch.receipt, built)


def _why(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc)


class StoreTurns:
    """The batches of each store being applied in this process, so that a store's
    batches take the store's cursor in seq order when its agent sends the next
    one before HQ acknowledged the last (HQ refuses a gap; the cursor's row lock
    in the database keeps two of them from applying at once)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._firsts: dict[str, list[int]] = {}
        # How many batches of each store have left this process (applied or
        # refused): a batch that found a gap knows from it whether the cursor
        # may have moved since it looked.
        self._ended: dict[str, int] = {}

    @contextmanager
    def entered(self, store_id: str, first_seq: int) -> Iterator[None]:
        with self._changed:
            self._firsts.setdefault(store_id, []).append(first_seq)
            self._changed.notify_all()  # a later batch may be waiting for this one
        try:
            yield
        finally:
            with self._changed:
                firsts = self._firsts[store_id]
                firsts.remove(first_seq)
                if not firsts:
                    del self._firsts[store_id]
                self._ended[store_id] = self._ended.get(store_id, 0) + 1
                self._changed.notify_all()

    def ended(self, store_id: str) -> int:
        with self._changed:
            return self._ended.get(store_id, 0)

    def has_earlier(self, store_id: str, first_seq: int) -> bool:
        with self._changed:
            return self._earlier(store_id, first_seq)

    def wait_for_earlier(self, store_id: str, first_seq: int, timeout: float) -> None:
        """Until no batch of the store that starts before this one is in this process
        (at most `timeout` s: then the cursor decides, and a gap is refused)."""
        with self._changed:
            self._changed.wait_for(lambda: not self._earlier(store_id, first_seq), timeout)

    def wait_for_arrival(self, store_id: str, first_seq: int, ended: int, timeout: float) -> bool:
        """Until a batch of the store that starts before this one comes in, or one
        of its batches leaves after `ended` of them had (the cursor may have moved):
        False when neither happened within `timeout` s."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._earlier(store_id, first_seq) or self._ended.get(store_id, 0) != ended,
                timeout,
            )

    def _earlier(self, store_id: str, first_seq: int) -> bool:
        """A batch of the store starting before `first_seq` is in flight (lock held)."""
        return any(f < first_seq for f in self._firsts.get(store_id, ()))


# What a database or a projector says when it cannot take a row.
_REFUSED = (StatementError, RowsRefused, UnicodeError, ProjectionError)


class Ingest:
    """Applies batches to HQ's database (PostgreSQL, or SQLite for a demo)."""

    def __init__(
        self, engine: Engine, *, turn_timeout: float = 30.0, gap_grace: float = 1.0
    ) -> None:
        self.engine = engine
        # SQLite has no row locks: one batch at a time in this process.
        self._sqlite_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._turns = StoreTurns()
        self._turn_timeout = turn_timeout
        # How long a batch that finds a gap waits for the batch before it: an
        # agent sends two back to back, and the server's threads may take the
        # second first. A real gap is refused this much later.
        self._gap_grace = gap_grace

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
        with self._turns.entered(store_id, first_seq):
            # Parsed before the transaction, while an earlier batch of the store
            # may still be writing: the store's cursor stays locked only for the
            # writes. (A duplicate batch is parsed for nothing: rare.)
            checked = [_with_receipt_rows(store_id, check_row(r)) for r in rows]
            deadline: float | None = None
            while True:
                self._turns.wait_for_earlier(store_id, first_seq, self._turn_timeout)
                ended = self._turns.ended(store_id)
                try:
                    return self._locked_push(store_id, first_seq, last_seq, checked, now)
                except SequenceGap:
                    # The batch before this one reached this process a moment
                    # later (an agent keeps two in flight): let it go first,
                    # or wait a little for it to come in.
                    if self._turns.has_earlier(store_id, first_seq):
                        continue
                    if deadline is None:
                        deadline = time.monotonic() + self._gap_grace
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._turns.wait_for_arrival(
                        store_id, first_seq, ended, left
                    ):
                        raise

    def _locked_push(
        self,
        store_id: str,
        first_seq: int,
        last_seq: int,
        checked: list[_Checked],
        now: datetime,
    ) -> BatchResult:
        if self._sqlite_lock is None:
            return self._push(store_id, first_seq, last_seq, checked, now)
        with self._sqlite_lock:
            return self._push(store_id, first_seq, last_seq, checked, now)

    def _push(
        self,
        store_id: str,
        first_seq: int,
        last_seq: int,
        checked: list[_Checked],
        now: datetime,
    ) -> BatchResult:
        c = tables.store_cursors.c
        with self.engine.begin() as conn:
            conn.execute(
                dialect_insert(self.engine.dialect, tables.store_cursors)
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
            applied, quarantined = self._store(
                conn, store_id, [ch for ch in checked if ch.row.seq > acked], now
            )
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
                apply_rows(RowWriter(conn, copy=True), store_id, good, now)
        except _REFUSED as exc:
            # Something the checks missed: find the rows the database refuses,
            # one savepoint each, and quarantine them with its words.
            log.warning("store %s: batch insert failed (%s); row by row", store_id, _why(exc))
            good, refused = self._row_by_row(conn, store_id, good, now)
            bad += refused
        if bad:
            conn.execute(
                dialect_insert(self.engine.dialect, tables.quarantine).on_conflict_do_nothing(
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

    def _row_by_row(
        self, conn: Connection, store_id: str, rows: list[_Checked], now: datetime
    ) -> tuple[list[_Checked], list[_Checked]]:
        """(applied, refused): each row in a savepoint of its own, with careful writers."""
        applied, refused = [], []
        writer = RowWriter(conn, copy=False)
        for ch in rows:
            try:
                with conn.begin_nested():
                    apply_rows(writer, store_id, [ch], now)
                applied.append(ch)
            except _REFUSED as exc:
                refused.append(_Checked(ch.row, reason=f"database refused it: {_why(exc)}"))
        return applied, refused


def apply_rows(write: RowWriter, store_id: str, good: list[_Checked], now: datetime) -> None:
    """Store checked rows in the log and hq_sales, then run every projector on them."""
    if not good:
        return
    write.rows(
        tables.changes,
        [
            {
                "store_id": store_id,
                "seq": ch.row.seq,
                "txn": ch.row.txn or ch.row.seq,
                "kind": ch.row.kind,
                "key": ch.row.key,
                # COPY takes the JSON text as the store sent it (no Python
                # re-encoding); an INSERT, the parsed value.
                "payload": JsonText(ch.row.payload_json) if write.copies else ch.payload,
                "at": ch.at,
                "schema_version": ch.row.schema_version,
                "received_at": now,
            }
            for ch in good
        ],
    )
    write.rows(
        tables.sales,
        [
            {
                "store_id": store_id,
                "doc_id": ch.row.key[:64],
                "kind": ch.row.kind,
                "seq": ch.row.seq,
                "at": ch.at,
                **(ch.sale or {}),
            }
            for ch in good
            if ch.sale is not None
        ],
    )
    for project in PROJECTORS:
        project(write.conn, write, store_id, good)
