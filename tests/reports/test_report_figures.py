"""Every report's figures against figures computed by plain loops over the known sales.

The data set (tests/reports/dataset.py) is two weeks of October 2026 and the
same two weeks of 2025, written by raw inserts; the expectations below never
call the report code, only walk the generated records.
"""

from __future__ import annotations

from collections import defaultdict

from store_server.domain.money import div_round_half_up
from tests.reports.conftest import DAYS, History, run
from tests.reports.dataset import ZONE


def ex_tax(by_rate: dict[int, int]) -> int:
    return sum(div_round_half_up(fen * 10_000, 10_000 + rate) for rate, fen in by_rate.items())


def test_sales_per_day_with_last_year(history: History) -> None:
    table = run(history, "summary")["sales_day"]
    got = {r["period"]: r for r in table.as_dicts()}
    for day in DAYS:
        sales = [s for s in history.now.sales if s.day == day]
        ly = [s for s in history.last_year.sales if s.day == day.replace(year=2025)]
        by_rate: dict[int, int] = defaultdict(int)
        for s in sales:
            for ln in s.lines:
                by_rate[ln.tax_rate_bp] += ln.paid_fen
        refund = sum(r.refund_fen for r in history.now.returns if r.day == day)
        total = sum(s.total_fen for s in sales)
        row = got[day.isoformat()]
        assert row["receipts"] == len(sales) == 31  # 30 by day, 1 after midnight
        assert row["sales_fen"] == total
        assert row["discount_fen"] == sum(s.discount_fen for s in sales)
        assert row["ex_tax_fen"] == ex_tax(by_rate)
        assert (row["refund_fen"], row["net_fen"]) == (refund, total - refund)
        assert row["avg_basket_fen"] == div_round_half_up(total, len(sales))
        ly_total = sum(s.total_fen for s in ly)
        assert (row["last_year_receipts"], row["last_year_sales_fen"]) == (len(ly), ly_total)
        assert row["growth_bp"] == div_round_half_up((total - ly_total) * 10_000, ly_total)
    total_row = table.as_dicts()[-1]
    assert total_row["period"] == "合计"
    assert total_row["sales_fen"] == sum(s.total_fen for s in history.now.sales)
    assert total_row["last_year_sales_fen"] == sum(s.total_fen for s in history.last_year.sales)


def test_weeks_and_months(history: History) -> None:
    weeks = {
        r["period"]: r for r in run(history, "summary", period="week")["sales_week"].as_dicts()
    }
    expected: dict[str, int] = defaultdict(int)
    receipts: dict[str, int] = defaultdict(int)
    for s in history.now.sales:
        year, week, _ = s.day.isocalendar()
        expected[f"{year}-W{week:02d}"] += s.total_fen
        receipts[f"{year}-W{week:02d}"] += 1
    assert sorted(weeks) == sorted([*expected, "合计"])  # 2026-W40 .. W42
    for key, fen in expected.items():
        assert (weeks[key]["sales_fen"], weeks[key]["receipts"]) == (fen, receipts[key])
    month = run(history, "summary", period="month")["sales_month"].as_dicts()[0]
    assert month["period"] == "2026-10"
    assert month["sales_fen"] == sum(s.total_fen for s in history.now.sales)
    assert month["last_year_sales_fen"] == sum(s.total_fen for s in history.last_year.sales)


def test_hours_in_local_time_and_basket_sizes(history: History) -> None:
    tables = run(history, "hourly")
    expected: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for s in history.now.sales:
        hour = s.at.astimezone(ZONE).hour
        expected[hour][0] += 1
        expected[hour][1] += s.total_fen
    got = {r["hour"]: r for r in tables["hourly"].as_dicts()}
    assert set(got) == set(expected) and 2 in got  # the 02:30 sales, counted on their day
    for hour, (n, fen) in expected.items():
        assert (got[hour]["receipts"], got[hour]["sales_fen"]) == (n, fen)
        assert got[hour]["avg_basket_fen"] == div_round_half_up(fen, n)
    bands = tables["basket_sizes"]
    assert sum(bands.column("receipts")) == len(history.now.sales)
    under_10 = sum(1 for s in history.now.sales if s.total_fen < 1000)
    assert bands.as_dicts()[0]["receipts"] == under_10
    assert sorted(bands.values) == sorted(s.total_fen for s in history.now.sales)


