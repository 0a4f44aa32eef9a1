"""The named HQ reports (hqctl report, HqReportService): HQ facts, the store's pure reports, tables.

Consolidated over the scope's stores (the whole chain by default), with the
store reports' own column specs (store_server.reports.catalog). Categories,
tax rates and costs come from HQ's master data (line_facts); stock from the
snapshot each store's day close sends (stock_facts), so the stock reports are
"as of the store's last day close" and say so in their titles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from hq_link.hq.projectors.ledger import CHAIN_ZONE
from hq_link.hq.reconcile import settlement
from hq_link.hq.reports import facts, line_facts, stock_facts, stock_reports
from hq_link.hq.reports.scope import HqScope
from store_server.config import Config
from store_server.domain.errors import InvalidArgument
from store_server.reports import members, products, sales
from store_server.reports.arith import average, growth_bp, share_bp
from store_server.reports.catalog import (
    BASKET_COLUMNS,
    CASHIER_COLUMNS,
    CATEGORY_COLUMNS,
    HOURLY_COLUMNS,
    MEMBER_COLUMNS,
    PERIOD_TITLES,
    PRODUCT_COLUMNS,
    SUMMARY_COLUMNS,
    TENDER_COLUMNS,
    TIER_COLUMNS,
)
from store_server.reports.table import Chart, Kind, Table, from_rows
from store_server.stock.replenishment import DEFAULT_WINDOW_DAYS

K = Kind
STORE = stock_reports.STORE
Progress = Callable[[str, int, int], None]
MAX_LIMIT = 1000
# What HQ cannot show as the store does: the live figures between two day closes.
NOT_AT_HQ = (
    "live stock between day closes (HQ's stock figures are as of each store's last day "
    "close, 日结) and stocktakes not yet posted or posted since: storectl report at the store"
)


@dataclass(frozen=True, slots=True)
class Options:
    period: sales.Period = sales.Period.DAY
    limit: int = 20
    compare_last_year: bool = True
    window_days: int = DEFAULT_WINDOW_DAYS  # replenishment's sales pace

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "period", sales.Period(self.period or "day"))
        except ValueError:
            raise InvalidArgument("period", "day, week or month") from None
        if not 0 < self.limit <= MAX_LIMIT:
            raise InvalidArgument("limit", f"1 to {MAX_LIMIT} rows")
        if not 0 < self.window_days <= 366:
            raise InvalidArgument("window_days", "1 to 366 days")


Builder = Callable[[Connection, HqScope, Options], list[Table]]


def _summary(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    rates = line_facts.paid_by_rate(conn, scope)
    current = [
        replace(f, paid_by_rate=tuple(rates.get((f.store_id, f.day), ())))
        for f in facts.day_facts(conn, scope)
    ]
    last = facts.day_facts(conn, scope.last_year()) if opt.compare_last_year else []
    rows = sales.sales_by_period(current, last, opt.period)
    title = (
        f"销售汇总 ({PERIOD_TITLES[opt.period]}) {scope.first} 至 {scope.last} · {scope.label()}"
    )
    return [
        from_rows(
            f"sales_{opt.period}",
            title,
            SUMMARY_COLUMNS,
            [*rows, sales.period_total(rows)] if rows else [],
            chart=Chart("line", "period", ("sales_fen", "last_year_sales_fen"), "销售额趋势 (元)"),
            notes=(
                "不含税按总部商品资料的税率, 总部无资料的商品按 0% "
                "(ex tax at the rates of HQ's master data; SKUs it lacks at 0 %)",
            ),
        )
    ]


@dataclass(frozen=True, slots=True)
class StoreRow:
    store_id: str
    receipts: int
    sales_fen: int
    discount_fen: int
    refund_fen: int
    net_fen: int
    avg_basket_fen: int
    last_year_sales_fen: int
    growth_bp: int | None
    share_bp: int | None


def sales_by_store(current: Sequence, last: Sequence) -> list[StoreRow]:
    """Each store's range (DayFacts summed), biggest first, then the 合计 row."""
    acc: dict[str, list[int]] = {}
    for f in current:
        a = acc.setdefault(f.store_id, [0] * 5)
        a[0] += f.receipts
        a[1] += f.sales_fen
        a[2] += f.discount_fen
        a[3] += f.refund_fen
    for f in last:
        if f.store_id in acc:
            acc[f.store_id][4] += f.sales_fen
    whole = sum(a[1] for a in acc.values())

    def row(store: str, a: list[int]) -> StoreRow:
        return StoreRow(
            store,
            a[0],
            a[1],
            a[2],
            a[3],
            a[1] - a[3],
            average(a[1], a[0]),
            a[4],
            growth_bp(a[1], a[4]),
            share_bp(a[1], whole),
        )

    rows = sorted((row(s, a) for s, a in acc.items()), key=lambda r: (-r.sales_fen, r.store_id))
    if rows:
        rows.append(row("合计", [sum(a[i] for a in acc.values()) for i in range(5)]))
    return rows


