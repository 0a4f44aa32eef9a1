"""The named reports `ReportService` and `storectl report` run: facts, pure report, tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from store_server.config import Config
from store_server.db import fast
from store_server.domain.errors import InvalidArgument, NotFound
from store_server.reports import facts, member_facts, members, products, sales, stock
from store_server.reports.scope import ReportScope
from store_server.reports.table import Chart, Kind, Table, from_rows
from store_server.stock import replenishment, variances

Progress = Callable[[str, int, int], None]
MAX_LIMIT = 1000
K = Kind


@dataclass(frozen=True, slots=True)
class Options:
    period: sales.Period = sales.Period.DAY
    limit: int = 20  # rows of a ranking
    compare_last_year: bool = True
    session_id: str = ""  # stocktake variance: the session (default: the latest)
    window_days: int = replenishment.DEFAULT_WINDOW_DAYS
    now: datetime | None = None  # replenishment's pace ends here (default: the scope's end)

    def __post_init__(self) -> None:
        try:  # "week" from a command line or a request becomes Period.WEEK
            object.__setattr__(self, "period", sales.Period(self.period or "day"))
        except ValueError:
            raise InvalidArgument("period", "day, week or month") from None
        if not 0 < self.limit <= MAX_LIMIT:
            raise InvalidArgument("limit", f"1 to {MAX_LIMIT} rows")


Builder = Callable[[Connection, Config, ReportScope, Options], list[Table]]


@dataclass(frozen=True, slots=True)
class ReportSpec:
    name: str
    title: str
    build: Builder
    cashier: bool  # may a cashier run it on their own shift


PERIOD_TITLES = {"day": "日", "week": "周", "month": "月"}

# Column specs (key, 中文 title, kind), shared with HQ's reports (hq_link.hq.reports.catalog).
Spec = tuple[tuple[str, str, Kind], ...]
SUMMARY_COLUMNS: Spec = (
    ("period", "期间", K.TEXT),
    ("receipts", "单数", K.COUNT),
    ("sales_fen", "销售额", K.MONEY),
    ("discount_fen", "优惠", K.MONEY),
    ("ex_tax_fen", "不含税销售额", K.MONEY),
    ("refund_fen", "退货", K.MONEY),
    ("net_fen", "净销售额", K.MONEY),
    ("avg_basket_fen", "客单价", K.MONEY),
    ("last_year_receipts", "去年同期单数", K.COUNT),
    ("last_year_sales_fen", "去年同期销售额", K.MONEY),
    ("growth_bp", "同比", K.BP),
)
HOURLY_COLUMNS: Spec = (
    ("hour", "时段", K.COUNT),
    ("receipts", "客流 (单数)", K.COUNT),
    ("sales_fen", "销售额", K.MONEY),
    ("avg_basket_fen", "客单价", K.MONEY),
    ("share_bp", "客流占比", K.BP),
)
BASKET_COLUMNS: Spec = (
    ("band", "客单价", K.TEXT),
    ("receipts", "单数", K.COUNT),
    ("sales_fen", "销售额", K.MONEY),
    ("share_bp", "占比", K.BP),
)
CASHIER_COLUMNS: Spec = (
    ("operator_id", "工号", K.TEXT),
    ("name", "姓名", K.TEXT),
    ("receipts", "单数", K.COUNT),
    ("sales_fen", "销售额", K.MONEY),
    ("discount_fen", "优惠", K.MONEY),
    ("avg_basket_fen", "客单价", K.MONEY),
    ("returns", "退货单数", K.COUNT),
    ("refund_fen", "退款", K.MONEY),
    ("net_fen", "净销售额", K.MONEY),
    ("share_bp", "占比", K.BP),
)
CATEGORY_COLUMNS: Spec = (
    ("category", "品类", K.TEXT),
    ("units_milli", "数量", K.QTY),
    ("sales_fen", "销售额", K.MONEY),
    ("ex_tax_fen", "不含税销售额", K.MONEY),
    ("cost_fen", "成本", K.MONEY),
    ("margin_fen", "毛利", K.MONEY),
    ("margin_bp", "毛利率", K.BP),
    ("refund_fen", "退货", K.MONEY),
    ("share_bp", "销售占比", K.BP),
)
TENDER_COLUMNS: Spec = (
    ("name", "支付方式", K.TEXT),
    ("kind", "代码", K.TEXT),
    ("payments", "笔数", K.COUNT),
    ("applied_fen", "收款", K.MONEY),
    ("refunds", "退款笔数", K.COUNT),
    ("refunded_fen", "退款", K.MONEY),
    ("net_fen", "净收款", K.MONEY),
    ("share_bp", "占比", K.BP),
)
MEMBER_COLUMNS: Spec = (
    ("label", "指标", K.TEXT),
    ("count", "数量", K.COUNT),
    ("amount_fen", "金额", K.MONEY),
    ("share_bp", "占比", K.BP),
)
TIER_COLUMNS: Spec = (
    ("name", "等级", K.TEXT),
    ("members", "消费会员", K.COUNT),
    ("receipts", "单数", K.COUNT),
    ("sales_fen", "消费额", K.MONEY),
    ("per_member_fen", "人均消费", K.MONEY),
    ("share_bp", "占比", K.BP),
)
STOCK_COLUMNS: Spec = (
    ("category", "品类", K.TEXT),
    ("products", "商品数", K.COUNT),
    ("on_hand_milli", "库存数量", K.QTY),
    ("value_fen", "库存金额 (含税)", K.MONEY),
    ("value_ex_tax_fen", "库存金额 (不含税)", K.MONEY),
    ("share_bp", "占比", K.BP),
    ("without_cost", "无成本商品", K.COUNT),
    ("negative", "负库存商品", K.COUNT),
)
VARIANCE_COLUMNS: Spec = (
    ("sku", "货号", K.TEXT),
    ("name", "商品", K.TEXT),
    ("category", "品类", K.TEXT),
    ("counted_milli", "实盘", K.QTY),
    ("expected_milli", "账面", K.QTY),
    ("variance_milli", "差异", K.QTY),
    ("variance_cost_fen", "差异金额", K.MONEY),
)
PRODUCT_COLUMNS: Spec = (
    ("rank", "排名", K.COUNT),
    ("sku", "货号", K.TEXT),
    ("name", "商品", K.TEXT),
    ("category", "品类", K.TEXT),
    ("sold_milli", "销量", K.QTY),
    ("sales_fen", "销售额", K.MONEY),
    ("on_hand_milli", "库存", K.QTY),
    ("daily_milli", "日均销量", K.QTY),
    ("days_left", "可售天数", K.DAYS),
)
VARIANCE_CATEGORY_COLUMNS: Spec = (
    ("category", "品类", K.TEXT),
    ("products", "商品数", K.COUNT),
    ("variance_milli", "差异数量", K.QTY),
    ("variance_cost_fen", "差异金额", K.MONEY),
)
REPLENISHMENT_COLUMNS: Spec = (
    ("supplier_id", "供应商", K.TEXT),
    ("supplier", "供应商名称", K.TEXT),
    ("sku", "货号", K.TEXT),
    ("name", "商品", K.TEXT),
    ("on_hand_milli", "库存", K.QTY),
    ("on_order_milli", "在途", K.QTY),
    ("min_milli", "下限", K.QTY),
    ("max_milli", "上限", K.QTY),
    ("daily_milli", "日均销量", K.QTY),
    ("order_milli", "建议订货", K.QTY),
)


def _summary(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    current = facts.day_facts(conn, scope)
    last = (
        facts.day_facts(conn, scope.last_year())
        if opt.compare_last_year and scope.shift_id is None
        else []
    )
    rows = sales.sales_by_period(current, last, opt.period)
    spec = SUMMARY_COLUMNS
    rows_with_total = [*rows, sales.period_total(rows)] if rows else []
    title = f"销售汇总 ({PERIOD_TITLES[opt.period]}) {scope.first} 至 {scope.last}"
    return [
        from_rows(
            f"sales_{opt.period}",
            title,
            spec,
            rows_with_total,
            chart=Chart("line", "period", ("sales_fen", "last_year_sales_fen"), "销售额趋势 (元)"),
        )
    ]


def _hourly(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    rows = sales.sales_by_hour(facts.hour_facts(conn, scope), cfg.zone)
    totals = facts.basket_totals(conn, scope)
    hourly = from_rows(
        "hourly",
        "时段客流",
        HOURLY_COLUMNS,
        rows,
        chart=Chart("bar", "hour", ("receipts",), "每小时客流 (单数)"),
    )
    bands = from_rows(
        "basket_sizes",
        "客单价分布",
        BASKET_COLUMNS,
        sales.basket_bands(totals),
        chart=Chart("hist", "band", ("receipts",), "客单价分布 (元)"),
        values=tuple(totals),
    )
    return [hourly, bands]


def _cashier(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    return [
        from_rows(
            "cashier",
            "收银员业绩",
            CASHIER_COLUMNS,
            sales.sales_by_cashier(facts.cashier_facts(conn, scope)),
            chart=Chart("bar", "name", ("sales_fen",), "收银员销售额 (元)"),
        )
    ]


def _category(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    return [
        from_rows(
            "category",
            "品类销售",
            CATEGORY_COLUMNS,
            sales.sales_by_category(facts.category_facts(conn, scope)),
            chart=Chart("bar", "category", ("sales_fen",), "品类销售额 (元)"),
            notes=("成本按商品当前进价计算 (cost at today's cost price)",),
        )
    ]


def _tender(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    return [
        from_rows(
            "tender",
            "支付方式",
            TENDER_COLUMNS,
            sales.sales_by_tender(facts.tender_facts(conn, scope)),
            chart=Chart("pie", "name", ("applied_fen",), "支付方式构成"),
        )
    ]


def _products(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    rows = facts.product_facts(conn, scope, candidates=opt.limit)
    return [
        from_rows(
            "best_sellers",
            "畅销商品",
            PRODUCT_COLUMNS,
            products.best_sellers(rows, scope.days, opt.limit),
            chart=Chart("bar", "name", ("sales_fen",), "畅销商品销售额 (元)"),
        ),
        from_rows(
            "slow_sellers",
            "滞销商品",
            PRODUCT_COLUMNS,
            products.slow_sellers(rows, scope.days, opt.limit),
        ),
    ]


def _members(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    f = [member_facts.member_facts(conn, scope)]
    tier_names = {t.code: t.name for t in cfg.members.tiers}
    return [
        from_rows(
            "members",
            "会员分析",
            MEMBER_COLUMNS,
            members.member_summary(
                f, redeem_points_per_yuan=cfg.members.points.redeem_points_per_yuan
            ),
            notes=("余额为期末结存 (balances as of the end of the range)",),
        ),
        from_rows(
            "member_tiers",
            "会员等级消费",
            TIER_COLUMNS,
            members.spend_per_tier(f, tier_names),
            chart=Chart("bar", "name", ("sales_fen",), "会员等级消费额 (元)"),
        ),
    ]


def _stock(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    rows = stock.stock_value(facts.stock_facts(conn, scope))
    return [
        from_rows(
            "stock_value",
            "库存金额 (成本)",
            STOCK_COLUMNS,
            rows,
            chart=Chart("bar", "category", ("value_fen",), "库存金额 (元)"),
            notes=("当前库存 (on hand now), 按当前进价",),
        )
    ]


def _latest_session(conn: Connection) -> str:
    rows = fast.execute(
        conn, "SELECT session_id FROM stocktake_sessions ORDER BY opened_at DESC LIMIT 1"
    )
    if not rows:
        raise NotFound("no stocktake yet", reason="UNKNOWN_SESSION")
    return rows[0][0]


def _variance(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    session_id = opt.session_id or _latest_session(conn)
    lines, categories = variances.report(conn, session_id, nonzero_only=True)
    product_table = from_rows(
        "variance",
        f"盘点差异 {session_id}",
        VARIANCE_COLUMNS,
        sorted(lines, key=lambda ln: (ln.variance_cost_fen, ln.sku))[: opt.limit],
    )
    cat_rows = tuple((cat, n, qty, fen) for cat, (qty, fen, n) in sorted(categories.items()))
    cat_table = Table(
        "variance_categories",
        "盘点差异 (品类)",
        tuple(from_rows("x", "x", VARIANCE_CATEGORY_COLUMNS, []).columns),
        cat_rows,
        chart=Chart("bar", "category", ("variance_cost_fen",), "盘点差异金额 (元)"),
    )
    return [product_table, cat_table]


def _replenishment(conn: Connection, cfg: Config, scope: ReportScope, opt: Options) -> list[Table]:
    now = opt.now or scope.end_utc
    drafts = replenishment.suggestions(conn, now, opt.window_days)
    names = replenishment.supplier_names(conn)
    ids = [s.product_id for lines in drafts.values() for s in lines]
    levels = {lv.product_id: lv for lv in replenishment.stock_levels(conn, ids)} if ids else {}
    rows = []
    for supplier in sorted(drafts):
        for s in sorted(drafts[supplier], key=lambda s: s.product_id):
            lv = levels[s.product_id]
            rows.append(
                (
                    supplier,
                    names.get(supplier, ""),
                    lv.sku,
                    lv.name,
                    lv.on_hand_milli,
                    lv.on_order_milli,
                    lv.min_milli,
                    lv.max_milli,
                    s.daily_sales_milli,
                    s.quantity_milli,
                )
            )
    return [
        Table(
            "replenishment",
            "补货建议",
            from_rows("x", "x", REPLENISHMENT_COLUMNS, []).columns,
            tuple(rows),
            notes=(f"近 {opt.window_days} 天销量 (sales pace over {opt.window_days} days)",),
        )
    ]


REPORTS: dict[str, ReportSpec] = {
    s.name: s
    for s in (
        ReportSpec("summary", "销售汇总 (同期对比)", _summary, cashier=True),
        ReportSpec("hourly", "时段客流与客单价", _hourly, cashier=True),
        ReportSpec("cashier", "收银员业绩", _cashier, cashier=True),
        ReportSpec("category", "品类销售", _category, cashier=True),
        ReportSpec("tender", "支付方式", _tender, cashier=True),
        ReportSpec("products", "畅销/滞销商品", _products, cashier=False),
        ReportSpec("members", "会员分析", _members, cashier=False),
        ReportSpec("stock", "库存金额", _stock, cashier=False),
        ReportSpec("variance", "盘点差异", _variance, cashier=False),
        ReportSpec("replenishment", "补货建议", _replenishment, cashier=False),
    )
}
# `all` runs these (variance needs a stocktake, so only when asked for).
DEFAULT_SET = ("summary", "hourly", "cashier", "category", "tender", "products", "members", "stock")


def spec_of(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise InvalidArgument("kind", f"unknown report {name!r}: {', '.join(REPORTS)}") from None


def run(
    conn: Connection,
    cfg: Config,
    names: Sequence[str],
    scope: ReportScope,
    options: Options | None = None,
    progress: Progress | None = None,
) -> list[Table]:
    """Run the named reports in order on one read snapshot; `progress(name, done, total)`."""
    options = options or Options()
    specs = [spec_of(n) for n in names]
    tables: list[Table] = []
    for done, spec in enumerate(specs):
        if progress:
            progress(spec.name, done, len(specs))
        tables.extend(spec.build(conn, cfg, scope, options))
    if progress:
        progress("done", len(specs), len(specs))
    return tables


def with_period(options: Options, period: str) -> Options:
    return replace(options, period=period)  # checked by Options