def test_cashiers(history: History) -> None:
    got = {r["operator_id"]: r for r in run(history, "cashier")["cashier"].as_dicts()}
    for op in ("1001", "1002", "1003"):
        sales = [s for s in history.now.sales if s.operator_id == op]
        refunds = [r for r in history.now.returns if r.operator_id == op]
        total = sum(s.total_fen for s in sales)
        row = got[op]
        assert (row["receipts"], row["sales_fen"]) == (len(sales), total)
        assert (row["returns"], row["refund_fen"]) == (
            len(refunds),
            sum(r.refund_fen for r in refunds),
        )
        assert row["avg_basket_fen"] == div_round_half_up(total, len(sales))
    assert got["1001"]["name"] == "收银员 小王"


def test_categories_with_tax_cost_and_refunds(history: History) -> None:
    products = history.now.products
    units: dict[str, int] = defaultdict(int)
    sales: dict[str, int] = defaultdict(int)
    by_rate: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    cost_milli: dict[tuple[str, int], int] = defaultdict(int)
    for s in history.now.sales:
        for ln in s.lines:
            p = products[ln.product_id]
            units[p.category] += ln.quantity_milli * ln.pack_factor
            sales[p.category] += ln.paid_fen
            by_rate[p.category][ln.tax_rate_bp] += ln.paid_fen
            cost_milli[(p.category, ln.tax_rate_bp)] += ln.quantity_milli * (p.cost_fen or 0)
    refunds: dict[str, int] = defaultdict(int)
    for r in history.now.returns:
        refunds[products[r.product_id].category] += r.refund_fen
    got = {r["category"]: r for r in run(history, "category")["category"].as_dicts()}
    assert set(got) == set(sales)
    for cat in sales:
        cost = sum(div_round_half_up(v, 1000) for (c, _), v in cost_milli.items() if c == cat)
        row = got[cat]
        assert (row["units_milli"], row["sales_fen"], row["cost_fen"]) == (
            units[cat],
            sales[cat],
            cost,
        )
        assert row["ex_tax_fen"] == ex_tax(by_rate[cat])
        assert (row["margin_fen"], row["refund_fen"]) == (sales[cat] - cost, refunds[cat])
    assert sum(got[c]["share_bp"] for c in got) in range(9_998, 10_003)  # rounding of shares


def test_tenders(history: History) -> None:
    paid: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in history.now.sales:
        for kind, amount in s.payments:
            paid[kind][0] += 1
            paid[kind][1] += amount
    got = {r["kind"]: r for r in run(history, "tender")["tender"].as_dicts()}
    assert set(got) == set(paid) == {"cash", "mobile", "bank_card", "stored_value"}
    for kind, (n, fen) in paid.items():
        assert (got[kind]["payments"], got[kind]["applied_fen"]) == (n, fen)
    refunded = sum(r.refund_fen for r in history.now.returns)
    assert (got["cash"]["refunds"], got["cash"]["refunded_fen"]) == (
        len(history.now.returns),
        refunded,
    )
    assert got["cash"]["net_fen"] == paid["cash"][1] - refunded
    assert sum(r["applied_fen"] for r in got.values()) == sum(
        s.total_fen for s in history.now.sales
    )