def _stores(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    last = facts.day_facts(conn, scope.last_year()) if opt.compare_last_year else []
    return [
        from_rows(
            "stores",
            f"门店销售 {scope.first} 至 {scope.last}",
            [
                ("store_id", "门店", K.TEXT),
                ("receipts", "单数", K.COUNT),
                ("sales_fen", "销售额", K.MONEY),
                ("discount_fen", "优惠", K.MONEY),
                ("refund_fen", "退货", K.MONEY),
                ("net_fen", "净销售额", K.MONEY),
                ("avg_basket_fen", "客单价", K.MONEY),
                ("last_year_sales_fen", "去年同期销售额", K.MONEY),
                ("growth_bp", "同比", K.BP),
                ("share_bp", "占比", K.BP),
            ],
            sales_by_store(facts.day_facts(conn, scope), last),
            chart=Chart("bar", "store_id", ("sales_fen",), "门店销售额 (元)"),
        )
    ]


def _hourly(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    totals = facts.basket_totals(conn, scope)
    return [
        from_rows(
            "hourly",
            "时段客流",
            HOURLY_COLUMNS,
            sales.sales_by_hour(facts.hour_facts(conn, scope), CHAIN_ZONE),
            chart=Chart("bar", "hour", ("receipts",), "每小时客流 (单数)"),
            notes=("时段按 Asia/Shanghai (hours in the chain's time zone)",),
        ),
        from_rows(
            "basket_sizes",
            "客单价分布",
            BASKET_COLUMNS,
            sales.basket_bands(totals),
            chart=Chart("hist", "band", ("receipts",), "客单价分布 (元)"),
            values=tuple(totals),
        ),
    ]


def _cashier(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    return [
        from_rows(
            "cashier",
            "收银员业绩",
            [STORE, *(c for c in CASHIER_COLUMNS if c[0] != "name")],
            sales.sales_by_cashier(facts.cashier_facts(conn, scope), per_store=True),
            chart=Chart("bar", "operator_id", ("sales_fen",), "收银员销售额 (元)"),
            notes=("姓名为门店资料, 总部按工号列出 (operators by id)",),
        )
    ]


def _tender(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    return [
        from_rows(
            "tender",
            "支付方式",
            TENDER_COLUMNS,
            sales.sales_by_tender(facts.tender_facts(conn, scope)),
            chart=Chart("pie", "name", ("applied_fen",), "支付方式构成"),
        )
    ]


@dataclass(frozen=True, slots=True)
class SkuRow:
    """A store report's ProductRow with the number of stores that sold the SKU."""

    row: products.ProductRow
    stores: int

    def __getattr__(self, name: str) -> object:
        return getattr(self.row, name)


def _products(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    sold = line_facts.sku_sales(conn, scope)
    rows = line_facts.product_facts(sold, stock_facts.on_hand_by_sku(conn, scope))
    spec = [*PRODUCT_COLUMNS, ("stores", "门店数", K.COUNT)]

    def with_stores(ranked: list[products.ProductRow]) -> list[SkuRow]:
        return [SkuRow(r, sold[r.sku].stores if r.sku in sold else 0) for r in ranked]

    as_of = stock_facts.title_as_of(stock_facts.as_of(conn, scope))
    notes = (
        f"库存{as_of}; 可售天数按 {scope.days} 天日均销量 "
        "(on hand as of each store's last day close; days left at the range's pace)",
    )
    return [
        from_rows(
            "best_sellers",
            "畅销商品",
            spec,
            with_stores(products.best_sellers(rows, scope.days, opt.limit)),
            chart=Chart("bar", "name", ("sales_fen",), "畅销商品销售额 (元)"),
            notes=notes,
        ),
        from_rows(
            "slow_sellers",
            f"滞销商品 (库存{as_of})",
            spec,
            with_stores(products.slow_sellers(rows, scope.days, opt.limit)),
            notes=notes,
        ),
    ]


def _category(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    return [
        from_rows(
            "category",
            f"品类销售 {scope.first} 至 {scope.last}",
            CATEGORY_COLUMNS,
            sales.sales_by_category(line_facts.category_facts(conn, scope)),
            chart=Chart("bar", "category", ("sales_fen",), "品类销售额 (元)"),
            notes=(
                "品类、税率与成本按总部商品资料 (当前进价), 与门店报表同一口径; "
                f"总部无资料的商品列入 {line_facts.UNKNOWN} "
                "(category, tax rate and today's cost from HQ's master data)",
            ),
        )
    ]


def _stock(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    return stock_reports.stock_value(conn, scope)


def _variance(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    return stock_reports.variance(conn, scope, opt.limit)


def _replenishment(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    return stock_reports.replenishment(conn, scope, opt.window_days)


def _members(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    f = [facts.member_facts(conn, scope)]
    redeem = Config().members.points.redeem_points_per_yuan
    return [
        from_rows(
            "members",
            "会员分析",
            MEMBER_COLUMNS,
            members.member_summary(f, redeem_points_per_yuan=redeem),
            notes=(
                "余额为期末结存, 按所选门店的分录合计; 全部门店即全连锁负债 "
                "(balances at the range's end; over all stores: the chain's liabilities)",
                f"积分按 {redeem} 分 = 1 元折算 (the stores' default rate)",
            ),
        ),
        from_rows(
            "member_tiers",
            "会员等级消费",
            TIER_COLUMNS,
            members.spend_per_tier(f, {}),
            chart=Chart("bar", "name", ("sales_fen",), "会员等级消费额 (元)"),
        ),
    ]


def settlement_table(rows: Sequence[settlement.SettlementRow], title: str) -> Table:
    return from_rows(
        "settlement",
        title,
        [
            ("store_id", "门店", K.TEXT),
            ("topup_paid_fen", "充值收款", K.MONEY),
            ("topup_bonus_fen", "充值赠送", K.MONEY),
            ("cash_out_fen", "储值退款", K.MONEY),
            ("topped_up_fen", "应付总部", K.MONEY),
            ("spend_fen", "储值消费", K.MONEY),
            ("returned_fen", "退货退回储值", K.MONEY),
            ("spent_fen", "总部应付", K.MONEY),
            ("net_fen", "结算净额", K.MONEY),
        ],
        rows,
        chart=Chart("bar", "store_id", ("net_fen",), "结算净额 (元, 正数总部付门店)"),
        notes=(
            "结算净额 = 总部应付 - 应付总部: 正数总部付给门店, 负数门店付给总部 "
            "(net > 0: HQ pays the store; < 0: the store pays HQ)",
            "充值按实收本金结算, 赠送不结算; 储值消费按面值 (本金+赠送) 由总部支付",
        ),
    )


def _settlement(conn: Connection, scope: HqScope, opt: Options) -> list[Table]:
    rows = settlement.settle(facts.sv_movements(conn, scope))
    return [settlement_table(rows, f"储值结算 {scope.first} 至 {scope.last}")]


@dataclass(frozen=True, slots=True)
class ReportSpec:
    name: str
    title: str
    build: Builder


REPORTS: dict[str, ReportSpec] = {
    s.name: s
    for s in (
        ReportSpec("summary", "销售汇总 (同期对比)", _summary),
        ReportSpec("stores", "门店销售", _stores),
        ReportSpec("hourly", "时段客流与客单价", _hourly),
        ReportSpec("cashier", "收银员业绩", _cashier),
        ReportSpec("tender", "支付方式", _tender),
        ReportSpec("category", "品类销售与毛利", _category),
        ReportSpec("products", "畅销/滞销商品 (可售天数)", _products),
        ReportSpec("members", "会员分析 (负债)", _members),
        ReportSpec("stock", "库存金额 (日结快照)", _stock),
        ReportSpec("variance", "盘点差异", _variance),
        ReportSpec("replenishment", "补货建议 (日结快照)", _replenishment),
        ReportSpec("settlement", "储值结算", _settlement),
    )
}
DEFAULT_SET = tuple(REPORTS)


def spec_of(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise InvalidArgument(
            "kinds", f"unknown HQ report {name!r}: {', '.join(REPORTS)} ({NOT_AT_HQ})"
        ) from None


def run(
    conn: Connection,
    names: Sequence[str],
    scope: HqScope,
    options: Options | None = None,
    progress: Progress | None = None,
) -> list[Table]:
    """Run the named reports in order; `progress(name, done, total)` before each."""
    options = options or Options()
    specs = [spec_of(n) for n in names]
    out: list[Table] = []
    for done, spec in enumerate(specs):
        if progress:
            progress(spec.name, done, len(specs))
        out.extend(spec.build(conn, scope, options))
    if progress:
        progress("done", len(specs), len(specs))
    return out
