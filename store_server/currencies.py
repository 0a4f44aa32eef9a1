"""Exchange rates for foreign cash (set by HQ; by storectl until the HQ link exists)."""

from __future__ import annotations

import re

from sqlalchemy import insert, select, update

from store_server.db.sales_models import Currency
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import InvalidArgument

_RATE_RE = re.compile(r"^([0-9]{1,6})(?:\.([0-9]{1,6}))?$")


def rate_micro(rate_text: str, minor_units: int) -> int:
    """Yuan per unit of the currency ("7.1234" per USD) -> fen per minor unit x 10^6.

    Exact integer arithmetic: 7.1234 yuan per dollar is 7.1234 fen per cent.
    """
    match = _RATE_RE.match(rate_text.strip())
    if not match or not 0 <= minor_units <= 3:
        raise InvalidArgument("rate", "yuan per unit, like 7.1234")
    whole, frac = match.group(1), (match.group(2) or "").ljust(6, "0")
    yuan_micro = int(whole) * 10**6 + int(frac)  # yuan per unit, in millionths
    value = yuan_micro * 100 // 10**minor_units
    if value <= 0:
        raise InvalidArgument("rate", "must be more than zero")
    return value


def set_currency(
    uow: UnitOfWork, code: str, name: str, rate_text: str, minor_units: int = 2
) -> int:
    code = code.strip().upper()
    if not (len(code) == 3 and code.isascii() and code.isalpha()) or code == "CNY":
        raise InvalidArgument("code", "a three-letter ISO code other than CNY")
    micro = rate_micro(rate_text, minor_units)
    exists = uow.conn.execute(select(Currency.code).where(Currency.code == code)).first()
    values = {"name": name, "rate_micro": micro, "updated_at": uow.now}
    if exists:
        uow.conn.execute(update(Currency).where(Currency.code == code).values(**values))
    else:
        uow.conn.execute(insert(Currency).values(code=code, **values))
    uow.audit("currency.set", code, detail={"rate": rate_text, "minor_units": minor_units})
    uow.change("currency", code, {"code": code, "rate_micro": micro})
    return micro
