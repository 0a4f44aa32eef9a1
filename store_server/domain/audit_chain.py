"""The audit log's hash chain.

Each entry's hash covers its own fields and the previous entry's hash, so
changing, deleting or reordering any row breaks every hash after it; the
verifier names the first row that does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit entry as stored. `at` is UTC ISO-8601 text (what the DB holds)."""

    seq: int
    at: str
    operator_id: str
    device_id: str
    action: str
    target: str
    outcome: str
    detail: str  # canonical JSON text
    prev_hash: str
    hash: str


def canonical_detail(detail: dict[str, object] | None) -> str:
    return json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(
    *,
    prev_hash: str,
    seq: int,
    at: str,
    operator_id: str,
    device_id: str,
    action: str,
    target: str,
    outcome: str,
    detail: str,
) -> str:
    fields = [prev_hash, str(seq), at, operator_id, device_id, action, target, outcome, detail]
    # A unit separator cannot occur in these fields' JSON or ids, so the
    # concatenation is unambiguous.
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    why: str


def verify_chain(records: Iterable[AuditRecord]) -> tuple[int, ChainBreak | None]:
    """Walk the chain in seq order; return (rows checked, first break or None)."""
    prev = GENESIS
    expected_seq = 1  # the first row is 1: deleting it must show too
    checked = 0
    for rec in records:
        if rec.seq != expected_seq:
            return checked, ChainBreak(expected_seq, f"row {expected_seq} is missing")
        if rec.prev_hash != prev:
            return checked, ChainBreak(rec.seq, "does not link to the row before it")
        recomputed = entry_hash(
            prev_hash=rec.prev_hash,
            seq=rec.seq,
            at=rec.at,
            operator_id=rec.operator_id,
            device_id=rec.device_id,
            action=rec.action,
            target=rec.target,
            outcome=rec.outcome,
            detail=rec.detail,
        )
        if recomputed != rec.hash:
            return checked, ChainBreak(rec.seq, "its contents were changed")
        prev = rec.hash
        expected_seq = rec.seq + 1
        checked += 1
    return checked, None
