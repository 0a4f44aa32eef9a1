"""Money and quantity as printed: integer arithmetic only, never floats."""

from __future__ import annotations


def format_fen(fen: int) -> str:
    """12345 -> '123.45', 5 -> '0.05', -60 -> '-0.60' (fen are 1/100 yuan)."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amounts are integer fen")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def format_milli(milli: int, *, decimals_always: bool = False) -> str:
    """Thousandths of a unit: 2000 -> '2', 1500 -> '1.500', 352 -> '0.352'.

    ``decimals_always`` keeps the three decimals for whole numbers too (1000 -> '1.000'),
    as for a weight, where '1' would look like a count.
    """
    if isinstance(milli, bool) or not isinstance(milli, int):
        raise TypeError("quantities are integer thousandths")
    sign = "-" if milli < 0 else ""
    whole, frac = divmod(abs(milli), 1000)
    if frac == 0 and not decimals_always:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:03d}"


def div_round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator, halves rounded up (四舍五入), for non-negative numerators."""
    if denominator <= 0 or numerator < 0:
        raise ValueError("expects a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)
