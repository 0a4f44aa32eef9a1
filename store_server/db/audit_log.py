"""Append to and read the hash-chained audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Connection, Row, select

from store_server.db import fast
from store_server.db.models import AuditEntry
from store_server.domain.audit_chain import GENESIS, AuditRecord, canonical_detail, entry_hash

_AUDIT = AuditEntry.__table__
_LAST_SQL = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"


def append_audit(
    conn: Connection,
    *,
    at: datetime,
    operator_id: str,
    device_id: str,
    action: str,
    target: str = "",
    outcome: str = "OK",
    detail: dict[str, object] | None = None,
) -> int:
    """Append one entry inside the caller's write transaction; returns its seq.

    Runs under the single writer, so reading the last hash and appending
    cannot interleave with another append.
    """
    last = fast.execute(conn, _LAST_SQL)
    last = last[0] if last else None
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    row = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "operator_id": operator_id[:16],
        "device_id": device_id[:64],
        "action": action[:80],
        "target": target[:120],
        "outcome": outcome[:32],
        "detail": canonical_detail(detail),
        "prev_hash": prev,
    }
    row["hash"] = entry_hash(**row)
    fast.insert_rows(conn, _AUDIT, [row])
    return seq


def iter_audit(conn: Connection, *, batch: int = 1000) -> Iterator[AuditRecord]:
    """Every entry in seq order, read in batches (the log grows for years)."""
    last = 0
    while True:
        rows = conn.execute(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from map(_record, rows)
        last = rows[-1].seq


def tail_audit(conn: Connection, limit: int) -> list[AuditRecord]:
    rows = conn.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)).all()
    return [_record(r) for r in reversed(rows)]


def _record(r: Row) -> AuditRecord:
    return AuditRecord(
        seq=r.seq,
        at=r.at,
        operator_id=r.operator_id,
        device_id=r.device_id,
        action=r.action,
        target=r.target,
        outcome=r.outcome,
        detail=r.detail,
        prev_hash=r.prev_hash,
        hash=r.hash,
    )
