"""Stored value (储值卡): top-ups with bonus, spending, refunds.

The balance is two buckets: what the member paid and the bonus the store
gave (充100送10). Spending takes from both in proportion, so a refund of the
card returns only money the member paid and still holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from store_server.domain.allocation import allocate
from store_server.domain.errors import FailedPrecondition, InvalidArgument


@dataclass(frozen=True, slots=True)
class BonusRule:
    min_topup_fen: int  # top up at least this much...
    bonus_fen: int  # ...and get this much on top


DEFAULT_BONUS_RULES: tuple[BonusRule, ...] = (
    BonusRule(10_000, 1_000),  # 充100送10
    BonusRule(50_000, 8_000),  # 充500送80
)


def check_topup(amount_fen: int, *, max_fen: int, field: str = "amount") -> int:
    if amount_fen <= 0:
        raise InvalidArgument(field, "a top-up must be more than zero")
    if amount_fen > max_fen:
        raise InvalidArgument(field, f"at most {max_fen // 100} yuan in one top-up")
    return amount_fen


def bonus_for(amount_fen: int, rules: Sequence[BonusRule]) -> int:
    """The bonus of the highest rule the top-up reaches (not repeated per multiple)."""
    reached = [r for r in rules if amount_fen >= r.min_topup_fen]
    return max(reached, key=lambda r: r.min_topup_fen).bonus_fen if reached else 0


def split_spend(paid_fen: int, bonus_fen: int, amount_fen: int) -> tuple[int, int]:
    """(from paid, from bonus) for spending `amount_fen`; never below zero."""
    if amount_fen > paid_fen + bonus_fen:
        raise FailedPrecondition(
            f"stored value balance {paid_fen + bonus_fen} fen, {amount_fen} fen needed",
            reason="INSUFFICIENT_BALANCE",
        )
    from_paid, from_bonus = allocate(amount_fen, [paid_fen, bonus_fen])
    # Rounding can lean one fen past a bucket: move it to the other.
    if from_paid > paid_fen:
        from_bonus += from_paid - paid_fen
        from_paid = paid_fen
    if from_bonus > bonus_fen:
        from_paid += from_bonus - bonus_fen
        from_bonus = bonus_fen
    return from_paid, from_bonus
