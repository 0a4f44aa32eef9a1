"""HQ's one-card tables, on the shared metadata (created with HQ's schema).

Ledger entries grow with sales: keyed by the store that made them first
(ARCHITECTURE §11, Citus). Their ids are the store id and a per-store
sequence (S01-V0000000042), unique across the chain, so a store's entries
never collide with another's and a re-sent entry is simply there already.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from hq_link.hq.tables import metadata

_TIME = DateTime(timezone=True)

# The chain's members as the stores that registered them said (the latest
# card, tier and status). Balances are not kept here: they are sums of entries.
members = Table(
    "hq_members",
    metadata,
    Column("member_id", String(13), primary_key=True),
    Column("home_store", String(16), nullable=False),
    Column("card_no", String(32), nullable=False),
    Column("phone", String(16), nullable=False),
    Column("name", String(40), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("registered_at", _TIME, nullable=False),
    Column("updated_at", _TIME, nullable=False),
)

# Every points ("P") and stored-value ("V") ledger entry of every store.
entries = Table(
    "hq_member_entries",
    metadata,
    Column("store_id", String(16), nullable=False),  # the store that made it
    Column("entry_id", String(40), nullable=False),
    Column("ledger", String(1), nullable=False),  # P: points, V: stored value
    Column("member_id", String(13), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("points", BigInteger, nullable=False),  # signed; 0 on V entries
    Column("paid_fen", BigInteger, nullable=False),  # signed; 0 on P entries
    Column("bonus_fen", BigInteger, nullable=False),
    Column("source_kind", String(16), nullable=False),
    Column("source_id", String(64), nullable=False),
    # The store's business day when it was spent while HQ was unreachable
    # (under the offline floor limit); NULL otherwise.
    Column("offline_day", String(10), nullable=True),
    Column("created_at", _TIME, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the store's change-log seq
    PrimaryKeyConstraint("store_id", "entry_id"),
    Index("ix_hq_member_entries_member", "member_id", "ledger"),
)

# The stores' member change rows in HQ's commit order: what the stores pull.
# The rows themselves stay in hq_changes (store_id, seq).
feed = Table(
    "hq_onecard_feed",
    metadata,
    Column("rev", BigInteger, primary_key=True, autoincrement=False),
    Column("store_id", String(16), nullable=False),
    Column("seq", BigInteger, nullable=False),
)

# One row (id 1): the last revision handed out. Taking revisions by updating
# this row holds its lock until the batch commits, so revisions become
# visible in order and a store's cursor never skips one still being written.
counter = Table(
    "hq_onecard_counter",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("rev", BigInteger, nullable=False),
)
