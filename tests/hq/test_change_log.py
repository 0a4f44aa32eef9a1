"""The store's change log as the HQ link needs it: seqs in commit order without
gaps, a schema version on every row, and transactions the agent never splits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hq_link.agent.outbox import SHIPPED_KEY, StoreOutbox
from store_server.appliance.doctor import HQ_SHIPPED_KEY
from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.group_commit import GroupCommitter
from store_server.db.unit_of_work import CHANGE_SCHEMA_VERSION, Actor, unit_of_work

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ACTOR = Actor.system("test")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "store.db")
    migrate.upgrade(database)
    yield database
    database.dispose()


def _log(db: Database) -> list[tuple]:
    with db.read() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT seq, txn, kind, key, schema_version FROM change_log ORDER BY seq"
            )
        ]


def _write(db: Database, name: str, rows: int) -> None:
    with unit_of_work(db, ACTOR, NOW) as uow:
        for i in range(rows):
            uow.change("test", f"{name}-{i}", {"i": i})


def test_each_unit_of_work_is_one_transaction_of_consecutive_seqs(db: Database) -> None:
    _write(db, "a", 3)
    with pytest.raises(RuntimeError), unit_of_work(db, ACTOR, NOW) as uow:
        uow.change("test", "rolled-back", {})
        raise RuntimeError("the write fails: its change row goes with it")
    _write(db, "b", 2)
    assert _log(db) == [
        (1, 1, "test", "a-0", CHANGE_SCHEMA_VERSION),
        (2, 1, "test", "a-1", CHANGE_SCHEMA_VERSION),
        (3, 1, "test", "a-2", CHANGE_SCHEMA_VERSION),
        (4, 4, "test", "b-0", CHANGE_SCHEMA_VERSION),
        (5, 4, "test", "b-1", CHANGE_SCHEMA_VERSION),
    ]


def test_group_commit_keeps_each_sale_its_own_transaction_and_leaves_no_gap(
    db: Database,
) -> None:
    committer = GroupCommitter(db)

    def sale(name: str, fail: bool = False):
        def work(uow) -> None:
            uow.change("sale", name, {})
            uow.change("points_entry", name, {})
            if fail:
                raise ValueError("refused")

        return work

    committer.run(ACTOR, NOW, sale("s1"))
    with pytest.raises(ValueError):
        committer.run(ACTOR, NOW, sale("bad", fail=True))
    committer.run(ACTOR, NOW, sale("s2"))
    committer.close()
    assert [(seq, txn, key) for seq, txn, _, key, _ in _log(db)] == [
        (1, 1, "s1"),
        (2, 1, "s1"),
        (3, 3, "s2"),
        (4, 3, "s2"),
    ]


def test_the_agent_never_reads_half_a_transaction(db: Database) -> None:
    _write(db, "a", 2)
    _write(db, "big", 5)
    _write(db, "c", 1)
    outbox = StoreOutbox(db.path)
    try:
        first = outbox.read_after(0, 3)  # 3 rows asked: runs on to big's end
        assert [r.key for r in first] == ["a-0", "a-1", "big-0", "big-1", "big-2", "big-3", "big-4"]
        assert {r.txn for r in first[2:]} == {3}
        assert first[0].at == "2026-11-23T02:00:00+00:00"
        assert [r.key for r in outbox.read_after(first[-1].seq, 3)] == ["c-0"]
        assert outbox.read_after(8, 3) == []
        lag = outbox.lag(NOW.replace(minute=1))
        assert (lag.rows, lag.seconds, lag.shipped_seq, lag.last_seq) == (8, 60.0, 0, 8)
        outbox.record_shipped(7)
        assert outbox.shipped_seq() == 7
        assert outbox.lag(NOW).rows == 1
    finally:
        outbox.close()


def test_the_shipped_seq_is_where_doctor_reads_it() -> None:
    assert SHIPPED_KEY == HQ_SHIPPED_KEY
