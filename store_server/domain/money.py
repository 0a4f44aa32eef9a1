"""Money arithmetic in integer fen and quantities in integer thousandths.

No floats: yuan text is parsed digit by digit, and every division rounds half
up explicitly, so a price computed on the till, the server and HQ is the same.
"""

from __future__ import annotations

import re

from store_server.domain.errors import InvalidArgument

FEN_PER_YUAN = 100
MILLI = 1000
# The largest amount any one field may hold: 100 million yuan. Far below 2**63,
# so sums of many lines can never overflow a signed 64-bit column.
MAX_FEN = 10_000_000_000

_YUAN_RE = re.compile(r"^([0-9]{1,9})(?:\.([0-9]{1,2}))?$")  # ASCII digits only


def div_round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (四舍五入)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


def line_amount(unit_price_fen: int, quantity_milli: int) -> int:
    """Price of `quantity_milli` thousandths at `unit_price_fen` per unit, rounded half up."""
    return div_round_half_up(unit_price_fen * quantity_milli, MILLI)


def parse_yuan(text: str, *, field: str) -> int:
    """Parse "3.50" (yuan, at most two decimals, not negative) into fen."""
    match = _YUAN_RE.match(text.strip())
    if not match:
        raise InvalidArgument(field, f"{text!r} is not an amount in yuan like 3.50")
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    fen = int(whole) * FEN_PER_YUAN + int(cents)
    if fen > MAX_FEN:
        raise InvalidArgument(field, f"{text} is more than the largest amount allowed")
    return fen


def format_yuan(fen: int) -> str:
    """12345 -> "123.45"; -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def check_fen(value: int, *, field: str, allow_zero: bool = True) -> int:
    """Reject negative or absurd amounts from a request."""
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidArgument(field, "must be a positive amount in fen")
    if value > MAX_FEN:
        raise InvalidArgument(field, "is more than the largest amount allowed")
    return value
