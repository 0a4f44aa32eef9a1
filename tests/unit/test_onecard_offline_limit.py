"""The offline floor limit's arithmetic (domain.members.offline_limit), in fen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store_server.domain.errors import FailedPrecondition
from store_server.domain.members.offline_limit import (
    OfflineLimits,
    OfflineSpend,
    check_offline_spend,
    is_foreign,
    is_offline,
)

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
LIMITS = OfflineLimits(
    member_day_fen=20_000,
    store_day_fen=50_000,
    offline_after_seconds=120,
    max_offline_seconds=72 * 3600,
)
AN_HOUR_AGO = NOW - timedelta(hours=1)


def check(amount: int, member: int = 0, store: int = 0, last=AN_HOUR_AGO) -> None:
    check_offline_spend(
        OfflineSpend(amount, member_spent_today_fen=member, store_spent_today_fen=store),
        last_contact=last,
        now=NOW,
        limits=LIMITS,
    )


def reason(**kw) -> str:
    with pytest.raises(FailedPrecondition) as err:
        check(**kw)
    return err.value.reason


def test_only_members_of_other_stores_are_limited() -> None:
    assert is_foreign("S01", "S02")
    assert not is_foreign("S02", "S02")


def test_offline_means_no_contact_for_longer_than_configured() -> None:
    assert not is_offline(NOW - timedelta(seconds=120), NOW, LIMITS)
    assert is_offline(NOW - timedelta(seconds=121), NOW, LIMITS)
    assert is_offline(None, NOW, LIMITS)  # the agent never reached HQ
    # A contact stamped later than the store's clock (clocks apart) is contact.
    assert not is_offline(NOW + timedelta(seconds=5), NOW, LIMITS)


def test_per_member_per_day_up_to_the_fen() -> None:
    check(amount=20_000)
    check(amount=5_000, member=15_000)
    assert reason(amount=5_001, member=15_000) == "OFFLINE_LIMIT"
    assert reason(amount=1, member=20_000) == "OFFLINE_LIMIT"
    with pytest.raises(FailedPrecondition, match="5000 fen left, 5001 fen asked"):
        check(amount=5_001, member=15_000)


def test_the_stores_total_offline_exposure() -> None:
    check(amount=10_000, store=40_000)
    assert reason(amount=10_001, store=40_000) == "OFFLINE_STORE_LIMIT"


def test_no_offline_spending_once_hq_is_gone_too_long() -> None:
    check(amount=100, last=NOW - timedelta(seconds=72 * 3600))
    assert reason(amount=100, last=NOW - timedelta(seconds=72 * 3600 + 1)) == "OFFLINE_TOO_LONG"
    assert reason(amount=100, last=None) == "OFFLINE_TOO_LONG"


@given(st.lists(st.integers(min_value=1, max_value=30_000), max_size=30))
def test_spends_let_through_never_pass_the_limit(amounts: list[int]) -> None:
    spent = 0
    for amount in amounts:
        try:
            check(amount=amount, member=spent, store=spent)
        except FailedPrecondition:
            assert spent + amount > LIMITS.member_day_fen
            continue
        spent += amount
    assert spent <= LIMITS.member_day_fen
