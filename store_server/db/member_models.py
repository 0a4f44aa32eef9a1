"""Models of members: people, cards, ledgers of points and stored value, coupons.

Ledger entries are append-only and carry ids unique across the chain
(store id + sequence), so HQ can merge every store's entries without
conflict. The balances on `members` are a cache of the ledgers, updated in
the same transaction as the entry.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store_server.db.models import Base
from store_server.db.types import UtcDateTime


class Member(Base):
    __tablename__ = "members"
    member_id: Mapped[str] = mapped_column(String(13), primary_key=True)  # the member number
    card_no: Mapped[str] = mapped_column(String(32), unique=True)  # the current card
    # The till's id for the registration: a retried registration finds its member.
    registration_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    birthday: Mapped[date | None] = mapped_column(Date)
    tier: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # active, frozen
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    card_discount_bp: Mapped[int] = mapped_column(Integer, default=0)  # 折扣卡
    home_store: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Caches of the ledgers (see module doc).
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # negative: owed
    points_earned_total: Mapped[int] = mapped_column(BigInteger, default=0)
    spend_total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    sv_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    sv_bonus_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    birthday_coupon_year: Mapped[int] = mapped_column(Integer, default=0)


class MemberCard(Base):
    """Every card a member ever had; a lost one stays here, refused."""

    __tablename__ = "member_cards"
    card_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # active, lost, replaced
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MemberPhoto(Base):
    __tablename__ = "member_photos"
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PointsEntry(Base):
    __tablename__ = "points_entries"
    entry_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # S01-P0000000001
    member_id: Mapped[str] = mapped_column(String(13))
    kind: Mapped[str] = mapped_column(String(16))  # earn, redeem, expire, reverse, refund, gift
    points: Mapped[int] = mapped_column(BigInteger)  # signed
    lot_id: Mapped[str | None] = mapped_column(String(40))  # earn and expire entries
    source_kind: Mapped[str] = mapped_column(String(16))  # sale, return, expiry, gift, ...
    source_id: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        Index("ix_points_entries_member", "member_id", "created_at"),
        Index("ix_points_entries_source", "source_id"),
    )


class PointsLot(Base):
    """Points earned together expire together; `remaining` is what is left to spend."""

    __tablename__ = "points_lots"
    lot_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # its earn entry's id
    member_id: Mapped[str] = mapped_column(String(13))
    earned_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    earned: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        Index("ix_points_lots_member", "member_id", "expires_on"),
        Index("ix_points_lots_expiry", "expires_on"),
    )


class StoredValueEntry(Base):
    __tablename__ = "stored_value_entries"
    entry_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # S01-V0000000001
    member_id: Mapped[str] = mapped_column(String(13))
    kind: Mapped[str] = mapped_column(String(16))  # topup, spend, refund, cash_out
    paid_fen: Mapped[int] = mapped_column(BigInteger)  # signed
    bonus_fen: Mapped[int] = mapped_column(BigInteger)  # signed
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The business day of a spend let through while HQ was unreachable (the
    # offline floor limit, 0008_onecard); None for every other entry.
    offline_day: Mapped[str | None] = mapped_column(String(10))
    __table_args__ = (
        Index("ix_sv_entries_member", "member_id", "created_at"),
        Index("ix_sv_entries_source", "source_id"),
        Index(
            "ix_sv_entries_offline",
            "offline_day",
            "member_id",
            sqlite_where=text("offline_day IS NOT NULL"),
        ),
    )


class MemberDeposit(Base):
    """Money taken at the till for a member product: a top-up or a count card.

    Kept apart from sales (a top-up earns no points and is not turnover) but
    in the shift's cash like a sale.
    """

    __tablename__ = "member_deposits"
    deposit_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # client-generated
    member_id: Mapped[str] = mapped_column(String(13), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # topup, count_card, sv_refund
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # money in (negative: paid out)
    bonus_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    tender: Mapped[str] = mapped_column(String(16))  # cash, bank_card, mobile
    reference: Mapped[str] = mapped_column(String(64))
    shift_id: Mapped[str | None] = mapped_column(String(36), index=True)
    business_day: Mapped[str] = mapped_column(String(10))
    operator_id: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CountCardRow(Base):
    __tablename__ = "count_cards"
    card_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(13), index=True)
    product_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(40))
    total_uses: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CountCardUse(Base):
    """Uses taken by a sale (negative) or given back by a return (positive)."""

    __tablename__ = "count_card_uses"
    source_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    card_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberCoupon(Base):
    __tablename__ = "member_coupons"
    coupon_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(13), index=True)
    campaign: Mapped[str] = mapped_column(String(40))  # birthday-2026, a campaign name
    definition: Mapped[str] = mapped_column(Text)  # a coupon promotion, codec JSON
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # issued, redeemed
    sale_id: Mapped[str | None] = mapped_column(String(36))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BasketCoupon(Base):
    __tablename__ = "basket_coupons"
    basket_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    coupon_id: Mapped[str] = mapped_column(String(40), primary_key=True)


class PointsGift(Base):
    """The gift catalog (积分兑换): a product and its price in points."""

    __tablename__ = "points_gifts"
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)


class SaleMember(Base):
    """What a sale did to its member, for returns to reverse in proportion."""

    __tablename__ = "sale_members"
    sale_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(13), index=True)
    points_earned: Mapped[int] = mapped_column(BigInteger)
    points_redeemed: Mapped[int] = mapped_column(BigInteger)
    sv_paid_fen: Mapped[int] = mapped_column(BigInteger)
    sv_bonus_fen: Mapped[int] = mapped_column(BigInteger)
    coupons: Mapped[str] = mapped_column(Text)  # JSON list of coupon ids
    detail: Mapped[str] = mapped_column(Text)  # JSON, e.g. count card uses
