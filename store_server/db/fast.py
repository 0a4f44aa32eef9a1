"""Plain DB-API writes for the hottest path (a sale's commit).

SQLAlchemy spends 100-250 µs of Python on each execute; a 20-line sale's
commit makes about fifteen of them, which capped a store at ~100 sales/s on
a 2-core box (measured: `make bench`). These helpers write the same rows with
the sqlite3 cursor of the very same connection, inside the same transaction,
with SQL generated from the models so the column lists cannot drift.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache

from sqlalchemy import Connection, DateTime, Table

from store_server.db.types import UtcDateTime


def db_value(value: object) -> object:
    """A Python value as SQLAlchemy stores it in SQLite (UtcDateTime: naive UTC text)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass UTC-aware datetimes")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


@cache
def _plan(table: Table, columns: tuple[str, ...]) -> tuple[str, tuple[int, ...]]:
    """The INSERT statement, and which positions need converting (times)."""
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column(s) {sorted(unknown)}")
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    # sqlite3 stores booleans as integers by itself; only times need text.
    convert = tuple(
        i for i, c in enumerate(columns) if isinstance(table.c[c].type, UtcDateTime | DateTime)
    )
    return f"INSERT INTO {table.name} ({names}) VALUES ({marks})", convert


def insert_sql(table: Table, columns: tuple[str, ...]) -> str:
    """The INSERT of these columns, for callers that pass values already as
    SQLite stores them (times through db_value)."""
    return _plan(table, columns)[0]


# Rows per multi-row INSERT: far under SQLite's limit of bound variables.
VALUES_PER_STATEMENT = 100


@lru_cache(maxsize=256)
def _multi_sql(sql: str, width: int, count: int) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    at = sql.rindex("VALUES (")
    end = sql.index(")", at)  # the one row's closing parenthesis; ON CONFLICT follows
    return sql[:at] + "VALUES " + ", ".join([row] * count) + sql[end + 1 :]


def insert_values(raw: sqlite3.Connection, sql: str, rows: Sequence[Sequence[object]]) -> None:
    """Run a one-row `INSERT ... VALUES (?, ...) [ON CONFLICT ...]` for every row,
    as multi-row statements (values already as SQLite stores them).

    One statement for a sale's 20 lines rather than executemany's 20 steps:
    each step is a trip through the sqlite3 module and a release and
    re-take of the GIL, on the one writer thread every till waits for.
    """
    if not rows:
        return
    width = len(rows[0])
    for start in range(0, len(rows), VALUES_PER_STATEMENT):
        chunk = rows[start : start + VALUES_PER_STATEMENT]
        flat = [value for row in chunk for value in row]
        raw.execute(_multi_sql(sql, width, len(chunk)), flat)


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """INSERT every row (all rows have the same keys) in the caller's transaction."""
    if not rows:
        return
    columns = tuple(rows[0])
    sql, convert = _plan(table, columns)
    params = [[row[c] for c in columns] for row in rows]
    for values in params:
        for i in convert:
            values[i] = db_value(values[i])
    conn.connection.driver_connection.executemany(sql, params)


def execute(conn: Connection, sql: str, params: Iterable[object] = ()) -> list[tuple]:
    raw = conn.connection.driver_connection
    return raw.execute(sql, tuple(db_value(p) for p in params)).fetchall()
