"""The models and the migrations describe the same schema."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.schema import metadata


def test_migrations_reach_head_and_match_the_models(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()
    with db.writer.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    db.dispose()
    assert diff == []


def test_upgrade_is_repeatable(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    migrate.upgrade(db)
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()
    db.dispose()
