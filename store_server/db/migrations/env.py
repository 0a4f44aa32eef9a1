"""Alembic environment: migrations run on the connection the caller hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from store_server.db.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic` command line
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection: object) -> None:
    # render_as_batch: SQLite can only ALTER by copying the table; batch mode
    # writes migrations that do that correctly. transactional_ddl: SQLite's DDL
    # is transactional, but Alembic assumes not and commits after each
    # migration; with it, every pending migration runs in one transaction, so
    # a failed upgrade leaves the database exactly as it was.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
