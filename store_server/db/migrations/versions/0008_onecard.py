"""One card across stores: stored-value entries spent while HQ was unreachable
carry the business day of the spend (the offline floor limit counts them per
member and per store and day; HQ reports members they drove below zero).

The pull cursor lives in store_meta ("onecard.pulled_rev"): no table.

Revision ID: 0008_onecard
Revises: 0007_masterdata
Create Date: 2026-11-23 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_onecard"
down_revision = "0007_masterdata"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stored_value_entries", sa.Column("offline_day", sa.String(10), nullable=True))
    # Only flagged spends are indexed (a handful a day, if any).
    op.create_index(
        "ix_sv_entries_offline",
        "stored_value_entries",
        ["offline_day", "member_id"],
        sqlite_where=sa.text("offline_day IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sv_entries_offline", table_name="stored_value_entries")
    with op.batch_alter_table("stored_value_entries") as batch:
        batch.drop_column("offline_day")
