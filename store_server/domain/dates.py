"""Dates as requests and command lines give them: YYYY-MM-DD, or empty for none."""

from __future__ import annotations

import calendar
from datetime import date

from store_server.domain.errors import InvalidArgument


def parse_date(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument(field, "a date as YYYY-MM-DD") from exc


def parse_month(text: str | None, field: str) -> tuple[date, date] | None:
    """A whole month `YYYY-MM` as its first and last day."""
    if not text:
        return None
    try:
        year, month = (int(x) for x in text.split("-"))
        first = date(year, month, 1)
    except ValueError as exc:
        raise InvalidArgument(field, "a month as YYYY-MM") from exc
    return first, first.replace(day=calendar.monthrange(year, month)[1])
