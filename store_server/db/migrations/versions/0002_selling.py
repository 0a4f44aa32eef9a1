"""Selling: shifts, cash movements, business days, baskets, sales, returns, stock, currencies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:22:15.090289
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "baskets",
        sa.Column("basket_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("totalled", sa.Boolean(), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=True),
        sa.Column("sale_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("held_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("basket_id"),
    )
    with op.batch_alter_table("baskets", schema=None) as batch_op:
        batch_op.create_index("ix_baskets_device_status", ["device_id", "status"], unique=False)

    op.create_table(
        "business_days",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=16), nullable=True),
        sa.Column("reopened_at", sa.DateTime(), nullable=True),
        sa.Column("reopened_by", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("rate_micro", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "shifts",
        sa.Column("shift_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("float_fen", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("counted_cash_fen", sa.BigInteger(), nullable=True),
        sa.Column("z_report", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("shift_id"),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index("ix_shifts_device_open", ["device_id", "closed_at"], unique=False)

    op.create_table(
        "cash_movements",
        sa.Column("movement_id", sa.String(length=36), nullable=False),
        sa.Column("shift_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.shift_id"],
        ),
        sa.PrimaryKeyConstraint("movement_id"),
    )
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cash_movements_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "sales",
        sa.Column("sale_id", sa.String(length=36), nullable=False),
        sa.Column("receipt_no", sa.String(length=32), nullable=False),
        sa.Column("store_id", sa.String(length=16), nullable=False),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("shift_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("basket_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=True),
        sa.Column("subtotal_fen", sa.BigInteger(), nullable=False),
        sa.Column("discount_fen", sa.BigInteger(), nullable=False),
        sa.Column("rounding_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("change_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.shift_id"],
        ),
        sa.PrimaryKeyConstraint("sale_id"),
        sa.UniqueConstraint("receipt_no"),
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_business_day"), ["business_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "basket_lines",
        sa.Column("line_id", sa.String(length=36), nullable=False),
        sa.Column("basket_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("pack_factor", sa.Integer(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("member_unit_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("fixed_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("override_unit_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("override_by", sa.String(length=16), nullable=True),
        sa.Column("gift", sa.Boolean(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["basket_id"],
            ["baskets.basket_id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.PrimaryKeyConstraint("line_id"),
    )
    with op.batch_alter_table("basket_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_basket_lines_basket_id"), ["basket_id"], unique=False)

    op.create_table(
        "returns",
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("receipt_no", sa.String(length=32), nullable=False),
        sa.Column("original_sale_id", sa.String(length=36), nullable=True),
        sa.Column("business_day", sa.String(length=10), nullable=False),
        sa.Column("shift_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["original_sale_id"],
            ["sales.sale_id"],
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.shift_id"],
        ),
        sa.PrimaryKeyConstraint("return_id"),
        sa.UniqueConstraint("receipt_no"),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_business_day"), ["business_day"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_returns_original_sale_id"), ["original_sale_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_returns_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "sale_lines",
        sa.Column("sale_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("pack_factor", sa.Integer(), nullable=False),
        sa.Column("base_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("net_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("gift", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["sales.sale_id"],
        ),
        sa.PrimaryKeyConstraint("sale_id", "line_no"),
    )
    op.create_table(
        "sale_payments",
        sa.Column("sale_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tendered_fen", sa.BigInteger(), nullable=False),
        sa.Column("applied_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("foreign_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate_micro", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["sales.sale_id"],
        ),
        sa.PrimaryKeyConstraint("sale_id", "seq"),
    )
    op.create_table(
        "stock_levels",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("on_hand_milli", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.PrimaryKeyConstraint("product_id"),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stock_movements_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stock_movements_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "return_lines",
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("original_line_no", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("pack_factor", sa.Integer(), nullable=False),
        sa.Column("refund_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.return_id"],
        ),
        sa.PrimaryKeyConstraint("return_id", "line_no"),
    )
    op.create_table(
        "return_payments",
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.return_id"],
        ),
        sa.PrimaryKeyConstraint("return_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("return_payments")
    op.drop_table("return_lines")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_movements_source_id"))
        batch_op.drop_index(batch_op.f("ix_stock_movements_product_id"))

    op.drop_table("stock_movements")
    op.drop_table("stock_levels")
    op.drop_table("sale_payments")
    op.drop_table("sale_lines")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_shift_id"))
        batch_op.drop_index(batch_op.f("ix_returns_original_sale_id"))
        batch_op.drop_index(batch_op.f("ix_returns_business_day"))

    op.drop_table("returns")
    with op.batch_alter_table("basket_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_basket_lines_basket_id"))

    op.drop_table("basket_lines")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_shift_id"))
        batch_op.drop_index(batch_op.f("ix_sales_business_day"))

    op.drop_table("sales")
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_movements_shift_id"))

    op.drop_table("cash_movements")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index("ix_shifts_device_open")

    op.drop_table("shifts")
    op.drop_table("currencies")
    op.drop_table("business_days")
    with op.batch_alter_table("baskets", schema=None) as batch_op:
        batch_op.drop_index("ix_baskets_device_status")

    op.drop_table("baskets")
