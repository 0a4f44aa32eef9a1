"""When promotions turn on or off: does a basket priced at one time price the same later?

Pricing depends on the time only through which promotions' schedules are
active (Schedule.active). So a basket priced at t0 prices identically at t1
when no schedule turns on or off in (t0, t1]: no validity window starts or
ends there, and no time of day or day of week a schedule names is passed.
A commit uses this to reuse the pricing of the last scan instead of pricing
the whole basket again (see store_server.checkout).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from store_server.domain.promotions.model import Schedule

MIDNIGHT = time(0)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class ScheduleEdges:
    """The instants and local times of day at which any of some schedules changes."""

    __slots__ = ("_instants", "_local")

    def __init__(self, schedules: Iterable[Schedule]) -> None:
        instants: set[datetime] = set()
        local: dict[str, set[time]] = {}
        for s in schedules:
            if s.valid_from is not None:
                instants.add(s.valid_from)
            if s.valid_to is not None:
                instants.add(s.valid_to)
            if s.days_of_week or s.time_from is not None or s.time_to is not None:
                times = local.setdefault(s.zone, set())
                times.add(MIDNIGHT)  # a day of the week ends at local midnight
                for t in (s.time_from, s.time_to):
                    if t is not None:
                        times.add(t)
        self._instants = sorted(instants)
        self._local = {zone: sorted(times) for zone, times in local.items()}

    def unchanged(self, t0: datetime, t1: datetime) -> bool:
        """True when every schedule is active at t1 exactly when it was at t0.

        Conservative: False whenever it cannot tell cheaply (t1 before t0, a
        local date or UTC offset change in between while some schedule reads
        the local time).
        """
        if t1 < t0:
            return False
        # Schedule.active turns at an edge e for every t with t >= e: so an
        # edge in (t0, t1] is a change, one at t0 or before is not.
        i = bisect_right(self._instants, t0)
        if i < len(self._instants) and self._instants[i] <= t1:
            return False
        for name, times in self._local.items():
            zone = _zone(name)
            a, b = t0.astimezone(zone), t1.astimezone(zone)
            if a.utcoffset() != b.utcoffset() or a.date() != b.date():
                return False
            j = bisect_right(times, a.time())
            if j < len(times) and times[j] <= b.time():
                return False
        return True
