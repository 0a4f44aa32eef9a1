"""Money and quantity text for the till's screens and its entry box (no floats)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def yuan(fen: int) -> str:
    """12345 -> '123.45'; -50 -> '-0.50'."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


def quantity_text(milli: int, *, weighed: bool, unit: str = "") -> str:
    """Thousandths as the cashier reads them: '3' (cans) or '0.352 kg' (weighed)."""
    if weighed:
        whole, part = divmod(milli, 1000)
        return f"{whole}.{part:03d} {unit or 'kg'}"
    if milli % 1000 == 0:
        return str(milli // 1000)
    return str(Decimal(milli) / 1000)


def _decimal(text: str, places: int) -> int | None:
    text = text.strip()
    if not text or text.startswith(("-", "+")):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def parse_yuan(text: str) -> int | None:
    """'100' -> 10000 fen, '12.5' -> 1250; None for anything else (3 decimals, letters)."""
    return _decimal(text, 2)


def parse_quantity(text: str) -> int | None:
    """'3' -> 3000 thousandths, '0.352' -> 352; None when not a number of <= 3 decimals."""
    return _decimal(text, 3)


def parse_minor(text: str, places: int) -> int | None:
    """An amount in a currency's minor units: ('20.5', 2) -> 2050, ('1000', 0) -> 1000."""
    return _decimal(text, places)
