"""Pack split and assembly (拆零/组装): one case becomes N units, or N units a case."""

from __future__ import annotations

from store_server.domain.errors import InvalidArgument


def split_moves(cases_milli: int, units_per_case: int, *, assemble: bool) -> tuple[int, int]:
    """(case product delta, unit product delta) in thousandths, for whole cases only."""
    if cases_milli <= 0 or cases_milli % 1000:
        raise InvalidArgument("cases_milli", "a whole, positive number of cases (1000 = one)")
    if units_per_case < 2:
        raise InvalidArgument("units_per_case", "a case holds at least 2 units")
    units = cases_milli * units_per_case
    return (cases_milli, -units) if assemble else (-cases_milli, units)
