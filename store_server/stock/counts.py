"""Handheld counts into a stocktake: idempotent, checked per item, fast.

A batch is checked as a whole only for its session (unknown: NOT_FOUND; not
open: FAILED_PRECONDITION). Each count is then taken or rejected on its own,
so one unknown barcode does not cost the clerk the other 499 scans. Counts
are stamped with the last stock movement committed when they arrive
(`seen_seq`): the variance compares each with the books at that moment.

Plain counts go in with one INSERT OR IGNORE executemany per batch (the count
id is the key, so a re-sent batch inserts nothing); corrections and recounts,
which must not re-apply on a re-send, go one by one.

Counts are a session's working data and stay out of the change log (100,000
rows an hour would swamp the link); what HQ needs is the posted variance,
which posting writes there.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from store_server.db import fast, stock_repo
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import FailedPrecondition
from store_server.stock import sessions
from store_server.stock.lines import Known, products_by_code, products_by_id

MAX_BATCH = 5000
MAX_QUANTITY_MILLI = 10**12
_INSERT = (
    "INSERT OR IGNORE INTO stocktake_counts (count_id, session_id, product_id, zone, code, "
    "quantity_milli, counter_id, device_id, seen_seq, replaces, superseded, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
)
_SUPERSEDE_ONE = "UPDATE stocktake_counts SET superseded = 1 WHERE count_id = ? AND session_id = ?"
_SUPERSEDE_PRODUCT = (
    "UPDATE stocktake_counts SET superseded = 1 "
    "WHERE session_id = ? AND product_id = ? AND count_id != ? AND superseded = 0"
)


class CountIn(NamedTuple):
    """One count as the handheld sent it (a tuple: a stocktake makes 100,000 of them)."""

    count_id: str
    zone: str
    product_id: int
    code: str
    quantity_milli: int  # in the scanned unit
    counter_id: str = ""
    replaces: str = ""
    recount: bool = False


@dataclass(frozen=True, slots=True)
class Rejected:
    count_id: str
    index: int
    reason: str
    message: str


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)


_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _canonical(count_id: str) -> str | None:
    if _CANONICAL.fullmatch(count_id):  # what handhelds send; parsing it costs 3x more
        return count_id
    try:
        return str(uuid.UUID(count_id)) if 0 < len(count_id) <= 36 else None
    except ValueError:
        return None


def ingest(
    uow: UnitOfWork,
    session_id: str,
    counts: Sequence[CountIn],
    *,
    device_id: str,
    operator_id: str,
) -> BatchResult:
    """Take a batch of counts in the caller's transaction."""
    view = sessions.get(uow.conn, session_id)
    if view.status != "open":
        raise FailedPrecondition(
            f"stocktake {view.name} is {view.status}: it takes no more counts",
            reason="STOCKTAKE_NOT_OPEN",
        )
    conn = uow.conn
    by_id = products_by_id(conn, [c.product_id for c in counts if c.product_id])
    by_code = products_by_code(conn, [c.code for c in counts if not c.product_id and c.code])
    categories = set(view.categories)
    zones = set(view.zones)
    seen = stock_repo.last_seq(conn)
    at = fast.db_value(uow.now)
    sid = view.session_id
    result = BatchResult()
    plain: list[tuple] = []
    raw = conn.connection.driver_connection

    def flush() -> None:
        if plain:
            cur = raw.executemany(_INSERT, plain)
            result.accepted += cur.rowcount
            result.duplicates += len(plain) - cur.rowcount
            plain.clear()

    for i, c in enumerate(counts):
        problem = _check(c, by_id, by_code, categories, zones)
        count_id = _canonical(c.count_id)
        if count_id is None:
            problem = ("BAD_COUNT_ID", "count_id must be a UUID the handheld generated")
        if problem is not None:
            result.rejected.append(Rejected(c.count_id, i, *problem))
            continue
        known = by_id[c.product_id] if c.product_id else by_code[c.code]
        row = (
            count_id,
            sid,
            known.product_id,
            c.zone,
            c.code,
            c.quantity_milli * known.pack_factor,
            c.counter_id or operator_id,
            device_id,
            seen,
            c.replaces or None,
            at,
        )
        if not c.replaces and not c.recount:
            plain.append(row)
            continue
        flush()
        problem = _special(raw, sid, row, c)
        if problem == "duplicate":
            result.duplicates += 1
        elif problem is not None:
            result.rejected.append(Rejected(c.count_id, i, "UNKNOWN_REPLACED_COUNT", problem))
        else:
            result.accepted += 1
    flush()
    return result


def _check(
    c: CountIn,
    by_id: dict[int, Known],
    by_code: dict[str, Known],
    categories: set[str],
    zones: set[str],
) -> tuple[str, str] | None:
    if c.quantity_milli < 0 or c.quantity_milli > MAX_QUANTITY_MILLI:
        return "BAD_QUANTITY", "quantity_milli must be zero or more"
    if len(c.zone) > 32 or len(c.counter_id) > 16 or len(c.code) > 48:
        return "TOO_LONG", "zone (32), counter_id (16) or code (48) too long"
    if zones and c.zone not in zones:
        return "OUT_OF_SCOPE", f"zone {c.zone!r} is not part of this stocktake"
    if c.product_id:
        known = by_id.get(c.product_id)
        if known is None:
            return "UNKNOWN_PRODUCT", f"no product {c.product_id}"
    elif c.code:
        known = by_code.get(c.code)
        if known is None:
            return "UNKNOWN_BARCODE", f"unknown barcode {c.code}"
    else:
        return "NO_PRODUCT", "name a product_id or a code"
    if categories and known.category not in categories:
        return "OUT_OF_SCOPE", f"product {known.product_id} ({known.category}) is not counted here"
    return None


def _special(raw: object, sid: str, row: tuple, c: CountIn) -> str | None:
    """A correction or recount: applied only when the count is new (not a re-send)."""
    replaces = _canonical(c.replaces) if c.replaces else None
    if c.replaces:
        found = (
            replaces is not None
            and raw.execute(  # type: ignore[attr-defined]
                "SELECT 1 FROM stocktake_counts WHERE count_id = ? AND session_id = ?",
                (replaces, sid),
            ).fetchone()
        )
        if not found:
            return f"no count {c.replaces} in this stocktake to correct"
    cur = raw.execute(_INSERT, (*row[:9], replaces, row[10]))  # type: ignore[attr-defined]
    if cur.rowcount == 0:
        return "duplicate"
    if replaces is not None:
        raw.execute(_SUPERSEDE_ONE, (replaces, sid))  # type: ignore[attr-defined]
    if c.recount:
        raw.execute(_SUPERSEDE_PRODUCT, (sid, row[2], row[0]))  # type: ignore[attr-defined]
    return None
