"""Stocktake variance while selling, pack splits, variance cost."""

from __future__ import annotations

import pytest

from store_server.domain.errors import InvalidArgument
from store_server.domain.stock.packs import split_moves
from store_server.domain.stock.variance import CountTotal, cost_of, recounts, variances


def test_each_product_is_compared_with_the_books_at_its_count() -> None:
    # Snapshot at seq 10. Product 1 counted at seq 12, product 2 at seq 15.
    moves = [(11, 1, -1000), (13, 1, -2000), (14, 2, -1000), (16, 2, 1000)]
    now = {1: 7000, 2: 5000}  # after all of those movements
    rows = variances(
        [CountTotal(1, 9000, 12), CountTotal(2, 4000, 15)], now, moves, uncounted=[3, 1]
    )
    # 1: books at its count 7 + 2 (sold later) = 9 -> 0; 2: 5 - 1 (returned later) = 4 -> 0
    assert [(v.product_id, v.expected_milli, v.variance_milli) for v in rows] == [
        (1, 9000, 0),
        (2, 4000, 0),
        (3, 0, 0),
    ]


def test_uncounted_products_count_as_zero_when_asked() -> None:
    rows = variances([], {5: 3000}, [], uncounted=[5])
    assert [(v.counted_milli, v.variance_milli) for v in rows] == [(0, -3000)]


def test_recount_list_is_over_the_threshold_either_way() -> None:
    rows = variances(
        [CountTotal(1, 5000, 0), CountTotal(2, 11_001, 0), CountTotal(3, 9000, 0)],
        {1: 10_000, 2: 10_000, 3: 10_000},
        [],
    )
    assert recounts(rows, 1000) == [1, 2]


def test_variance_cost_rounds_half_away_from_zero() -> None:
    assert cost_of(-1500, 211) == -317  # 316.5
    assert cost_of(1500, 211) == 317
    assert cost_of(0, 999) == 0


def test_pack_split_and_assembly() -> None:
    assert split_moves(2000, 24, assemble=False) == (-2000, 48_000)
    assert split_moves(1000, 24, assemble=True) == (1000, -24_000)
    with pytest.raises(InvalidArgument):
        split_moves(1500, 24, assemble=False)
    with pytest.raises(InvalidArgument):
        split_moves(1000, 1, assemble=False)
