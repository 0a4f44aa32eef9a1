"""What an HQ report covers: a set of stores (empty: every store) and a range of business days."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from store_server.domain.errors import InvalidArgument
from store_server.reports.scope import MAX_DAYS, year_earlier


@dataclass(frozen=True, slots=True)
class HqScope:
    stores: tuple[str, ...]  # () = the whole chain
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidArgument("date_to", "the range ends before it starts")
        if (self.last - self.first).days >= MAX_DAYS:
            raise InvalidArgument("date_to", "at most three years in one report")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def day_range(self) -> tuple[str, str]:
        return self.first.isoformat(), self.last.isoformat()

    def last_year(self) -> HqScope:
        return replace(self, first=year_earlier(self.first), last=year_earlier(self.last))

    def label(self) -> str:
        return ",".join(self.stores) if self.stores else "全部门店 all stores"
