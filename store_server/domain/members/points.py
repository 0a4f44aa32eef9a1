"""Points (积分): earning, redeeming as a tender, lots that expire, reversal on returns.

Points are earned on what the member actually paid (after discounts; never
on gift lines, stored-value top-ups or the part paid with points), times the
tier's multiplier and the category's (多级积分). Each sale's points are one
lot that expires at the end of the year after the one it was earned in;
spending takes the lots that expire first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from store_server.domain.errors import FailedPrecondition, InvalidArgument

_BP = 10_000


@dataclass(frozen=True, slots=True)
class PointsRules:
    points_per_yuan: int = 1  # earned per yuan paid, before multipliers
    redeem_points_per_yuan: int = 100  # 100 points pay 1 yuan
    category_multiplier_bp: Mapping[str, int] = field(default_factory=dict)  # "FRESH": 20000
    expiry_years: int = 1  # lots expire at the end of the year this many years later


@dataclass(frozen=True, slots=True)
class EarnLine:
    category: str
    paid_fen: int  # what the member paid for the line with money that earns points
    gift: bool = False


def earn_points(lines: Sequence[EarnLine], *, tier_multiplier_bp: int, rules: PointsRules) -> int:
    """Points for a sale, rounded down once for the whole sale (never per line)."""
    weighted = sum(
        line.paid_fen * rules.category_multiplier_bp.get(line.category, _BP)
        for line in lines
        if not line.gift and line.paid_fen > 0
    )
    return weighted * tier_multiplier_bp * rules.points_per_yuan // (100 * _BP * _BP)


def points_for_amount(amount_fen: int, rules: PointsRules, *, field: str = "amount") -> int:
    """Points that pay `amount_fen`; the amount must come to whole points."""
    points, rest = divmod(amount_fen * rules.redeem_points_per_yuan, 100)
    if rest:
        raise InvalidArgument(
            field, f"{amount_fen} fen is not a whole number of points", reason="POINTS_FRACTION"
        )
    return points


def lot_expiry(earned_on: date, rules: PointsRules) -> date:
    """The last day a lot can be spent: 31 December, `expiry_years` after earning."""
    return date(earned_on.year + rules.expiry_years, 12, 31)


@dataclass(frozen=True, slots=True)
class Lot:
    lot_id: str
    expires_on: date
    remaining: int


def consume(lots: Sequence[Lot], points: int, *, today: date) -> list[tuple[str, int]]:
    """Take `points` from the unexpired lots, the soonest to expire first."""
    usable = sorted(
        (lot for lot in lots if lot.remaining > 0 and lot.expires_on >= today),
        key=lambda lot: (lot.expires_on, lot.lot_id),
    )
    available = sum(lot.remaining for lot in usable)
    if points > available:
        raise FailedPrecondition(
            f"the member has {available} points, {points} are needed", reason="INSUFFICIENT_POINTS"
        )
    taken: list[tuple[str, int]] = []
    left = points
    for lot in usable:
        if not left:
            break
        take = min(lot.remaining, left)
        taken.append((lot.lot_id, take))
        left -= take
    return taken


def expired(lots: Sequence[Lot], today: date) -> list[tuple[str, int]]:
    """(lot_id, points) of every lot whose last day was before `today` and has points left."""
    return [
        (lot.lot_id, lot.remaining) for lot in lots if lot.remaining > 0 and lot.expires_on < today
    ]


def reverse(balance: int, points: int) -> tuple[int, int]:
    """Take back `points` earned on a returned sale: (taken from the balance, owed).

    If the member already spent them, the rest is owed (the balance goes
    negative by that much) and later earnings pay it off: never dropped.
    """
    taken = min(max(balance, 0), points)
    return taken, points - taken
