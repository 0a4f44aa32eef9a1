"""SQLite storage failures become UNAVAILABLE with a reason; others stay bugs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from store_server.appliance.storage_faults import (
    DATABASE_READ_ONLY,
    DISK_FULL,
    storage_fault,
)
from store_server.domain.errors import Unavailable


def _sqlite_error(code: int, message: str) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code
    return exc


def test_full_disk_through_sqlalchemy_and_a_chain() -> None:
    wrapped = OperationalError("COMMIT", None, _sqlite_error(13, "database or disk is full"))
    try:
        raise RuntimeError("group commit failed") from wrapped
    except RuntimeError as exc:
        fault = storage_fault(exc)
    assert isinstance(fault, Unavailable)
    assert fault.reason == DISK_FULL


def test_read_only_database_from_a_real_sqlite_error(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as raised:
        conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    fault = storage_fault(raised.value)
    assert fault is not None and fault.reason == DATABASE_READ_ONLY


def test_other_errors_are_not_storage_faults() -> None:
    assert storage_fault(_sqlite_error(19, "UNIQUE constraint failed")) is None
    assert storage_fault(ValueError("x")) is None


def test_a_domain_error_raised_while_handling_one_stays_itself() -> None:
    from store_server.domain.errors import NotFound

    try:
        try:
            raise _sqlite_error(13, "database or disk is full")
        except sqlite3.OperationalError:
            raise NotFound("no such basket") from None
    except NotFound as exc:
        assert storage_fault(exc) is None
