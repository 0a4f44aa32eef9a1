"""HQ's one-card projection and feed on a real PostgreSQL (and SQLite), in-process: members
and ledger entries kept with the store that made them, revisions in commit
order for the stores to pull, a store's forged entry quarantined."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from hq_link.hq import tables
from hq_link.hq.ingest import IncomingRow, Ingest
from hq_link.hq.onecard import tables as t
from hq_link.hq.onecard.balances import balance, negative_members
from hq_link.hq.onecard.feed import pull
from hq_link.hq.server import make_engine

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
MEMBER = "8000100000035"


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """HQ's database: PostgreSQL for a chain, SQLite for the demo (`make hq`)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hq.db'}"
    else:
        url = request.getfixturevalue("hq_url")
    e = make_engine(url)
    tables.metadata.create_all(e)
    yield e
    e.dispose()


def row(seq: int, kind: str, key: str, payload: dict) -> IncomingRow:
    return IncomingRow(seq, seq, kind, key, json.dumps(payload), NOW.isoformat(), 1)


def sv(store: str, n: int, kind: str, fen: int, offline_day: str | None = None) -> dict:
    return {
        "entry_id": f"{store}-V{n:010d}",
        "member_id": MEMBER,
        "kind": kind,
        "paid_fen": fen,
        "bonus_fen": 0,
        "source_kind": "sale",
        "source_id": f"{store}-{n}",
        "store_id": store,
        "offline_day": offline_day,
        "created_at": NOW.isoformat(),
    }


def member() -> dict:
    return {
        "member_id": MEMBER,
        "card_no": MEMBER,
        "phone": "13912345678",
        "name": "赵六",
        "tier": "normal",
        "home_store": "S01",
    }


def test_feed_balances_and_the_negative_report(engine: Engine) -> None:
    ingest = Ingest(engine)
    s01 = [
        row(1, "member", MEMBER, member()),
        row(2, "sale", "x", {"receipt": {"receipt_no": "r", "business_day": "d", "total_fen": 1}}),
        row(3, "stored_value_entry", "S01-V0000000001", sv("S01", 1, "topup", 10_000)),
        row(4, "stored_value_entry", "S01-V0000000002", sv("S01", 2, "spend", -8_000)),
    ]
    assert ingest.push("S01", 1, 4, s01, NOW).quarantined_rows == 0
    s02 = [
        row(
            1, "stored_value_entry", "S02-V0000000001", sv("S02", 1, "spend", -5_000, "2026-11-23")
        ),
        # S02 sending an entry numbered as S01's: quarantined, not counted.
        row(2, "stored_value_entry", "S01-V0000000009", sv("S01", 9, "topup", 99_999)),
    ]
    assert ingest.push("S02", 1, 2, s02, NOW).quarantined_rows == 1
    # A duplicate batch applies nothing (no second revision, no second entry).
    assert ingest.push("S01", 1, 4, s01, NOW).duplicate

    with engine.connect() as conn:
        assert balance(conn, MEMBER).stored_value_fen == -3_000
        (neg,) = negative_members(conn)
        assert (neg.member_id, neg.home_store, neg.stored_value_fen) == (MEMBER, "S01", -3_000)
        assert (neg.offline_spent_fen, neg.offline_stores) == (5_000, ("S02",))
        revs = conn.execute(select(t.feed.c.rev, t.feed.c.store_id).order_by(t.feed.c.rev)).all()
    # The sale is not a member change; three rows of S01 then one of S02.
    assert [tuple(r) for r in revs] == [(1, "S01"), (2, "S01"), (3, "S01"), (4, "S02")]

    page = pull(engine, "S02", 0, 2)  # S02 sees S01's, two revisions at a time
    assert [(r.rev, r.kind) for r in page.rows] == [(1, "member"), (2, "stored_value_entry")]
    assert (page.next_rev, page.head_rev) == (2, 4)
    page = pull(engine, "S02", 2, 2)
    assert [r.rev for r in page.rows] == [3]  # its own rev 4 left out...
    assert page.next_rev == 4  # ...but looked at
    assert json.loads(page.rows[0].payload_json)["paid_fen"] == -8_000
    assert [r.rev for r in pull(engine, "S01", 0, 100).rows] == [4]


def test_revisions_have_no_gaps_under_concurrent_stores(engine: Engine) -> None:
    """Eight stores ingest at once: revisions 1..N, each once (commit order)."""
    ingest = Ingest(engine)
    errors: list[BaseException] = []

    def store(i: int) -> None:
        sid = f"S{i + 10}"
        try:
            for n in range(1, 11):
                ingest.push(
                    sid,
                    n,
                    n,
                    [row(n, "stored_value_entry", f"{sid}-V{n:010d}", sv(sid, n, "topup", 1))],
                    NOW,
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=store, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with engine.connect() as conn:
        revs = conn.execute(select(t.feed.c.rev).order_by(t.feed.c.rev)).scalars().all()
    assert revs == list(range(1, 81))
    assert len(pull(engine, "S99", 0, 5_000).rows) == 80
