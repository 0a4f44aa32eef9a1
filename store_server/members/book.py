"""What pricing and the till's screen need of a basket's member, kept in memory.

Every scan of a member's basket prices it with the member's tier and card
discount and the coupons applied; reading the member row for each scan is
wasted work, so the figures are cached here and dropped after every
committed write that changes the member. Other stores' changes arrive through
the HQ link agent (another process, 一卡通), which cannot drop them: an entry
is also read again once it is `MAX_AGE_S` old.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from store_server.config import Config
from store_server.db.database import Database
from store_server.domain.members.identity import mask_phone
from store_server.domain.members.tiers import Tier, tier_by_code
from store_server.domain.pricing import MemberContext
from store_server.domain.promotions.model import Promotion
from store_server.members import records
from store_server.members.coupons import parse_definition
from store_server.members.records import MemberRow


@dataclass(frozen=True, slots=True)
class MemberBrief:
    """The member as the till's screen shows them on the basket."""

    member_id: str
    masked_phone: str
    name: str
    tier_name: str
    points: int
    stored_value_fen: int


MAX_AGE_S = 5.0


class MemberBook:
    def __init__(self, db: Database, config: Config) -> None:
        self._db = db
        self._cfg = config
        # member id -> (monotonic time read, context, brief)
        self._members: dict[str, tuple[float, MemberContext, MemberBrief]] = {}
        self._coupons: dict[str, Promotion] = {}  # definitions never change
        self._lock = threading.Lock()

    def forget(self, member_id: str) -> None:
        with self._lock:
            self._members.pop(member_id, None)

    @staticmethod
    def _context(member: MemberRow, tier: Tier) -> MemberContext:
        return MemberContext(
            member_id=member.member_id,
            tier_discount_bp=tier.discount_bp,
            card_discount_bp=member.card_discount_bp,
        )

    def _entry(self, member: MemberRow) -> tuple[MemberContext, MemberBrief]:
        tier = tier_by_code(self._cfg.members.tiers, member.tier)
        brief = MemberBrief(
            member_id=member.member_id,
            masked_phone=mask_phone(member.phone),
            name=member.name,
            tier_name=tier.name,
            points=member.points,
            stored_value_fen=member.stored_value_fen,
        )
        return self._context(member, tier), brief

    def get(self, member_id: str) -> tuple[MemberContext, MemberBrief]:
        now = time.monotonic()
        with self._lock:
            cached = self._members.get(member_id)
        if cached is not None and now - cached[0] < MAX_AGE_S:
            return cached[1], cached[2]
        with self._db.read() as conn:
            found = self._entry(records.require(conn, member_id))
        with self._lock:
            self._members[member_id] = (now, *found)
        return found

    def for_basket(
        self, member_id: str, coupons: tuple[tuple[str, str], ...]
    ) -> tuple[MemberContext, MemberBrief]:
        """The pricing context and the screen's brief of a basket's member, from memory."""
        base, brief = self.get(member_id)
        return self._with_coupons(base, coupons), brief

    def context_of(self, member: MemberRow, coupons: tuple[tuple[str, str], ...]) -> MemberContext:
        """The pricing context of a member row read by the caller (a commit)."""
        # Not _entry: the screen's brief (the masked phone) is not wanted in a commit.
        tier = tier_by_code(self._cfg.members.tiers, member.tier)
        return self._with_coupons(self._context(member, tier), coupons)

    def _with_coupons(
        self, base: MemberContext, coupons: tuple[tuple[str, str], ...]
    ) -> MemberContext:
        if not coupons:
            return base
        return MemberContext(
            member_id=base.member_id,
            tier_discount_bp=base.tier_discount_bp,
            card_discount_bp=base.card_discount_bp,
            coupons=tuple(self._coupon(cid, text) for cid, text in coupons),
        )

    def _coupon(self, coupon_id: str, definition: str) -> Promotion:
        with self._lock:
            promo = self._coupons.get(coupon_id)
        if promo is None:
            promo = parse_definition(definition, coupon_id=coupon_id, zone=self._cfg.timezone)
            with self._lock:
                self._coupons[coupon_id] = promo
        return promo
