"""Promotions as rows: the definition is the codec's JSON (domain.promotions.codec)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store_server.db.models import Base
from store_server.db.types import UtcDateTime


class PromotionRow(Base):
    __tablename__ = "promotions"
    promo_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    definition: Mapped[str] = mapped_column(Text)
    group_name: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer)
    members_only: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))  # active, ended
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(16))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
