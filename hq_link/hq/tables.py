"""HQ's tables. Every table that grows with sales is keyed by store id first,
so a chain that outgrows one PostgreSQL server can distribute them by store id
(Citus) without a redesign (ARCHITECTURE §11).

The schema is created at start-up (`create_all`), and `upgrade` brings an
older HQ database to it (one step so far; Alembic once there are more).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()
# The change log keeps each payload as the store sent it: PostgreSQL's `json`
# checks the text and stores it; `jsonb` would also take every payload apart
# into its binary tree, about 60 us of the database's CPU per row of a
# catch-up (measured), for queries that never look inside it.
_JSON = JSON()
_TIME = DateTime(timezone=True)

# Per store: the highest seq up to which HQ has every change row.
store_cursors = Table(
    "hq_store_cursors",
    metadata,
    Column("store_id", String(16), primary_key=True),
    Column("acked_seq", BigInteger, nullable=False),
    Column("rows_applied", BigInteger, nullable=False),
    Column("rows_quarantined", BigInteger, nullable=False),
    Column("last_applied_at", _TIME, nullable=True),
)

# Every change row of every store, as the store wrote it (the replicated log).
changes = Table(
    "hq_changes",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("txn", BigInteger, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("key", String(120), nullable=False),
    Column("payload", _JSON, nullable=False),
    Column("at", _TIME, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("received_at", _TIME, nullable=False),
    PrimaryKeyConstraint("store_id", "seq"),
)

# Sales and returns as HQ reports on them (projected from "sale"/"return" rows).
sales = Table(
    "hq_sales",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("doc_id", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # "sale" or "return"
    Column("receipt_no", String(40), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("at", _TIME, nullable=False),
    PrimaryKeyConstraint("store_id", "doc_id"),
)

# Rows HQ could not apply, with the reason: reported, never retried in a loop.
quarantine = Table(
    "hq_quarantine",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("key", String(120), nullable=False),
    Column("payload_text", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("quarantined_at", _TIME, nullable=False),
    PrimaryKeyConstraint("store_id", "seq"),
)


def upgrade(engine: Engine) -> None:
    """Bring an HQ database made by an older HQ to this schema (after create_all)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        kind = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns"
                " WHERE table_name = 'hq_changes' AND column_name = 'payload'"
                " AND table_schema = current_schema()"
            )
        ).scalar()
        if kind == "jsonb":
            conn.execute(
                text("ALTER TABLE hq_changes ALTER COLUMN payload TYPE json USING payload::json")
            )
