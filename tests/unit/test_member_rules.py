"""The pure member rules: numbers, phones, QR codes, tiers, points and stored value."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from store_server.domain.errors import FailedPrecondition, InvalidArgument
from store_server.domain.members.identity import (
    check_birthday,
    check_member_number,
    check_phone,
    check_photo,
    mask_phone,
    member_number,
    store_code,
)
from store_server.domain.members.points import (
    EarnLine,
    Lot,
    PointsRules,
    consume,
    earn_points,
    expired,
    lot_expiry,
    points_for_amount,
    reverse,
)
from store_server.domain.members.qr import sign_qr, verify_qr
from store_server.domain.members.stored_value import (
    DEFAULT_BONUS_RULES,
    bonus_for,
    check_topup,
    split_spend,
)
from store_server.domain.members.tiers import DEFAULT_TIERS, tier_after

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_member_numbers_carry_a_luhn_check_digit() -> None:
    number = member_number(store_code("S01"), 42)
    assert number[:12] == "800010000042" and len(number) == 13
    assert check_member_number(number) == number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(InvalidArgument):
        check_member_number(wrong)
    # Two stores never make the same number.
    assert member_number(store_code("S02"), 42) != number


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000")],
)
def test_phones_are_normalised(raw: str, clean: str) -> None:
    assert check_phone(raw) == clean


@pytest.mark.parametrize("raw", ["1380013800a", "23800138000", "1380013800", "12800138000", ""])
def test_bad_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        check_phone(raw)
    assert info.value.field == "phone"


def test_phones_are_masked() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_birthdays_and_photos() -> None:
    today = date(2026, 11, 23)
    assert check_birthday(date(1990, 1, 1), today=today) == date(1990, 1, 1)
    for bad in (date(2026, 11, 24), date(1899, 12, 31)):
        with pytest.raises(InvalidArgument):
            check_birthday(bad, today=today)
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, "JPEG")
    assert check_photo(jpeg.getvalue(), max_bytes=10_000) == "image/jpeg"
    with pytest.raises(InvalidArgument):
        check_photo(jpeg.getvalue(), max_bytes=10)
    with pytest.raises(InvalidArgument):
        check_photo(b"\xff\xd8\xff" + b"junk" * 10, max_bytes=10_000)


def test_qr_codes_expire_and_cannot_be_forged() -> None:
    secret = b"s3cret"
    payload = sign_qr(secret, "8000100000428", now=NOW, ttl=timedelta(seconds=60))
    # Upper case, digits and dots only: the QR code's compact alphanumeric mode.
    assert payload == payload.upper() and payload.replace(".", "").isalnum()
    assert verify_qr(secret, payload, now=NOW + timedelta(seconds=59)) == "8000100000428"
    with pytest.raises(FailedPrecondition):
        verify_qr(secret, payload, now=NOW + timedelta(seconds=60))
    with pytest.raises(InvalidArgument):
        verify_qr(b"other", payload, now=NOW)
    longer = payload.replace(payload.split(".")[2], str(int(payload.split(".")[2]) + 3600))
    with pytest.raises(InvalidArgument):
        verify_qr(secret, longer, now=NOW)


def test_tiers_go_up_by_spend_and_never_down() -> None:
    assert (
        tier_after(DEFAULT_TIERS, "normal", cumulative_spend_fen=99_999, cumulative_points=0).code
        == "normal"
    )
    assert (
        tier_after(DEFAULT_TIERS, "normal", cumulative_spend_fen=100_000, cumulative_points=0).code
        == "silver"
    )
    assert (
        tier_after(DEFAULT_TIERS, "normal", cumulative_spend_fen=600_000, cumulative_points=0).code
        == "gold"
    )
    assert (
        tier_after(DEFAULT_TIERS, "gold", cumulative_spend_fen=0, cumulative_points=0).code
        == "gold"
    )


def test_points_are_earned_on_money_paid_with_tier_and_category_multipliers() -> None:
    rules = PointsRules(category_multiplier_bp={"生鲜": 20_000})
    lines = [EarnLine("饮料", 1_050), EarnLine("生鲜", 1_000), EarnLine("饮料", 5_000, gift=True)]
    # 10.50 x1 + 10.00 x2 = 30.5 -> 30 at 1x; x1.5 for a gold member: 45.75 -> 45.
    assert earn_points(lines, tier_multiplier_bp=10_000, rules=rules) == 30
    assert earn_points(lines, tier_multiplier_bp=15_000, rules=rules) == 45


def test_points_as_a_tender_come_in_whole_points() -> None:
    assert points_for_amount(500, PointsRules()) == 500
    assert points_for_amount(500, PointsRules(redeem_points_per_yuan=50)) == 250
    with pytest.raises(InvalidArgument):
        points_for_amount(1, PointsRules(redeem_points_per_yuan=50))


def test_lots_expire_at_the_end_of_the_next_year_and_the_soonest_is_spent_first() -> None:
    rules = PointsRules()
    assert lot_expiry(date(2025, 1, 1), rules) == date(2026, 12, 31)
    assert lot_expiry(date(2025, 12, 31), rules) == date(2026, 12, 31)
    lots = [Lot("b", date(2027, 12, 31), 100), Lot("a", date(2026, 12, 31), 30)]
    assert consume(lots, 50, today=date(2026, 6, 1)) == [("a", 30), ("b", 20)]
    assert consume(lots, 50, today=date(2027, 1, 1)) == [("b", 50)]  # lot a is over
    with pytest.raises(FailedPrecondition):
        consume(lots, 131, today=date(2026, 6, 1))
    assert expired(lots, date(2026, 12, 31)) == []
    assert expired(lots, date(2027, 1, 1)) == [("a", 30)]


def test_reversing_points_already_spent_leaves_them_owed() -> None:
    assert reverse(100, 30) == (30, 0)
    assert reverse(10, 30) == (10, 20)
    assert reverse(-5, 30) == (0, 30)


def test_top_up_bonus_and_limits() -> None:
    assert [bonus_for(a, DEFAULT_BONUS_RULES) for a in (9_999, 10_000, 49_999, 50_000)] == [
        0,
        1_000,
        1_000,
        8_000,
    ]
    for bad in (0, -1, 500_001):
        with pytest.raises(InvalidArgument):
            check_topup(bad, max_fen=500_000)


@given(
    paid=st.integers(0, 10**7),
    bonus=st.integers(0, 10**6),
    data=st.data(),
)
def test_spending_stored_value_never_goes_below_zero_in_either_bucket(paid, bonus, data) -> None:
    amount = data.draw(st.integers(0, paid + bonus))
    from_paid, from_bonus = split_spend(paid, bonus, amount)
    assert from_paid + from_bonus == amount
    assert 0 <= from_paid <= paid and 0 <= from_bonus <= bonus
    with pytest.raises(FailedPrecondition):
        split_spend(paid, bonus, paid + bonus + 1)
