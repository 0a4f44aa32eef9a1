"""Applying other stores' member changes (store_server.members.foreign) to a real,
migrated SQLite store database: balances, lots, idempotence, no change-log echo."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store_server.members.foreign import ForeignChange, apply_changes, pulled_rev

AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
MEMBER = "8000100000035"


@pytest.fixture
def conn(template_db: Path, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = tmp_path / "store.db"
    shutil.copy(template_db, path)
    c = sqlite3.connect(path, isolation_level=None)
    yield c
    c.close()


def change(rev: int, store: str, kind: str, key: str, payload: dict) -> ForeignChange:
    return ForeignChange(rev, store, kind, key, json.dumps(payload))


def entry(store: str, entry_id: str, kind: str, **values: object) -> dict[str, object]:
    return {
        "entry_id": entry_id,
        "member_id": MEMBER,
        "kind": kind,
        "source_kind": "sale",
        "source_id": f"doc-{entry_id}",
        "store_id": store,
        "operator_id": "1001",
        "device_id": "till-01",
        "created_at": "2026-11-23 05:00:00+00:00",
        **values,
    }


PAGE = [
    change(
        1,
        "S01",
        "member",
        MEMBER,
        dict(
            member_id=MEMBER,
            card_no=MEMBER,
            phone="13912345678",
            name="赵六",
            birthday=None,
            tier="normal",
            home_store="S01",
            pin_hash="scrypt$x",
            card_discount_bp=0,
            status="active",
            created_at="2026-11-23T05:00:00+00:00",
        ),
    ),
    change(
        2,
        "S01",
        "points_entry",
        "S01-P0000000001",
        entry(
            "S01",
            "S01-P0000000001",
            "earn",
            points=660,
            lot_id="S01-P0000000001",
            earned_on="2026-11-23",
            expires_on="2027-12-31",
        ),
    ),
    change(
        3,
        "S01",
        "stored_value_entry",
        "S01-V0000000001",
        entry("S01", "S01-V0000000001", "topup", paid_fen=10_000, bonus_fen=1_000),
    ),
    change(
        4,
        "S02",
        "points_entry",
        "S02-P0000000001",
        entry("S02", "S02-P0000000001", "redeem", points=-200, lot_id=None),
    ),
    change(
        5,
        "S02",
        "stored_value_entry",
        "S02-V0000000001",
        entry("S02", "S02-V0000000001", "spend", paid_fen=-2_727, bonus_fen=-273, offline_day=None),
    ),
]


def balances(conn: sqlite3.Connection) -> tuple:
    return conn.execute(
        "SELECT points, points_earned_total, sv_paid_fen, sv_bonus_fen, home_store, pin_hash"
        " FROM members WHERE member_id = ?",
        (MEMBER,),
    ).fetchone()


def apply(conn: sqlite3.Connection, page: list[ForeignChange], next_rev: int, own: str = "S03"):
    conn.execute("BEGIN IMMEDIATE")
    done = apply_changes(conn, own, page, next_rev, AT)
    conn.execute("COMMIT")
    return done


def test_a_page_applies_once_with_its_cursor_and_writes_no_change_rows(
    conn: sqlite3.Connection,
) -> None:
    changes_before = conn.execute("SELECT count(*) FROM change_log").fetchone()[0]
    done = apply(conn, PAGE, 5)
    assert done.skipped == []
    assert balances(conn) == (460, 660, 7_273, 727, "S01", "scrypt$x")
    assert conn.execute(
        "SELECT remaining FROM points_lots WHERE lot_id = 'S01-P0000000001'"
    ).fetchone() == (460,)
    assert pulled_rev(conn) == 5
    # Nothing that came down goes up again.
    assert conn.execute("SELECT count(*) FROM change_log").fetchone()[0] == changes_before
    # The same page again (a pull answered but not recorded): nothing moves.
    apply(conn, PAGE, 5)
    assert balances(conn) == (460, 660, 7_273, 727, "S01", "scrypt$x")
    assert conn.execute("SELECT count(*) FROM stored_value_entries").fetchone() == (2,)


def test_own_changes_are_passed_over_and_conflicts_skipped_not_fatal(
    conn: sqlite3.Connection,
) -> None:
    done = apply(conn, PAGE, 5, own="S02")  # S02 has its own entries already
    assert done.applied == {"member": 1, "points_entry": 1, "stored_value_entry": 1}
    assert balances(conn)[:4] == (660, 660, 10_000, 1_000)
    # Another member with the same phone, registered elsewhere meanwhile.
    other = change(
        6,
        "S04",
        "member",
        "8000400000011",
        dict(
            member_id="8000400000011",
            card_no="8000400000011",
            phone="13912345678",
            name="x",
            tier="normal",
            home_store="S04",
        ),
    )
    lost = change(7, "S01", "member_card", MEMBER, {"member_id": MEMBER, "status": "lost"})
    done = apply(conn, [other, lost], 7, own="S02")
    assert len(done.skipped) == 1 and "phone" in done.skipped[0]
    assert done.applied == {"member_card": 1}
    assert pulled_rev(conn) == 7
    assert conn.execute(
        "SELECT status FROM member_cards WHERE card_no = ?", (MEMBER,)
    ).fetchone() == ("lost",)


def test_the_store_reads_the_contact_time_the_agent_writes() -> None:
    # store_server must not import hq_link: the key is written down twice.
    from hq_link.agent.link_state import CONTACT_KEY
    from store_server.members.hq_contact import LAST_CONTACT_KEY

    assert LAST_CONTACT_KEY == CONTACT_KEY


def test_an_earn_entry_without_lot_dates_gets_the_default_expiry(
    conn: sqlite3.Connection,
) -> None:
    older = entry("S01", "S01-P0000000007", "earn", points=50, lot_id="S01-P0000000007")
    apply(conn, [PAGE[0], change(9, "S01", "points_entry", "S01-P0000000007", older)], 9)
    assert conn.execute(
        "SELECT earned_on, expires_on, remaining FROM points_lots WHERE lot_id = ?",
        ("S01-P0000000007",),
    ).fetchone() == ("2026-11-23", "2027-12-31", 50)
