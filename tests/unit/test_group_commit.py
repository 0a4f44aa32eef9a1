"""Group commit: several sales in one transaction, a failing one rolled back alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.group_commit import GroupCommitter
from store_server.db.unit_of_work import Actor, UnitOfWork
from store_server.domain.errors import FailedPrecondition

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_one_batch_one_failure(tmp_path: Path) -> None:
    db = Database(tmp_path / "g.db")
    migrate.upgrade(db)
    committer = GroupCommitter(db)
    results: dict[int, object] = {}
    rolled_back: list[int] = []

    def work(n: int):
        def run(uow: UnitOfWork) -> int:
            value = uow.next_value("receipt")
            uow.on_rollback(lambda: rolled_back.append(n))
            if n == 2:
                raise FailedPrecondition("underpaid")
            return value

        return run

    def submit(n: int) -> None:
        try:
            results[n] = committer.run(Actor("1", "t"), NOW, work(n))
        except FailedPrecondition as exc:
            results[n] = exc

    # Hold the writer so all four queue up and go in one batch.
    with db.write():
        threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        # Every job is queued (puts are counted until task_done, never called);
        # the committer may already hold the first one or more.
        while committer._queue.unfinished_tasks < 4:
            threading.Event().wait(0.01)
    for t in threads:
        t.join(timeout=10)
    committer.close()
    assert isinstance(results[2], FailedPrecondition)
    assert rolled_back == [2]
    # The counter is gap-free: the failed job's increment rolled back with it.
    assert sorted(v for k, v in results.items() if k != 2) == [1, 2, 3]
    with db.read() as conn:
        assert conn.execute(text("SELECT value FROM counters WHERE name = 'receipt'")).scalar() == 3
    db.dispose()


def test_a_job_failing_in_sql_leaves_the_committer_working(tmp_path: Path) -> None:
    db = Database(tmp_path / "g.db")
    migrate.upgrade(db)
    committer = GroupCommitter(db)

    def bad(uow: UnitOfWork) -> None:
        # An SQL error inside the job: the job fails, the committer goes on.
        uow.conn.connection.driver_connection.execute("INSERT INTO nowhere VALUES (1)")

    with pytest.raises(Exception, match="no such table"):
        committer.run(Actor("1", "t"), NOW, bad)
    assert committer.run(Actor("1", "t"), NOW, lambda uow: uow.next_value("x")) == 1
    committer.close()
    db.dispose()


def test_a_lone_failing_job_leaves_nothing(tmp_path: Path) -> None:
    """A batch of one runs without a SAVEPOINT: its failure rolls back the
    whole transaction, tells its rollback hooks and leaves no row behind."""
    db = Database(tmp_path / "g.db")
    migrate.upgrade(db)
    committer = GroupCommitter(db)
    rolled_back: list[str] = []
    committed: list[str] = []

    def failing(uow: UnitOfWork) -> None:
        uow.next_value("receipt")
        uow.on_rollback(lambda: rolled_back.append("failing"))
        uow.after_commit(lambda: committed.append("failing"))
        raise FailedPrecondition("underpaid")

    with pytest.raises(FailedPrecondition):
        committer.run(Actor("1", "t"), NOW, failing)
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM counters")).scalar() == 0
    assert committer.run(Actor("1", "t"), NOW, lambda uow: uow.next_value("receipt")) == 1
    committer.close()
    assert rolled_back == ["failing"] and committed == []
    db.dispose()
