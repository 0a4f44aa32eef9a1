"""HQ link: each change-log row records its payload's schema version and the
unit of work it belongs to, so the agent never ships half of a transaction.

Revision ID: 0006_hq_link
Revises: 0005
Create Date: 2026-11-23 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_hq_link"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "change_log",
        sa.Column("schema_version", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column("change_log", sa.Column("txn", sa.Integer(), server_default="0", nullable=False))
    # Rows written before this revision carry no unit-of-work mark: each one
    # ships as a transaction of its own (nothing pairs them up any more).
    op.execute("UPDATE change_log SET txn = seq")


def downgrade() -> None:
    with op.batch_alter_table("change_log") as batch:
        batch.drop_column("txn")
        batch.drop_column("schema_version")
