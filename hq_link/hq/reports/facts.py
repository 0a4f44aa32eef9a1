"""HQ's projections reduced to the store reports' fact rows, one per store.

The same DayFact, HourFact, CashierFact, TenderFact and MemberFacts the store
computes from its own tables, here from the replicated receipts and ledger
entries, so store_server.reports' pure functions sum them over many stores.
What the receipts do not carry comes from elsewhere: categories, tax rates
and costs from HQ's master data (line_facts, which also fills
DayFact.paid_by_rate), stock from the day-close snapshots (stock_facts).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, String, cast, distinct, func, select

from hq_link.hq import tables
from hq_link.hq.projectors.ledger import entries
from hq_link.hq.projectors.receipts import lines, payments, receipts
from hq_link.hq.reconcile.queries import day_end_utc
from hq_link.hq.reconcile.settlement import SvMovement
from hq_link.hq.reports.scope import HqScope
from store_server.reports.facts import CashierFact, DayFact, HourFact, TenderFact
from store_server.reports.member_facts import MemberFacts, TierFact

R, P, L, E = receipts.c, payments.c, lines.c, entries.c


def _in_scope(table_c: object, scope: HqScope) -> list:
    c = table_c
    first, last = scope.day_range
    where = [c.business_day >= first, c.business_day <= last]  # type: ignore[attr-defined]
    if scope.stores:
        where.append(c.store_id.in_(scope.stores))  # type: ignore[attr-defined]
    return where


def day_facts(conn: Connection, scope: HqScope) -> list[DayFact]:
    rows = conn.execute(
        select(
            R.store_id,
            R.business_day,
            R.kind,
            func.count(),
            func.sum(R.total_fen),
            func.sum(R.discount_fen),
        )
        .where(*_in_scope(R, scope))
        .group_by(R.store_id, R.business_day, R.kind)
    ).all()
    acc: dict[tuple[str, str], list[int]] = {}
    for store, day, kind, n, total, discount in rows:
        a = acc.setdefault((store, day), [0, 0, 0, 0, 0])
        if kind == "sale":
            a[0] += int(n)
            a[1] += int(total)
            a[2] += int(discount)
        else:
            a[3] += int(n)
            a[4] -= int(total)  # a return's total is negative; refunds count positive
    return [
        DayFact(store, day, a[0], a[1], a[2], (), a[3], a[4])
        for (store, day), a in sorted(acc.items())
    ]


def _utc_hour(conn: Connection) -> object:
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", R.at), "YYYY-MM-DD HH24")
    return func.substr(cast(R.at, String), 1, 13)  # SQLite keeps UTC text


def hour_facts(conn: Connection, scope: HqScope) -> list[HourFact]:
    hour = _utc_hour(conn).label("h")
    rows = conn.execute(
        select(R.store_id, hour, func.count(), func.sum(R.total_fen))
        .where(*_in_scope(R, scope), R.kind == "sale")
        .group_by(R.store_id, hour)
    ).all()
    return [HourFact(s, str(h), int(n), int(f)) for s, h, n, f in rows]


def basket_totals(conn: Connection, scope: HqScope) -> list[int]:
    return [
        int(t)
        for (t,) in conn.execute(select(R.total_fen).where(*_in_scope(R, scope), R.kind == "sale"))
    ]


def cashier_facts(conn: Connection, scope: HqScope) -> list[CashierFact]:
    acc: dict[tuple[str, str], list[int]] = {}
    for store, op, kind, n, total, discount in conn.execute(
        select(
            R.store_id,
            R.operator_id,
            R.kind,
            func.count(),
            func.sum(R.total_fen),
            func.sum(R.discount_fen),
        )
        .where(*_in_scope(R, scope))
        .group_by(R.store_id, R.operator_id, R.kind)
    ):
        a = acc.setdefault((store, op), [0, 0, 0, 0, 0])
        if kind == "sale":
            a[0], a[1], a[2] = a[0] + int(n), a[1] + int(total), a[2] + int(discount)
        else:
            a[3], a[4] = a[3] + int(n), a[4] - int(total)
    # Operator names are store master data HQ does not hold: the id stands in.
    return [CashierFact(s, op, op, *a) for (s, op), a in sorted(acc.items())]


def tender_facts(conn: Connection, scope: HqScope) -> list[TenderFact]:
    acc: dict[tuple[str, str], list[int]] = {}
    for store, kind, doc, n, amount in conn.execute(
        select(P.store_id, P.kind, P.doc_kind, func.count(), func.sum(P.applied_fen))
        .where(*_in_scope(P, scope))
        .group_by(P.store_id, P.kind, P.doc_kind)
    ):
        a = acc.setdefault((store, kind), [0, 0, 0, 0])
        if doc == "sale":
            a[0], a[1] = a[0] + int(n), a[1] + int(amount)
        else:
            a[2], a[3] = a[2] + int(n), a[3] - int(amount)
    return [TenderFact(s, k, *a) for (s, k), a in sorted(acc.items())]


def sv_movements(conn: Connection, scope: HqScope) -> list[SvMovement]:
    """Stored-value entries per store and kind, at the store that made them."""
    return [
        SvMovement(s, k, int(p), int(b))
        for s, k, p, b in conn.execute(
            select(E.store_id, E.kind, func.sum(E.paid_fen), func.sum(E.bonus_fen))
            .where(*_in_scope(E, scope), E.ledger == "stored_value")
            .group_by(E.store_id, E.kind)
        )
    ]


def member_facts(conn: Connection, scope: HqScope) -> MemberFacts:
    """The chain's (or the stores') members, member sales and ledger liabilities.

    Balances sum every entry made at the scope's stores up to its last day:
    over the whole chain, what the chain owes its members.
    """
    first, last = scope.day_range
    sales_where = [*_in_scope(R, scope), R.kind == "sale"]
    tiers = tuple(
        TierFact(t, int(m), int(n), int(f))
        for t, m, n, f in conn.execute(
            select(
                R.tier_name, func.count(distinct(R.member_id)), func.count(), func.sum(R.total_fen)
            )
            .where(*sales_where, R.member_id != "")
            .group_by(R.tier_name)
            .order_by(R.tier_name)
        )
    )
    receipts_n, sales = conn.execute(
        select(func.count(), func.coalesce(func.sum(R.total_fen), 0)).where(*sales_where)
    ).one()
    c = tables.changes.c
    reg = [c.kind == "member"]
    if scope.stores:
        reg.append(c.store_id.in_(scope.stores))
    registered = select(c.key, func.min(c.at).label("at")).where(*reg).group_by(c.key).subquery()
    start, end = day_end_utc(_day_before(first)), day_end_utc(last)
    total, new = conn.execute(
        select(
            func.count(),
            func.count().filter(registered.c.at >= start),
        ).where(registered.c.at < end)
    ).one()
    to_end = [E.business_day <= last]
    if scope.stores:
        to_end.append(E.store_id.in_(scope.stores))
    per_member = (
        select(func.sum(E.points).label("b"))
        .where(*to_end, E.ledger == "points")
        .group_by(E.member_id)
        .subquery()
    )
    positive, owed = conn.execute(
        select(
            func.coalesce(func.sum(per_member.c.b).filter(per_member.c.b > 0), 0),
            func.coalesce(func.sum(per_member.c.b).filter(per_member.c.b < 0), 0),
        )
    ).one()
    sv_paid, sv_bonus = conn.execute(
        select(
            func.coalesce(func.sum(E.paid_fen), 0), func.coalesce(func.sum(E.bonus_fen), 0)
        ).where(*to_end, E.ledger == "stored_value")
    ).one()
    in_range = _in_scope(E, scope)
    sv_flows = tuple(
        (k, int(p), int(b))
        for k, p, b in conn.execute(
            select(E.kind, func.sum(E.paid_fen), func.sum(E.bonus_fen))
            .where(*in_range, E.ledger == "stored_value")
            .group_by(E.kind)
            .order_by(E.kind)
        )
    )
    points_flows = tuple(
        (k, int(p))
        for k, p in conn.execute(
            select(E.kind, func.sum(E.points))
            .where(*in_range, E.ledger == "points")
            .group_by(E.kind)
            .order_by(E.kind)
        )
    )
    active = conn.execute(
        select(func.count(distinct(R.member_id))).where(*sales_where, R.member_id != "")
    ).scalar_one()
    return MemberFacts(
        "*",
        int(total),
        int(new),
        int(active),
        tiers,
        int(receipts_n),
        int(sales),
        int(positive),
        int(owed),
        int(sv_paid),
        int(sv_bonus),
        sv_flows,
        points_flows,
    )


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()
