from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store_server.domain.errors import InvalidArgument
from store_server.domain.money import (
    check_fen,
    div_round_half_up,
    format_yuan,
    line_amount,
    parse_yuan,
)


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (5, 10, 1),
        (4, 10, 0),
        (15, 10, 2),
        (25, 10, 3),
        (-5, 10, -1),
        (-4, 10, 0),
        (0, 7, 0),
    ],
)
def test_round_half_up(num: int, den: int, expected: int) -> None:
    assert div_round_half_up(num, den) == expected


def test_line_amount_by_hand() -> None:
    assert line_amount(1280, 352) == 451  # 450.56
    assert line_amount(598, 1250) == 748  # 747.5 rounds up, not to even
    assert line_amount(300, 24_000) == 7200


@pytest.mark.parametrize(
    ("text", "fen"),
    [("3.50", 350), ("3.5", 350), ("3", 300), ("0.01", 1), (" 12.80 ", 1280), ("0", 0)],
)
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text, field="price") == fen


@pytest.mark.parametrize(
    "text", ["-1", "1.234", "1,50", "abc", "", "1e3", "１２", "NaN", "100000001.00"]
)
def test_parse_yuan_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_yuan(text, field="retail_price")
    assert info.value.field == "retail_price"


@given(st.integers(min_value=0, max_value=10**10))
def test_format_parse_round_trip(fen: int) -> None:
    assert parse_yuan(format_yuan(fen), field="x") == fen


def test_format_negative() -> None:
    assert format_yuan(-5) == "-0.05"


def test_check_fen() -> None:
    assert check_fen(0, field="f") == 0
    for bad in (-1, 10**10 + 1):
        with pytest.raises(InvalidArgument):
            check_fen(bad, field="f")
    with pytest.raises(InvalidArgument):
        check_fen(0, field="f", allow_zero=False)
