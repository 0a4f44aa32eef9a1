"""What a backup file is: its store, time, schema revision and integrity."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

STORE_KEY = "backup.store_id"
TAKEN_KEY = "backup.taken_at"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    store_id: str | None
    taken_at: str | None
    revision: str | None
    integrity: str  # "ok", or what integrity_check (or opening the file) found

    @property
    def intact(self) -> bool:
        return self.integrity == "ok"


def integrity_of(conn: sqlite3.Connection) -> str:
    """'ok', or the first problems PRAGMA integrity_check lists."""
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    return "ok" if rows == ["ok"] else "; ".join(rows)


def inspect_backup(path: Path) -> BackupInfo:
    """Open `path` read-only and describe it; never raises for a bad file."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:  # missing, a directory, or not readable by this user
        return BackupInfo(
            path, None, None, None, f"cannot read it as uid {os.geteuid()}: {exc.strerror}"
        )
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return BackupInfo(path, None, None, None, f"cannot open: {exc}")
    try:
        integrity = integrity_of(conn)
        meta = _meta(conn)
        return BackupInfo(
            path, meta.get(STORE_KEY), meta.get(TAKEN_KEY), _revision(conn), integrity
        )
    except sqlite3.DatabaseError as exc:  # "file is not a database", malformed
        return BackupInfo(path, None, None, None, f"not a readable SQLite database: {exc}")
    finally:
        conn.close()


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(conn.execute("SELECT key, value FROM store_meta"))
    except sqlite3.OperationalError:  # no such table: not a Tillpoint database
        return {}


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None
