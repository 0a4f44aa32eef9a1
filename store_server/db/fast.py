"""Plain DB-API writes for the hottest path (a sale's commit).

SQLAlchemy spends 100-250 µs of Python on each execute; a 20-line sale's
commit makes about fifteen of them, which capped a store at ~100 sales/s on
a 2-core box (measured: `make bench`). These helpers write the same rows with
the sqlite3 cursor of the very same connection, inside the same transaction,
with SQL generated from the models so the column lists cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache

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