def test_best_and_slow_sellers_with_days_of_stock(history: History) -> None:
    sold: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for s in history.now.sales:
        for ln in s.lines:
            sold[ln.product_id][0] += ln.quantity_milli * ln.pack_factor
            sold[ln.product_id][1] += ln.paid_fen
    for r in history.now.returns:
        sold[r.product_id][0] -= r.quantity_milli * r.pack_factor
        sold[r.product_id][1] -= r.refund_fen
    tables = run(history, "products", limit=3)
    best = tables["best_sellers"].as_dicts()
    ranking = sorted(sold, key=lambda pid: (-sold[pid][1], -sold[pid][0], pid))[:3]
    assert [r["sku"] for r in best] == [history.now.products[pid].sku for pid in ranking]
    days = len(DAYS)
    for row, pid in zip(best, ranking, strict=True):
        on_hand = history.now.on_hand[pid]
        assert (row["sold_milli"], row["sales_fen"]) == tuple(sold[pid])
        assert row["on_hand_milli"] == on_hand
        assert row["daily_milli"] == sold[pid][0] // days
        assert row["days_left"] == (0 if on_hand <= 0 else on_hand * days // sold[pid][0])
    slow = tables["slow_sellers"].as_dicts()
    stocked = [pid for pid, q in history.now.on_hand.items() if q > 0]
    expected = sorted(
        stocked,
        key=lambda pid: (max(sold[pid][0], 0), sold[pid][1], -history.now.on_hand[pid], pid),
    )[:3]
    assert [r["sku"] for r in slow] == [history.now.products[pid].sku for pid in expected]


def test_members_activity_share_and_liabilities(history: History) -> None:
    scope = history.scope
    members = history.now.members
    in_range = [s for s in history.now.sales if s.member_id]
    active = {s.member_id for s in in_range}
    new = [m for m, (_, at) in members.items() if scope.start_utc <= at < scope.end_utc]
    tables = run(history, "members")
    summary = {r["label"]: r for r in tables["members"].as_dicts()}
    assert summary["会员总数"]["count"] == len(members)
    assert summary["新会员"]["count"] == len(new) > 0
    assert summary["活跃会员"]["count"] == len(active)
    member_sales = sum(s.total_fen for s in in_range)
    all_sales = sum(s.total_fen for s in history.now.sales)
    assert summary["会员消费"]["amount_fen"] == member_sales
    assert summary["会员消费"]["share_bp"] == div_round_half_up(member_sales * 10_000, all_sales)
    balances: dict[str, int] = defaultdict(int)
    for m, _kind, pts, at in history.now.points:
        if at < scope.end_utc:
            balances[m] += pts
    points = sum(b for b in balances.values() if b > 0)
    assert summary["积分余额 (负债)"]["count"] == points
    assert summary["积分余额 (负债)"]["amount_fen"] == points  # 100 points = 100 fen
    sv_paid = sum(p for _m, _k, p, _b, at in history.now.stored_value if at < scope.end_utc)
    sv_bonus = sum(b for _m, _k, _p, b, at in history.now.stored_value if at < scope.end_utc)
    assert summary["储值余额 本金 (负债)"]["amount_fen"] == sv_paid
    assert summary["储值余额 赠送"]["amount_fen"] == sv_bonus == 10 * 1_000
    spent = -sum(p for _m, k, p, _b, _at in history.now.stored_value if k == "spend")
    assert summary["储值消费 本金"]["amount_fen"] == -spent
    tiers = {r["name"]: r for r in tables["member_tiers"].as_dicts()}
    names = {"normal": "普通", "silver": "银卡", "gold": "金卡"}
    for code, name in names.items():
        sales = [s for s in in_range if members[s.member_id][0] == code]
        assert tiers[name]["receipts"] == len(sales)
        assert tiers[name]["sales_fen"] == sum(s.total_fen for s in sales)
        assert tiers[name]["members"] == len({s.member_id for s in sales})


def test_stock_value_at_cost(history: History) -> None:
    value_milli: dict[tuple[str, int], int] = defaultdict(int)
    products: dict[str, int] = defaultdict(int)
    negative: dict[str, int] = defaultdict(int)
    for pid, on_hand in history.now.on_hand.items():
        p = history.now.products[pid]
        if on_hand > 0:
            value_milli[(p.category, p.tax_rate_bp)] += on_hand * (p.cost_fen or 0)
            products[p.category] += 1
        elif on_hand < 0:
            negative[p.category] += 1
    got = {r["category"]: r for r in run(history, "stock")["stock_value"].as_dicts()}
    for cat in set(products) | set(negative):
        groups = {
            rate: div_round_half_up(v, 1000) for (c, rate), v in value_milli.items() if c == cat
        }
        assert got[cat]["value_fen"] == sum(groups.values())
        assert got[cat]["value_ex_tax_fen"] == ex_tax(groups)
        assert (got[cat]["products"], got[cat]["negative"]) == (products[cat], negative[cat])


def test_ranking_candidates_chosen_in_sql_rank_as_all_rows(history: History) -> None:
    from store_server.reports import facts, products

    with history.db.read() as conn:
        every = facts.product_facts(conn, history.scope)
        few = facts.product_facts(conn, history.scope, candidates=2)
    assert len(few) < len(every)
    for rank in (products.best_sellers, products.slow_sellers):
        assert rank(few, 14, 2) == rank(every, 14, 2)
