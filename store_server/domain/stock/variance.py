"""Stocktake variance while the store keeps selling (不停业盘点).

A count is compared with what the books said at the moment the server took it:
the on-hand at the session's snapshot plus every movement after the snapshot
up to the count's `seen_seq` (the last movement committed when the count
arrived). Computed backwards from the current on-hand, that is

    expected = on_hand_now - sum(movements of the product with seq > seen_seq)

which needs only the movements since the snapshot, never a copy of the whole
stock. A product counted several times (two counters on one shelf) sums its
counts and is compared at its latest count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CountTotal:
    product_id: int
    counted_milli: int
    seen_seq: int  # the latest count's


@dataclass(frozen=True, slots=True)
class Variance:
    product_id: int
    counted_milli: int
    expected_milli: int

    @property
    def variance_milli(self) -> int:
        return self.counted_milli - self.expected_milli


def variances(
    counts: Iterable[CountTotal],
    on_hand_now: Mapping[int, int],
    moves_after_snapshot: Iterable[tuple[int, int, int]],
    *,
    uncounted: Iterable[int] = (),
) -> list[Variance]:
    """One Variance per counted product (and per `uncounted` product, counted as zero).

    `moves_after_snapshot` are (seq, product_id, quantity_milli) with seq above the
    session's snapshot; an uncounted product is compared with its on-hand now.
    """
    totals = {c.product_id: c for c in counts}
    later: dict[int, int] = defaultdict(int)
    for seq, product_id, qty in moves_after_snapshot:
        total = totals.get(product_id)
        if total is not None and seq > total.seen_seq:
            later[product_id] += qty
    result = [
        Variance(pid, c.counted_milli, on_hand_now.get(pid, 0) - later[pid])
        for pid, c in totals.items()
    ]
    result.extend(
        Variance(pid, 0, on_hand_now.get(pid, 0)) for pid in uncounted if pid not in totals
    )
    result.sort(key=lambda v: v.product_id)
    return result


def recounts(rows: Iterable[Variance], threshold_milli: int) -> list[int]:
    """Products whose |variance| exceeds the threshold: count them again."""
    return [v.product_id for v in rows if abs(v.variance_milli) > threshold_milli]


def cost_of(variance_milli: int, unit_cost_fen: int) -> int:
    """Variance value in fen, round half away from zero (per line, as the money rules say)."""
    value = abs(variance_milli) * unit_cost_fen
    fen = (value + 500) // 1000
    return fen if variance_milli >= 0 else -fen
