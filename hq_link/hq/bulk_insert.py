"""Writing a batch's rows into HQ's tables: COPY on PostgreSQL, INSERTs elsewhere.

A batch of 500-2,000 change rows becomes several thousand rows in a handful
of tables (the log, receipts, their lines and payments, ledger entries). One
statement per row cost most of a batch's time; a COPY per table writes them
in one round trip, with no per-row statement on either side. The COPY is
binary (each value in its column's own binary form): no text to escape, no
timestamp to format, which in text form cost more than the projection itself.

COPY has no ON CONFLICT. Ingest's fast path uses it because a batch's rows are
new by construction (HQ's cursor, locked in the batch's transaction, says
which seqs it has not seen), so a key HQ already has is an anomaly: the COPY
fails, `RowsRefused` is raised, and ingest applies that batch again row by row
with careful writers, where a row whose key is there already is skipped
(ON CONFLICT DO NOTHING), as it always was.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    DateTime,
    Integer,
    SmallInteger,
    String,
    Table,
)
from sqlalchemy.dialects import postgresql, sqlite


class RowsRefused(Exception):
    """The database (or the COPY's encoding) refused a row: a key it has already,
    a value too long or out of range, ..."""


def dialect_insert(dialect: Any, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT that can say ON CONFLICT DO NOTHING in this database's dialect."""
    return postgresql.insert(table) if dialect.name == "postgresql" else sqlite.insert(table)


class JsonText(str):
    """JSON as text, for a JSON column written by COPY: the database parses it
    (the change log's payload as the store sent it, never re-encoded)."""


def _json_bytes(value: object) -> bytes | None:
    if value is None:
        return None
    text = value if isinstance(value, JsonText) else json.dumps(value, ensure_ascii=False)
    return text.encode("utf-8")


def _checked_int(low: int, high: int) -> Callable[[object], object]:
    # The binary int4/int2 dumpers keep the low bytes of a larger number: refuse it here.
    def check(value: object) -> object:
        if isinstance(value, int) and not low <= value <= high:
            raise RowsRefused(f"{value} out of range {low}..{high}")
        return value

    return check


_INT4 = _checked_int(-(2**31), 2**31 - 1)
_INT2 = _checked_int(-(2**15), 2**15 - 1)


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to COPY rows with these keys into one table."""

    sql: str
    types: list[str]  # PostgreSQL type of each column, for the binary dumpers
    values: Callable[[Mapping[str, Any]], tuple]
    convert: list[tuple[int, Callable[[object], object]]]  # (column, to its binary-ready value)


def _column_type(table: Table, name: str, dialect: Any) -> tuple[str, Any] | None:
    """(PostgreSQL type name, converter or None), or None: no binary COPY for it."""
    column_type = table.c[name].type.dialect_impl(dialect)
    if isinstance(column_type, postgresql.JSONB):
        return None  # none written here: HQ's change log keeps plain json
    if isinstance(column_type, JSON):
        return "bytea", _json_bytes
    if isinstance(column_type, BigInteger):
        return "int8", None
    if isinstance(column_type, SmallInteger):
        return "int2", _INT2
    if isinstance(column_type, Integer):
        return "int4", _INT4
    if isinstance(column_type, Boolean):
        return "bool", None
    if isinstance(column_type, DateTime) and column_type.timezone:
        return "timestamptz", None
    if isinstance(column_type, String):  # also Text, VARCHAR(n): the length is checked
        return "text", None
    return None


def _plan(table: Table, names: list[str], dialect: Any) -> _Plan | None:
    types, convert = [], []
    for i, name in enumerate(names):
        found = _column_type(table, name, dialect)
        if found is None:
            return None
        types.append(found[0])
        if found[1] is not None:
            convert.append((i, found[1]))
    columns = ", ".join(f'"{name}"' for name in names)
    if len(names) > 1:
        values = itemgetter(*names)
    else:
        only = names[0]

        def values(row: Mapping[str, Any]) -> tuple:
            return (row[only],)

    return _Plan(
        sql=f'COPY "{table.name}" ({columns}) FROM STDIN (FORMAT BINARY)',
        types=types,
        values=values,
        convert=convert,
    )


_PLANS: dict[tuple[Table, tuple[str, ...]], _Plan | None] = {}


class RowWriter:
    """What a projector receives as `insert`.

    `insert(table)` is the dialect's INSERT that can say ON CONFLICT DO NOTHING
    (for the projector's own statements); `insert.rows(table, rows)` writes
    many rows at once, skipping keys HQ already has (see the module's doc for
    how the fast path keeps that promise).
    """

    def __init__(self, conn: Connection, *, copy: bool) -> None:
        self.conn = conn
        self._postgresql = conn.dialect.name == "postgresql"
        self.copies = copy and self._postgresql and conn.dialect.driver == "psycopg"

    def __call__(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        return dialect_insert(self.conn.dialect, table)

    def rows(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert `rows` (dicts with the same keys, column names) into `table`."""
        if not rows:
            return
        if self.copies:
            key = (table, tuple(rows[0]))
            if key not in _PLANS:
                _PLANS[key] = _plan(table, list(rows[0]), self.conn.dialect)
            plan = _PLANS[key]
            if plan is not None:
                self._copy(plan, rows)
                return
        keys = [c.name for c in table.primary_key.columns]
        self.conn.execute(self(table).on_conflict_do_nothing(index_elements=keys), list(rows))

    def _copy(self, plan: _Plan, rows: Sequence[Mapping[str, Any]]) -> None:
        import psycopg  # only PostgreSQL HQs need it

        values, convert = plan.values, plan.convert
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor, cursor.copy(plan.sql) as copy:
                copy.set_types(plan.types)
                for row in rows:
                    record = values(row)
                    if convert:
                        record = list(record)
                        for i, to_binary in convert:
                            record[i] = to_binary(record[i])
                    copy.write_row(record)
        except (psycopg.Error, TypeError, ValueError, OverflowError, struct.error) as exc:
            # A value its column's binary form cannot hold (a naive time, a
            # number too large, text in a number column) fails as the database would.
            raise RowsRefused(f"{exc}") from exc
