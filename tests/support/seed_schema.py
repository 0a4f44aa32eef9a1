"""Rows for every table of a database at any schema revision, by plain SQL.

The schema is read from the database itself (sqlite_master, table_info,
foreign_key_list), so the upgrade test needs no change when a migration is
added: each table gets ROWS rows of distinct values of its declared types,
foreign keys pointing at rows of the parent table.
"""

from __future__ import annotations

import sqlite3
from graphlib import TopologicalSorter
from typing import Any

ROWS = 3
Snapshot = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def user_tables(conn: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name"
        )
    ]


def seed_every_table(conn: sqlite3.Connection) -> None:
    """Insert ROWS rows into every table, parents before children."""
    tables = user_tables(conn)
    fks = {t: list(conn.execute(f"PRAGMA foreign_key_list('{t}')")) for t in tables}
    order = TopologicalSorter(
        {t: {fk[2] for fk in fks[t] if fk[2] != t} for t in tables}
    ).static_order()
    inserted: dict[str, list[dict[str, Any]]] = {}
    for table in order:
        columns = list(conn.execute(f"PRAGMA table_info('{table}')"))
        rows = []
        for i in range(ROWS):
            row = {col[1]: _value(table, col[1], col[2], col[5], i) for col in columns}
            for fk in fks[table]:  # (id, seq, parent, from, to, ...)
                parent_rows = inserted[fk[2]]
                row[fk[3]] = parent_rows[i % len(parent_rows)][fk[4]]
            rows.append(row)
            names = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" for _ in row)
            conn.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', list(row.values()))
        inserted[table] = rows
    conn.commit()


def snapshot(conn: sqlite3.Connection) -> Snapshot:
    """Every table's column names and rows (sorted), to compare before and after."""
    out: Snapshot = {}
    for table in user_tables(conn):
        cursor = conn.execute(f'SELECT * FROM "{table}"')
        columns = [d[0] for d in cursor.description]
        out[table] = (columns, sorted(cursor.fetchall(), key=repr))
    return out


def _value(table: str, column: str, declared: str, pk: int, i: int) -> Any:
    kind = declared.upper()
    if kind in {"INTEGER", "BIGINT", "SMALLINT"}:
        return i + 1 if pk else 1000 * (i + 1) + len(column)
    if kind == "BOOLEAN":
        return i % 2
    if kind == "DATETIME":
        return f"2026-11-2{i} 0{i}:30:00.000000"
    if kind == "DATE":
        return f"2026-11-2{i}"
    if kind == "TEXT":
        return f'{{"seed": {i}}}'
    if kind.startswith(("NUMERIC", "FLOAT", "REAL")):
        return i + 0.5
    if kind == "BLOB":
        return f"{table}.{column}.{i}".encode()
    if kind.startswith("VARCHAR"):
        width = int(kind[kind.index("(") + 1 : -1])
        text = f"{i}{column}"
        return text[:width]
    raise AssertionError(f"{table}.{column}: no seed value for the type {declared!r}")
