"""Pure sales reports over fact rows: periods with 同期对比, hours, cashiers, categories, tenders.

Every function takes the rows of one or many stores (each row names its store)
and sums them; `per_store=True` keeps the stores apart (HQ's consolidated view
is the default sum). Money is fen, quantities thousandths.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from store_server.reports.arith import average, ex_tax, ex_tax_sum, growth_bp, share_bp
from store_server.reports.facts import CashierFact, CategoryFact, DayFact, HourFact, TenderFact

ALL_STORES = "*"


class Period(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def period_key(day: date, period: Period) -> str:
    """2026-11-23, 2026-W48 (ISO week) or 2026-11."""
    if period is Period.DAY:
        return day.isoformat()
    if period is Period.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def _next_year_key(day: date, period: Period) -> str:
    """The key a last-year day is compared under: the same date, ISO week or month a year on."""
    if period is Period.DAY:
        try:
            return day.replace(year=day.year + 1).isoformat()
        except ValueError:  # 29 February: compared with the 28th
            return day.replace(year=day.year + 1, day=28).isoformat()
    if period is Period.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year + 1}-W{week:02d}"
    return f"{day.year + 1}-{day.month:02d}"


def _store(store_id: str, per_store: bool) -> str:
    return store_id if per_store else ALL_STORES


@dataclass(frozen=True, slots=True)
class PeriodRow:
    store_id: str
    period: str
    receipts: int
    sales_fen: int
    discount_fen: int
    ex_tax_fen: int
    refund_fen: int
    net_fen: int  # sales less refunds
    avg_basket_fen: int
    last_year_receipts: int
    last_year_sales_fen: int
    growth_bp: int | None  # sales against last year's, None without last year's sales


def sales_by_period(
    current: Sequence[DayFact],
    last_year: Sequence[DayFact],
    period: Period,
    *,
    per_store: bool = False,
) -> list[PeriodRow]:
    """Sales per day, ISO week or month with the same period a year before (同期对比)."""
    acc: dict[tuple[str, str], list[int]] = {}
    for f in current:
        key = (_store(f.store_id, per_store), period_key(date.fromisoformat(f.day), period))
        a = acc.setdefault(key, [0] * 8)
        a[0] += f.receipts
        a[1] += f.sales_fen
        a[2] += f.discount_fen
        a[3] += ex_tax_sum(f.paid_by_rate)
        a[4] += f.refund_fen
    for f in last_year:
        key = (_store(f.store_id, per_store), _next_year_key(date.fromisoformat(f.day), period))
        if key in acc:  # only periods the report covers
            acc[key][5] += f.receipts
            acc[key][6] += f.sales_fen
    return [
        PeriodRow(
            store,
            key,
            a[0],
            a[1],
            a[2],
            a[3],
            a[4],
            a[1] - a[4],
            average(a[1], a[0]),
            a[5],
            a[6],
            growth_bp(a[1], a[6]),
        )
        for (store, key), a in sorted(acc.items())
    ]


def period_total(rows: Sequence[PeriodRow]) -> PeriodRow:
    """The 合计 row of a period report."""
    receipts = sum(r.receipts for r in rows)
    sales = sum(r.sales_fen for r in rows)
    ly = sum(r.last_year_sales_fen for r in rows)
    refund = sum(r.refund_fen for r in rows)
    return PeriodRow(
        ALL_STORES,
        "合计",
        receipts,
        sales,
        sum(r.discount_fen for r in rows),
        sum(r.ex_tax_fen for r in rows),
        refund,
        sales - refund,
        average(sales, receipts),
        sum(r.last_year_receipts for r in rows),
        ly,
        growth_bp(sales, ly),
    )


@dataclass(frozen=True, slots=True)
class HourRow:
    hour: int  # local hour of day, 0-23
    receipts: int  # 客流: receipts in this hour over the whole range
    sales_fen: int
    avg_basket_fen: int
    share_bp: int | None  # of the range's receipts


def sales_by_hour(facts: Sequence[HourFact], zone: ZoneInfo) -> list[HourRow]:
    """Receipts and average basket per local hour of day, summed over the range."""
    acc: dict[int, list[int]] = {}
    for f in facts:
        at = datetime.strptime(f.utc_hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
        a = acc.setdefault(at.astimezone(zone).hour, [0, 0])
        a[0] += f.receipts
        a[1] += f.sales_fen
    total = sum(a[0] for a in acc.values())
    return [
        HourRow(h, n, fen, average(fen, n), share_bp(n, total))
        for h, (n, fen) in sorted(acc.items())
    ]


# Upper bounds (fen, exclusive) of the basket-size bands; the last band is open.
BASKET_BANDS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000)


@dataclass(frozen=True, slots=True)
class BandRow:
    band: str
    receipts: int
    sales_fen: int
    share_bp: int | None


def basket_bands(totals: Sequence[int], bands: Sequence[int] = BASKET_BANDS) -> list[BandRow]:
    """How many receipts fall in each basket-size band (yuan ranges)."""
    counts = [0] * (len(bands) + 1)
    sums = [0] * (len(bands) + 1)
    for fen in totals:
        i = next((n for n, upper in enumerate(bands) if fen < upper), len(bands))
        counts[i] += 1
        sums[i] += fen
    labels = []
    lower = 0
    for upper in bands:
        labels.append(f"{lower // 100}-{upper // 100} 元")
        lower = upper
    labels.append(f"{lower // 100} 元以上")
    return [
        BandRow(label, n, fen, share_bp(n, len(totals)))
        for label, n, fen in zip(labels, counts, sums, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class CashierRow:
    store_id: str
    operator_id: str
    name: str
    receipts: int
    sales_fen: int
    discount_fen: int
    avg_basket_fen: int
    returns: int
    refund_fen: int
    net_fen: int
    share_bp: int | None  # of all cashiers' sales


def sales_by_cashier(facts: Sequence[CashierFact], *, per_store: bool = False) -> list[CashierRow]:
    """收银员业绩: receipts, sales, average basket and refunds per cashier, best first."""
    acc: dict[tuple[str, str], list] = {}
    for f in facts:
        a = acc.setdefault((_store(f.store_id, per_store), f.operator_id), [f.name, 0, 0, 0, 0, 0])
        a[1] += f.receipts
        a[2] += f.sales_fen
        a[3] += f.discount_fen
        a[4] += f.returns
        a[5] += f.refund_fen
    total = sum(a[2] for a in acc.values())
    rows = [
        CashierRow(
            store,
            op,
            a[0],
            a[1],
            a[2],
            a[3],
            average(a[2], a[1]),
            a[4],
            a[5],
            a[2] - a[5],
            share_bp(a[2], total),
        )
        for (store, op), a in acc.items()
    ]
    return sorted(rows, key=lambda r: (-r.sales_fen, r.store_id, r.operator_id))


@dataclass(frozen=True, slots=True)
class CategoryRow:
    store_id: str
    category: str
    units_milli: int
    sales_fen: int
    ex_tax_fen: int
    cost_fen: int
    margin_fen: int  # sales less cost, both tax incl.
    margin_bp: int | None
    refund_fen: int
    share_bp: int | None  # of all categories' sales


def sales_by_category(
    facts: Sequence[CategoryFact], *, per_store: bool = False
) -> list[CategoryRow]:
    """Sales, tax-exclusive sales, cost and margin per category, biggest first."""
    acc: dict[tuple[str, str], list[int]] = {}
    for f in facts:
        a = acc.setdefault((_store(f.store_id, per_store), f.category), [0] * 5)
        a[0] += f.units_milli
        a[1] += f.sales_fen
        a[2] += ex_tax(f.sales_fen, f.tax_rate_bp)
        a[3] += f.cost_fen
        a[4] += f.refund_fen
    total = sum(a[1] for a in acc.values())
    rows = [
        CategoryRow(
            store,
            cat,
            a[0],
            a[1],
            a[2],
            a[3],
            a[1] - a[3],
            share_bp(a[1] - a[3], a[1]),
            a[4],
            share_bp(a[1], total),
        )
        for (store, cat), a in acc.items()
    ]
    return sorted(rows, key=lambda r: (-r.sales_fen, r.store_id, r.category))


TENDER_NAMES = {
    "cash": "现金",
    "bank_card": "银行卡",
    "mobile": "移动支付",
    "foreign_cash": "外币",
    "gift_voucher": "礼券",
    "stored_value": "储值",
    "points": "积分",
    "count_card": "计次卡",
}


@dataclass(frozen=True, slots=True)
class TenderRow:
    store_id: str
    kind: str
    name: str
    payments: int
    applied_fen: int
    refunds: int
    refunded_fen: int
    net_fen: int
    share_bp: int | None  # of all tenders' applied amounts


def sales_by_tender(facts: Sequence[TenderFact], *, per_store: bool = False) -> list[TenderRow]:
    """What each tender paid (change excluded) and refunded."""
    acc: dict[tuple[str, str], list[int]] = {}
    for f in facts:
        a = acc.setdefault((_store(f.store_id, per_store), f.kind), [0] * 4)
        a[0] += f.payments
        a[1] += f.applied_fen
        a[2] += f.refunds
        a[3] += f.refunded_fen
    total = sum(a[1] for a in acc.values())
    rows = [
        TenderRow(
            store,
            kind,
            TENDER_NAMES.get(kind, kind),
            a[0],
            a[1],
            a[2],
            a[3],
            a[1] - a[3],
            share_bp(a[1], total),
        )
        for (store, kind), a in acc.items()
    ]
    return sorted(rows, key=lambda r: (-r.applied_fen, r.store_id, r.kind))
