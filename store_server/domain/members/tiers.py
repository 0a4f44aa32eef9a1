"""Member tiers (普通/银卡/金卡/钻石): discount, points multiplier, upgrade thresholds.

Upgrades are automatic on the sale that crosses a threshold; tiers never go
down here (a yearly review, if a chain wants one, is a job of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tier:
    code: str
    name: str
    rank: int
    discount_bp: int = 0  # 500 = 5% off
    points_multiplier_bp: int = 10_000  # 10,000 = 1x
    min_spend_fen: int = 0  # cumulative spend that reaches the tier (0: never by spend)
    min_points: int = 0  # cumulative points earned that reach it (0: never by points)


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("normal", "普通", 0),
    Tier("silver", "银卡", 1, discount_bp=200, points_multiplier_bp=12_000, min_spend_fen=100_000),
    Tier("gold", "金卡", 2, discount_bp=500, points_multiplier_bp=15_000, min_spend_fen=500_000),
    Tier(
        "diamond", "钻石", 3, discount_bp=800, points_multiplier_bp=20_000, min_spend_fen=2_000_000
    ),
)


def tier_by_code(tiers: Sequence[Tier], code: str) -> Tier:
    for tier in tiers:
        if tier.code == code:
            return tier
    return min(tiers, key=lambda t: t.rank)


def tier_after(
    tiers: Sequence[Tier], current: str, *, cumulative_spend_fen: int, cumulative_points: int
) -> Tier:
    """The member's tier after their totals changed: the highest reached, never lower."""
    best = tier_by_code(tiers, current)
    for tier in tiers:
        reached = (tier.min_spend_fen and cumulative_spend_fen >= tier.min_spend_fen) or (
            tier.min_points and cumulative_points >= tier.min_points
        )
        if reached and tier.rank > best.rank:
            best = tier
    return best
