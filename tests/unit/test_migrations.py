"""The models and the migrations describe the same schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.schema import metadata
from tests.support.seed_schema import seed_every_table, snapshot


def test_migrations_reach_head_and_match_the_models(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()
    with db.writer_connection() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    db.dispose()
    assert diff == []


def test_upgrade_is_repeatable(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    migrate.upgrade(db)
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()
    db.dispose()


def _earlier_revisions() -> list[str]:
    """Every revision before head, read from the migration scripts (new ones included)."""
    scripts = ScriptDirectory(str(migrate.MIGRATIONS))
    head = scripts.get_current_head()
    return [r.revision for r in scripts.walk_revisions() if r.revision != head]


@pytest.mark.parametrize("revision", _earlier_revisions())
def test_upgrade_from_an_earlier_revision_with_data_loses_nothing(
    tmp_path: Path, revision: str
) -> None:
    path = tmp_path / "m.db"
    db = Database(path)
    migrate.upgrade(db, revision)
    db.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=ON")
    seed_every_table(conn)
    before = snapshot(conn)
    conn.close()

    db = Database(path)
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()
    db.dispose()
    conn = sqlite3.connect(path)
    after = snapshot(conn)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    for table, (columns, rows) in before.items():
        assert table in after, f"{table} was dropped by the upgrade from {revision}"
        new_columns, new_rows = after[table]
        assert set(columns) <= set(new_columns), f"{table} lost columns"
        kept = sorted(
            (tuple(row[new_columns.index(c)] for c in columns) for row in new_rows), key=repr
        )
        assert kept == rows, f"{table}: rows changed by the upgrade from {revision}"
