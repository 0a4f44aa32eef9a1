"""Master data down from HQ: the HQ revision the store has applied (written in
the same transaction as each applied page) and HQ's member tiers.

Revision ID: 0007_masterdata
Revises: 0006_hq_link
Create Date: 2026-11-23 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_masterdata"
down_revision = "0006_hq_link"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hq_masterdata_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.Column("snapshot_revision", sa.BigInteger(), nullable=False),
        sa.Column("latest_revision", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "hq_member_tiers",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("points_multiplier_bp", sa.Integer(), nullable=False),
        sa.Column("min_spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("min_points", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hq_member_tiers")
    op.drop_table("hq_masterdata_state")
