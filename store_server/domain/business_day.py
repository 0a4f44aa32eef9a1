"""The business day a moment belongs to (ARCHITECTURE §4).

A 24-hour store's night shift belongs to the day it started: with a 04:00
cut-over, a sale at 02:30 local time is counted on the previous date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def business_day(at: datetime, zone: ZoneInfo, cutover_hour: int) -> date:
    local = at.astimezone(zone)
    return (local - timedelta(hours=cutover_hour)).date()


def receipt_number(store_id: str, day: date, seq: int) -> str:
    """S01-20261123-0042: store, business day, the day's gap-free sequence."""
    return f"{store_id}-{day:%Y%m%d}-{seq:04d}"
