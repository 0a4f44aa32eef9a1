"""Splitting an amount over parts so the parts always sum to the whole.

Used for the sale's rounding over its lines and for refunds over the
original tenders. Cumulative use (allocate what has been returned so far,
minus what was allocated before) keeps a series of partial refunds summing
exactly to a full one.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import sub

from store_server.domain.money import div_round_half_up


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights`; the largest weight takes the remainder."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        parts = [0] * len(weights)
        parts[0] = total
        return parts
    parts = [div_round_half_up(total * w, weight_sum) for w in weights]
    largest = max(range(len(weights)), key=lambda i: (weights[i], -i))
    parts[largest] += total - sum(parts)
    return parts


def share(amount: int, part: int, whole: int) -> int:
    """`amount` x part / whole, rounded half up (part of a line returned)."""
    if whole <= 0:
        return 0
    return div_round_half_up(amount * part, whole)


def allocate_capped(total: int, caps: Sequence[int]) -> list[int]:
    """Split `total` (0 <= total <= sum(caps)) in proportion to `caps`, no part above its cap.

    A discount spread over lines must never take a line below zero: rounding
    that would push one part over its cap moves the excess to parts with room.
    """
    if total < 0 or total > sum(caps):
        raise ValueError("total must be between 0 and the sum of the caps")
    return fit_caps(allocate(total, caps), caps)


def fit_caps(parts: list[int], caps: Sequence[int]) -> list[int]:
    """Clip each part to its cap and give what was clipped to the first parts with room."""
    if not parts or max(map(sub, parts, caps)) <= 0:
        return parts  # nothing over its cap, the common case: checked in C
    excess = 0
    for i, cap in enumerate(caps):
        if parts[i] > cap:
            excess += parts[i] - cap
            parts[i] = cap
    for i, cap in enumerate(caps):
        if not excess:
            break
        room = min(cap - parts[i], excess)
        parts[i] += room
        excess -= room
    return parts
