"""What a report covers: one store, a range of business days, or one shift."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from store_server.domain.errors import InvalidArgument

MAX_DAYS = 3 * 366 + 1  # a range of at most three years


@dataclass(frozen=True, slots=True)
class ReportScope:
    """Business days `first`..`last` (inclusive) of `store_id`; `shift_id` narrows to one shift.

    `zone` and `cutover_hour` turn business days into UTC instants for tables
    that have only a timestamp (members' registrations, ledger entries).
    """

    store_id: str
    first: date
    last: date
    zone: ZoneInfo
    cutover_hour: int = 4
    shift_id: str | None = None

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidArgument("date_to", "the range ends before it starts")
        if (self.last - self.first).days >= MAX_DAYS:
            raise InvalidArgument("date_to", "at most three years in one report")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start_utc(self) -> datetime:
        """The first instant of the first business day, UTC."""
        return _day_start(self.first, self.zone, self.cutover_hour)

    @property
    def end_utc(self) -> datetime:
        """The first instant after the last business day, UTC."""
        return _day_start(self.last + timedelta(days=1), self.zone, self.cutover_hour)

    def last_year(self) -> ReportScope:
        """The same dates one year earlier (同期); 29 February becomes the 28th."""
        return replace(self, first=year_earlier(self.first), last=year_earlier(self.last))


def year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _day_start(day: date, zone: ZoneInfo, cutover_hour: int) -> datetime:
    return datetime.combine(day, time(cutover_hour), tzinfo=zone).astimezone(UTC)
