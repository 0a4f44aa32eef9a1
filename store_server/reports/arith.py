"""Integer arithmetic shared by the reports: shares, averages, tax-exclusive amounts."""

from __future__ import annotations

from collections.abc import Iterable

from store_server.domain.money import div_round_half_up

BP = 10_000  # basis points in a whole: 1234 bp = 12.34 %


def share_bp(part: int, whole: int) -> int | None:
    """part / whole in basis points, rounded half up; None when the whole is zero."""
    if whole == 0:
        return None
    return div_round_half_up(part * BP, whole) if whole > 0 else None


def growth_bp(now: int, before: int) -> int | None:
    """Change from `before` to `now` in basis points (同比); None without a base."""
    if before <= 0:
        return None
    return div_round_half_up((now - before) * BP, before)


def average(total: int, count: int) -> int:
    """total / count rounded half up (0 for no items): an average basket in fen."""
    return div_round_half_up(total, count) if count > 0 else 0


def ex_tax(gross_fen: int, tax_rate_bp: int) -> int:
    """The tax-exclusive part of a tax-inclusive amount (prices include tax)."""
    return div_round_half_up(gross_fen * BP, BP + tax_rate_bp)


def ex_tax_sum(by_rate: Iterable[tuple[int, int]]) -> int:
    """Tax-exclusive total of (tax_rate_bp, gross fen) groups, rounded per rate."""
    return sum(ex_tax(fen, rate) for rate, fen in by_rate)
