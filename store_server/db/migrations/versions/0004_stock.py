"""Stock: documents (receiving, transfers, adjustments, pack splits), suppliers, min/max,
purchase orders, stocktake sessions, counts and posted variances.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("supplier_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("supplier_id"),
    )

    op.create_table(
        "stock_documents",
        sa.Column("doc_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("supplier_id", sa.String(length=16), nullable=True),
        sa.Column("other_store_id", sa.String(length=16), nullable=True),
        sa.Column("po_id", sa.String(length=36), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("doc_id"),
    )
    with op.batch_alter_table("stock_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_documents_kind_created", ["kind", "created_at"], unique=False
        )

    op.create_table(
        "stocktake_sessions",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("uncounted_zero", sa.Boolean(), nullable=False),
        sa.Column("recount_threshold_milli", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_seq", sa.BigInteger(), nullable=False),
        sa.Column("opened_by", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("posted_by", sa.String(length=16), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("session_id"),
    )

    op.create_table(
        "purchase_orders",
        sa.Column("po_id", sa.String(length=36), nullable=False),
        sa.Column("supplier_id", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ordered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.supplier_id"],
        ),
        sa.PrimaryKeyConstraint("po_id"),
    )

    op.create_table(
        "purchase_order_lines",
        sa.Column("po_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("received_milli", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["po_id"],
            ["purchase_orders.po_id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.PrimaryKeyConstraint("po_id", "product_id"),
    )

    op.create_table(
        "stock_document_lines",
        sa.Column("doc_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("cost_fen", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["doc_id"],
            ["stock_documents.doc_id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.PrimaryKeyConstraint("doc_id", "line_no"),
    )

    op.create_table(
        "stock_rules",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.String(length=16), nullable=True),
        sa.Column("min_milli", sa.BigInteger(), nullable=False),
        sa.Column("max_milli", sa.BigInteger(), nullable=False),
        sa.Column("pack_milli", sa.BigInteger(), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.supplier_id"],
        ),
        sa.PrimaryKeyConstraint("product_id"),
    )

    op.create_table(
        "stocktake_counts",
        sa.Column("count_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("counter_id", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("seen_seq", sa.BigInteger(), nullable=False),
        sa.Column("replaces", sa.String(length=36), nullable=True),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["stocktake_sessions.session_id"],
        ),
        sa.PrimaryKeyConstraint("count_id"),
    )
    with op.batch_alter_table("stocktake_counts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stocktake_counts_session_product", ["session_id", "product_id"], unique=False
        )

    op.create_table(
        "stocktake_variances",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("counted_milli", sa.BigInteger(), nullable=False),
        sa.Column("expected_milli", sa.BigInteger(), nullable=False),
        sa.Column("variance_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["stocktake_sessions.session_id"],
        ),
        sa.PrimaryKeyConstraint("session_id", "product_id"),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("stocktake_variances")
    with op.batch_alter_table("stocktake_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_stocktake_counts_session_product")

    op.drop_table("stocktake_counts")
    op.drop_table("stock_rules")
    op.drop_table("stock_document_lines")
    op.drop_table("purchase_order_lines")
    op.drop_table("purchase_orders")
    op.drop_table("stocktake_sessions")
    with op.batch_alter_table("stock_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_documents_kind_created")

    op.drop_table("stock_documents")
    op.drop_table("suppliers")
