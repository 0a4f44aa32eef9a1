"""HQ's master data: the current state of each thing, and the change history
the stores pull from.

Every row carries the HQ revision of its last change. The revision comes from
one PostgreSQL SEQUENCE (`hq_md_revision_seq`), or, for the SQLite demo, the
one-row `hq_md_revision_counter` bumped in the same transaction. Things are
keyed by what every store shares (SKU, barcode, promo id, operator id), never
by a store's own row ids. Deleting or ending a thing is a revision too.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from hq_link.hq.tables import metadata

_JSON = JSON().with_variant(JSONB(), "postgresql")
_TIME = DateTime(timezone=True)

# PostgreSQL only (create_all skips it on SQLite).
revision_seq = Sequence("hq_md_revision_seq", metadata=metadata)

# The SQLite demo's revision counter: one row, bumped in the writing transaction.
revision_counter = Table(
    "hq_md_revision_counter",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# The change history: what PullChanges pages through. store_id NULL = every store.
changes = Table(
    "hq_md_changes",
    metadata,
    Column("revision", BigInteger, primary_key=True, autoincrement=False),
    Column("entity", String(20), nullable=False),
    Column("key", String(80), nullable=False),
    Column("store_id", String(16), nullable=True),
    Column("payload", _JSON, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("at", _TIME, nullable=False),
)

# Small facts: the history's floor (the oldest revision still kept), ...
meta = Table(
    "hq_md_meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

products = Table(
    "hq_md_products",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("name", String(60), nullable=False),
    Column("pinyin", String(120), nullable=False),
    Column("category", String(60), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("weighed", Boolean, nullable=False),
    Column("plu", String(8), nullable=True, unique=True),
    Column("tax_rate_bp", Integer, nullable=False),
    # HQ's price for every store (a store price overrides it for one store).
    Column("retail_price_fen", BigInteger, nullable=False),
    Column("member_price_fen", BigInteger, nullable=True),
    Column("cost_fen", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("revision", BigInteger, nullable=False, index=True),
)

barcodes = Table(
    "hq_md_barcodes",
    metadata,
    Column("code", String(48), primary_key=True),
    Column("sku", String(32), nullable=False, index=True),
    Column("pack_factor", Integer, nullable=False),
    Column("price_fen", BigInteger, nullable=True),
)

store_prices = Table(
    "hq_md_store_prices",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("sku", String(32), nullable=False),
    Column("retail_price_fen", BigInteger, nullable=False),
    Column("member_price_fen", BigInteger, nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("revision", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "sku"),
)

# A price change effective at a time. store_id NULL: HQ's price for every store.
# `folded_at`: when HQ moved it into the product's (or store price's) row.
price_changes = Table(
    "hq_md_price_changes",
    metadata,
    Column("change_id", String(36), primary_key=True),
    Column("sku", String(32), nullable=False),
    Column("store_id", String(16), nullable=True),
    Column("retail_price_fen", BigInteger, nullable=False),
    Column("member_price_fen", BigInteger, nullable=True),
    Column("effective_at", _TIME, nullable=False),
    Column("folded_at", _TIME, nullable=True),
    Column("revision", BigInteger, nullable=False),
    Index("ix_hq_md_price_changes_due", "folded_at", "effective_at"),
)

# stores: JSON list of store ids ([] = every store), as in the definition.
promotions = Table(
    "hq_md_promotions",
    metadata,
    Column("promo_id", String(36), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("stores", _JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("revision", BigInteger, nullable=False),
)

tiers = Table(
    "hq_md_tiers",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("name", String(20), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("discount_bp", Integer, nullable=False),
    Column("points_multiplier_bp", Integer, nullable=False),
    Column("min_spend_fen", BigInteger, nullable=False),
    Column("min_points", BigInteger, nullable=False),
    Column("revision", BigInteger, nullable=False),
)

# store_id NULL: an operator of every store (an area manager).
operators = Table(
    "hq_md_operators",
    metadata,
    Column("operator_id", String(16), primary_key=True),
    Column("name", String(40), nullable=False),
    Column("role", String(16), nullable=False),
    Column("store_id", String(16), nullable=True),
    Column("pin_hash", String(160), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("revision", BigInteger, nullable=False),
)

currencies = Table(
    "hq_md_currencies",
    metadata,
    Column("code", String(3), primary_key=True),
    Column("name", String(40), nullable=False),
    # As the operator typed it (yuan per unit), so every store computes the same rate.
    Column("rate", String(16), nullable=False),
    Column("minor_units", Integer, nullable=False),
    Column("revision", BigInteger, nullable=False),
)
