"""What the store keeps of HQ's master data beyond the catalog, promotion,
operator and currency tables it shares with storectl: the revision it has
applied, and HQ's member tiers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store_server.db.models import Base
from store_server.db.types import UtcDateTime


class MasterDataState(Base):
    """One row (id 1): the HQ revision whose master data this store has applied,
    written in the same transaction as the data."""

    __tablename__ = "hq_masterdata_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The revision of the last snapshot that replaced everything (0: never).
    snapshot_revision: Mapped[int] = mapped_column(BigInteger)
    # HQ's newest revision when last asked (for the lag).
    latest_revision: Mapped[int] = mapped_column(BigInteger)


class HqMemberTier(Base):
    """A member tier as HQ defines it (discount, points multiplier, thresholds)."""

    __tablename__ = "hq_member_tiers"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)
    discount_bp: Mapped[int] = mapped_column(Integer)
    points_multiplier_bp: Mapped[int] = mapped_column(Integer)
    min_spend_fen: Mapped[int] = mapped_column(BigInteger)
    min_points: Mapped[int] = mapped_column(BigInteger)
    revision: Mapped[int] = mapped_column(BigInteger)
