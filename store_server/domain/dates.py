"""Dates as requests and command lines give them: YYYY-MM-DD, or empty for none."""

from __future__ import annotations

from datetime import date

from store_server.domain.errors import InvalidArgument


def parse_date(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument(field, "a date as YYYY-MM-DD") from exc
