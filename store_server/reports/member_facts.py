"""Member facts: registrations, member sales per tier and the ledgers' balances.

Balances are summed from the append-only ledgers up to the scope's end, not
read from the members' cached balances, so a past range shows what was owed
then. Entries carry their store id, so HQ can sum the same facts per store.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from store_server.db import fast
from store_server.reports.facts import sales_filter, store_filter
from store_server.reports.scope import ReportScope


@dataclass(frozen=True, slots=True)
class TierFact:
    tier: str
    members: int  # members of the tier who bought in the scope
    receipts: int
    sales_fen: int


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """Members and their ledgers; balances are as of the scope's end."""

    store_id: str
    members_total: int  # registered before the scope's end
    new_members: int  # registered within the scope
    active_members: int  # bought at least once in the scope
    tiers: tuple[TierFact, ...]
    receipts: int  # every sale in the scope, members or not
    sales_fen: int
    points_balance: int  # positive balances only
    points_owed: int  # negative balances (points spent, then returned), as a negative sum
    sv_paid_fen: int  # stored value the members paid for and still hold
    sv_bonus_fen: int  # bonus stored value still held
    sv_flows: tuple[tuple[str, int, int], ...]  # (kind, paid, bonus) within the scope
    points_flows: tuple[tuple[str, int], ...]  # (kind, points) within the scope


def member_facts(conn: Connection, scope: ReportScope) -> MemberFacts:
    where, params = sales_filter(scope)
    store, sp = store_filter(scope)
    start, end = scope.start_utc, scope.end_utc
    tiers = tuple(
        TierFact(t, int(m), int(n), int(f))
        for t, m, n, f in fast.execute(
            conn,
            "SELECT m.tier, count(DISTINCT s.member_id), count(*), sum(s.total_fen) FROM sales s "
            f"JOIN members m ON m.member_id = s.member_id WHERE {where} AND {store} "
            "GROUP BY m.tier ORDER BY m.tier",
            params + sp,
        )
    )
    ((receipts, sales),) = fast.execute(
        conn,
        f"SELECT count(*), coalesce(sum(s.total_fen), 0) FROM sales s WHERE {where} AND {store}",
        params + sp,
    )
    ((total, new),) = fast.execute(
        conn,
        "SELECT count(*), coalesce(sum(created_at >= ?), 0) FROM members WHERE created_at < ?",
        (start, end),
    )
    ((positive, owed),) = fast.execute(
        conn,
        "SELECT coalesce(sum(max(b, 0)), 0), coalesce(sum(min(b, 0)), 0) FROM "
        "(SELECT sum(points) AS b FROM points_entries WHERE created_at < ? GROUP BY member_id)",
        (end,),
    )
    ((sv_paid, sv_bonus),) = fast.execute(
        conn,
        "SELECT coalesce(sum(paid_fen), 0), coalesce(sum(bonus_fen), 0) "
        "FROM stored_value_entries WHERE created_at < ?",
        (end,),
    )
    sv_flows = tuple(
        (k, int(p), int(b))
        for k, p, b in fast.execute(
            conn,
            "SELECT kind, sum(paid_fen), sum(bonus_fen) FROM stored_value_entries "
            "WHERE created_at >= ? AND created_at < ? GROUP BY kind ORDER BY kind",
            (start, end),
        )
    )
    points_flows = tuple(
        (k, int(p))
        for k, p in fast.execute(
            conn,
            "SELECT kind, sum(points) FROM points_entries "
            "WHERE created_at >= ? AND created_at < ? GROUP BY kind ORDER BY kind",
            (start, end),
        )
    )
    return MemberFacts(
        scope.store_id,
        int(total),
        int(new),
        sum(t.members for t in tiers),
        tiers,
        int(receipts),
        int(sales),
        int(positive),
        int(owed),
        int(sv_paid),
        int(sv_bonus),
        sv_flows,
        points_flows,
    )
