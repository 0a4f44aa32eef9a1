"""HQ's member tiers in the store server's configuration.

Tiers reach the store as master data (table hq_member_tiers); once HQ has sent
any, they replace the [[members.tiers]] of the store's configuration (HQ wins
on master data). The server reads them when it starts: a tier change at HQ
takes effect at the store server's next start.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from store_server.config import Config
from store_server.db.database import Database
from store_server.db.masterdata_models import HqMemberTier
from store_server.domain.members.tiers import Tier


def with_hq_tiers(config: Config, db: Database) -> Config:
    """`config` with HQ's tiers, when the store has any from HQ."""
    with db.read() as conn:
        rows = conn.execute(
            select(HqMemberTier.__table__).order_by(HqMemberTier.rank, HqMemberTier.code)
        ).all()
        tiers = tuple(
            Tier(
                code=r.code,
                name=r.name,
                rank=r.rank,
                discount_bp=r.discount_bp,
                points_multiplier_bp=r.points_multiplier_bp,
                min_spend_fen=r.min_spend_fen,
                min_points=r.min_points,
            )
            for r in rows
        )
    if not tiers:
        return config
    return replace(config, members=replace(config.members, tiers=tiers))
