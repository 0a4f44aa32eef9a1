from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from store_server.domain.audit_chain import (
    GENESIS,
    AuditRecord,
    canonical_detail,
    entry_hash,
    verify_chain,
)
from store_server.domain.pins import LockState, hash_pin, verify_pin

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_pin_hash_verifies_and_salts() -> None:
    a, b = hash_pin("1234"), hash_pin("1234")
    assert a != b and a.startswith("scrypt$")
    assert verify_pin("1234", a) and verify_pin("1234", b)
    assert not verify_pin("1235", a)
    assert not verify_pin("1234", "garbage")


def test_fifth_failure_locks_for_five_minutes() -> None:
    state = LockState.cleared()
    for i in range(4):
        state = state.after_failure(NOW)
        assert not state.is_locked(NOW) and state.failed_count == i + 1
    state = state.after_failure(NOW)
    assert state.is_locked(NOW)
    assert state.is_locked(NOW + timedelta(minutes=4, seconds=59))
    assert not state.is_locked(NOW + timedelta(minutes=5))


def _chain(n: int) -> list[AuditRecord]:
    out, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = dict(
            seq=seq,
            at=f"2026-11-23T08:00:0{seq}",
            operator_id="1001",
            device_id="till-01",
            action="AuthService/Login",
            target="1001",
            outcome="OK",
            detail=canonical_detail({"n": seq}),
        )
        h = entry_hash(prev_hash=prev, **fields)
        out.append(AuditRecord(prev_hash=prev, hash=h, **fields))
        prev = h
    return out


def test_intact_chain() -> None:
    assert verify_chain(_chain(5)) == (5, None)


def test_changed_row_is_named() -> None:
    rows = _chain(5)
    rows[2] = replace(rows[2], outcome="PERMISSION_DENIED")
    checked, broken = verify_chain(rows)
    assert (checked, broken.seq) == (2, 3)


def test_deleted_and_reordered_rows_are_named() -> None:
    rows = _chain(5)
    assert verify_chain(rows[:2] + rows[3:])[1].seq == 3
    assert verify_chain(rows[1:])[1].seq == 1
    rows[1], rows[2] = rows[2], rows[1]
    assert verify_chain(rows)[1].seq == 2


def test_rehashed_row_still_breaks_the_next_link() -> None:
    rows = _chain(4)
    forged = replace(rows[1], outcome="OK-forged")
    forged = replace(
        forged,
        hash=entry_hash(
            prev_hash=forged.prev_hash,
            seq=forged.seq,
            at=forged.at,
            operator_id=forged.operator_id,
            device_id=forged.device_id,
            action=forged.action,
            target=forged.target,
            outcome=forged.outcome,
            detail=forged.detail,
        ),
    )
    rows[1] = forged
    assert verify_chain(rows)[1].seq == 3
