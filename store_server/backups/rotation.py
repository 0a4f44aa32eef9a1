"""Which backups to keep: the newest of each recent day, week and month.

Grandfather-father-son: with keep_daily=7, keep_weekly=5, keep_monthly=12 a
store keeps the newest backup of each of the last 7 days that have one, of
the last 5 ISO weeks and of the last 12 months; the newest backup of all is
always kept. Periods are counted in the store's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from store_server.appliance.settings import BackupPolicy


def backups_to_keep(
    stamps: Iterable[datetime], policy: BackupPolicy, zone: ZoneInfo
) -> set[datetime]:
    newest_first = sorted(stamps, reverse=True)
    kept: set[datetime] = set(newest_first[:1])
    periods: list[tuple[int, Callable[[datetime], Hashable]]] = [
        (policy.keep_daily, lambda t: t.date()),
        (policy.keep_weekly, lambda t: t.isocalendar()[:2]),
        (policy.keep_monthly, lambda t: (t.year, t.month)),
    ]
    for count, period_of in periods:
        seen: set[Hashable] = set()
        for stamp in newest_first:
            if len(seen) >= count:
                break
            period = period_of(stamp.astimezone(zone))
            if period not in seen:
                seen.add(period)
                kept.add(stamp)  # the newest of its period, as we go newest first
    return kept
