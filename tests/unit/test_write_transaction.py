"""Database.write: one transaction on the DB-API connection, whether the block
writes through sqlite3 directly, through SQLAlchemy Core, or both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from store_server.db.database import Database


@pytest.fixture
def db(tmp_path: Path):
    store = Database(tmp_path / "w.db")
    with store.writer_connection() as conn, conn.begin():
        conn.execute(text("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
    yield store
    store.dispose()


def rows(db: Database) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT k, v FROM t ORDER BY k"))]


def raw(conn) -> sqlite3.Connection:
    return conn.connection.driver_connection


def test_raw_and_core_statements_commit_together(db: Database) -> None:
    with db.write() as conn:
        raw(conn).execute("INSERT INTO t VALUES ('a', 1)")
        conn.execute(text("INSERT INTO t VALUES ('b', 2)"))  # SQLAlchemy joins, no second BEGIN
        raw(conn).execute("INSERT INTO t VALUES ('c', 3)")
    with db.write(durable=False) as conn:
        raw(conn).execute("UPDATE t SET v = 10 WHERE k = 'a'")
    assert rows(db) == [("a", 10), ("b", 2), ("c", 3)]


@pytest.mark.parametrize("core", [False, True], ids=["raw only", "raw and core"])
def test_an_error_rolls_back_everything_and_the_writer_works_on(db: Database, core: bool) -> None:
    with pytest.raises(RuntimeError), db.write() as conn:
        raw(conn).execute("INSERT INTO t VALUES ('a', 1)")
        if core:
            conn.execute(text("INSERT INTO t VALUES ('b', 2)"))
        raise RuntimeError("the till's request was refused half-way")
    assert rows(db) == []
    with db.write() as conn:
        assert raw(conn).in_transaction  # a fresh transaction
        conn.execute(text("INSERT INTO t VALUES ('c', 3)"))
    assert rows(db) == [("c", 3)]


def test_a_failed_statement_leaves_nothing_and_no_open_transaction(db: Database) -> None:
    with db.write() as conn:
        raw(conn).execute("INSERT INTO t VALUES ('a', 1)")
    with pytest.raises(sqlite3.IntegrityError), db.write() as conn:
        raw(conn).execute("INSERT INTO t VALUES ('b', 2)")
        raw(conn).execute("INSERT INTO t VALUES ('a', 9)")  # the key is taken
    assert rows(db) == [("a", 1)]
    with db.writer_connection() as conn:
        assert not raw(conn).in_transaction


def test_the_write_lock_is_held_from_the_first_statement(db: Database) -> None:
    # BEGIN IMMEDIATE: another connection cannot start writing meanwhile.
    other = sqlite3.connect(db.path, timeout=0)
    try:
        with db.write() as conn:
            raw(conn).execute("SELECT 1")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
