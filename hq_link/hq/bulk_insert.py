"""Many-row INSERTs on PostgreSQL through COPY, for ingest and its projectors.

Ingest and the projectors write with `conn.execute(insert(t).on_conflict_do_nothing(...),
rows)`. On psycopg 3 SQLAlchemy sends that as one statement per row (its
multi-row VALUES batching is off for ON CONFLICT), which at hundreds of rows
per batch and a handful of tables was most of a batch's time. This hook takes
such executemany calls and runs them as COPY into a temporary staging table
and one `INSERT ... SELECT ... ON CONFLICT ... DO NOTHING`: the same rows, the
same conflict rule, the same transaction (a failure raises as before, so
ingest's row-by-row fallback still finds the row the database refuses).
Statements of any other shape go the ordinary way.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, event

# INSERT INTO t (a, b) VALUES (%(a)s::VARCHAR, %(b)s::BIGINT) ON CONFLICT (a) DO NOTHING
_INSERT = re.compile(
    r"INSERT INTO (?P<table>\w+) \((?P<columns>[\w, ]+)\) VALUES \((?P<values>.*?)\)"
    r"(?P<conflict> ON CONFLICT \([\w, ]+\) DO NOTHING)?",
)
_VALUE = re.compile(r"%\((\w+)\)s(?:::[A-Z ]+)?")
# Fewer rows than this: the ordinary executemany costs less than the staging.
MIN_ROWS = 8


def _plan(statement: str) -> tuple[str, list[str], list[str], str] | None:
    """(table, columns, parameter names, conflict clause), or None for another shape."""
    match = _INSERT.fullmatch(statement.strip())
    if match is None:
        return None
    columns = [c.strip() for c in match["columns"].split(",")]
    values = [v.strip() for v in match["values"].split(",")]
    names = []
    for value in values:
        m = _VALUE.fullmatch(value)
        if m is None:
            return None
        names.append(m[1])
    if len(names) != len(columns):
        return None
    return match["table"], columns, names, match["conflict"] or ""


def install(engine: Engine) -> None:
    """Route this PostgreSQL engine's many-row INSERTs through COPY."""
    plans: dict[str, tuple[str, list[str], list[str], str] | None] = {}

    @event.listens_for(engine, "do_executemany")
    def _copy_many(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        if len(parameters) < MIN_ROWS or not isinstance(parameters[0], dict):
            return None
        if statement not in plans:
            plans[statement] = _plan(statement)
        plan = plans[statement]
        if plan is None:
            return None
        table, columns, names, conflict = plan
        stage = f"_stage_{table}"
        cols = ", ".join(columns)
        # Dropped at commit; the staging rows are deleted after use, so two
        # such INSERTs into one table in one transaction never see each other's.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DROP",
            prepare=False,
        )
        with cursor.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for params in parameters:
                copy.write_row([params[name] for name in names])
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}{conflict}")
        cursor.execute(f"DELETE FROM {stage}")
        return True
