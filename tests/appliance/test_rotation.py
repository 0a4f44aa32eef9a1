"""Grandfather-father-son rotation of the nightly backups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from store_server.appliance.settings import BackupPolicy
from store_server.backups.rotation import backups_to_keep

SHANGHAI = ZoneInfo("Asia/Shanghai")


def nightly(days: int) -> list[datetime]:
    # 03:10 in Shanghai every night, newest on 2026-11-23.
    last = datetime(2026, 11, 22, 19, 10, tzinfo=UTC)
    return [last - timedelta(days=n) for n in range(days)]


def test_a_year_of_nightly_backups_keeps_days_weeks_and_months() -> None:
    stamps = nightly(400)
    kept = backups_to_keep(
        stamps, BackupPolicy(keep_daily=7, keep_weekly=5, keep_monthly=12), SHANGHAI
    )
    local = sorted((t.astimezone(SHANGHAI).date() for t in kept), reverse=True)
    # The last 7 nights, every one.
    assert local[:7] == [
        (stamps[0] - timedelta(days=n)).astimezone(SHANGHAI).date() for n in range(7)
    ]
    weeks = {d.isocalendar()[:2] for d in local}
    months = {(d.year, d.month) for d in local}
    assert len(weeks) >= 5
    assert len(months) == 12
    # Each month's kept backup is its newest (its last night).
    assert datetime(2026, 10, 31).date() in local
    assert datetime(2026, 9, 30).date() in local
    assert len(kept) <= 7 + 5 + 12


def test_counts_of_zero_still_keep_the_newest() -> None:
    stamps = nightly(10)
    assert backups_to_keep(stamps, BackupPolicy(0, 0, 0), SHANGHAI) == {stamps[0]}


def test_several_backups_a_day_keep_the_newest_of_the_day() -> None:
    base = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    stamps = [base + timedelta(hours=h) for h in range(5)]
    kept = backups_to_keep(
        stamps, BackupPolicy(keep_daily=1, keep_weekly=0, keep_monthly=0), SHANGHAI
    )
    assert kept == {stamps[-1]}
