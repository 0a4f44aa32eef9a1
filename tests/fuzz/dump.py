"""A dump of the store's business data, to show a rejected call wrote nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# The audit log may record a rejection (that is its job).
SKIPPED_TABLES = {"audit_log"}
# Lock-out counters are written on purpose when a PIN is wrong: that write is
# the brute-force throttle, not business data. They are dumped apart.
SECURITY_COLUMNS = {
    "operators": {"failed_pin_count", "locked_until"},
    "members": {"failed_pins", "locked_until"},
}

Dump = dict[str, list[str]]


def dump(path: Path) -> tuple[Dump, Dump]:
    """(business data, security counters): every table's rows, sorted, as text."""
    business: Dump = {}
    security: Dump = {}
    # A fresh read-only connection sees exactly what was committed (WAL).
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in sorted(set(tables) - SKIPPED_TABLES):
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            hidden = SECURITY_COLUMNS.get(table, set())
            keep = [i for i, c in enumerate(columns) if c not in hidden]
            apart = [i for i, c in enumerate(columns) if c in hidden]
            rows = cursor.fetchall()
            business[table] = sorted(repr(tuple(row[i] for i in keep)) for row in rows)
            if apart:
                security[table] = sorted(repr(tuple(row[i] for i in apart)) for row in rows)
    finally:
        conn.close()
    return business, security


def differences(before: Dump, after: Dump) -> list[str]:
    """Human-readable rows added or removed, per table."""
    out: list[str] = []
    for table in sorted(before.keys() | after.keys()):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        out += [f"{table}: - {row[:300]}" for row in sorted(old - new)]
        out += [f"{table}: + {row[:300]}" for row in sorted(new - old)]
    return out
