"""Member analysis: active and new members, spend per tier, share of sales, liabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from store_server.domain.money import FEN_PER_YUAN, div_round_half_up
from store_server.reports.arith import average, share_bp
from store_server.reports.member_facts import MemberFacts, TierFact

SV_KINDS = {"topup": "储值充值", "spend": "储值消费", "refund": "储值退回", "cash_out": "储值退款"}
POINTS_KINDS = {
    "earn": "积分发放",
    "redeem": "积分抵现",
    "expire": "积分过期",
    "reverse": "退货冲回积分",
    "refund": "退货返还积分",
    "gift": "积分兑换",
}


@dataclass(frozen=True, slots=True)
class SummaryRow:
    label: str
    count: int | None  # members, receipts or points, as the label says
    amount_fen: int | None
    share_bp: int | None


@dataclass(frozen=True, slots=True)
class TierRow:
    tier: str
    name: str
    members: int
    receipts: int
    sales_fen: int
    per_member_fen: int
    share_bp: int | None  # of the members' sales


def points_value_fen(points: int, redeem_points_per_yuan: int) -> int:
    """What `points` pay at the till, in fen (100 points = 1 yuan by default)."""
    return div_round_half_up(points * FEN_PER_YUAN, redeem_points_per_yuan)


def _sum(facts: Sequence[MemberFacts]) -> MemberFacts:
    """Several stores' member facts as one (HQ); one store's as they are."""
    if len(facts) == 1:
        return facts[0]
    tiers: dict[str, list[int]] = {}
    for f in facts:
        for t in f.tiers:
            a = tiers.setdefault(t.tier, [0, 0, 0])
            a[0] += t.members
            a[1] += t.receipts
            a[2] += t.sales_fen
    sv: dict[str, list[int]] = {}
    pts: dict[str, int] = {}
    for f in facts:
        for k, p, b in f.sv_flows:
            a = sv.setdefault(k, [0, 0])
            a[0] += p
            a[1] += b
        for k, p in f.points_flows:
            pts[k] = pts.get(k, 0) + p
    return MemberFacts(
        "*",
        *(sum(getattr(f, name) for f in facts) for name in ("members_total", "new_members")),
        sum(f.active_members for f in facts),
        tuple(TierFact(t, *a) for t, a in sorted(tiers.items())),
        *(
            sum(getattr(f, name) for f in facts)
            for name in (
                "receipts",
                "sales_fen",
                "points_balance",
                "points_owed",
                "sv_paid_fen",
                "sv_bonus_fen",
            )
        ),
        tuple((k, a[0], a[1]) for k, a in sorted(sv.items())),
        tuple(sorted(pts.items())),
    )


def member_summary(
    facts: Sequence[MemberFacts], *, redeem_points_per_yuan: int
) -> list[SummaryRow]:
    """Members, their share of sales, and what the store owes them (points, stored value)."""
    f = _sum(facts)
    member_receipts = sum(t.receipts for t in f.tiers)
    member_sales = sum(t.sales_fen for t in f.tiers)
    rows = [
        SummaryRow("会员总数", f.members_total, None, None),
        SummaryRow("新会员", f.new_members, None, None),
        SummaryRow("活跃会员", f.active_members, None, share_bp(f.active_members, f.members_total)),
        SummaryRow("会员消费", member_receipts, member_sales, share_bp(member_sales, f.sales_fen)),
        SummaryRow("全部销售", f.receipts, f.sales_fen, None),
        SummaryRow(
            "积分余额 (负债)",
            f.points_balance,
            points_value_fen(f.points_balance, redeem_points_per_yuan),
            None,
        ),
        SummaryRow(
            "欠积分", f.points_owed, points_value_fen(f.points_owed, redeem_points_per_yuan), None
        ),
        SummaryRow("储值余额 本金 (负债)", None, f.sv_paid_fen, None),
        SummaryRow("储值余额 赠送", None, f.sv_bonus_fen, None),
    ]
    for kind, paid, bonus in f.sv_flows:
        name = SV_KINDS.get(kind, kind)
        rows.append(SummaryRow(f"{name} 本金", None, paid, None))
        if bonus:
            rows.append(SummaryRow(f"{name} 赠送", None, bonus, None))
    for kind, points in f.points_flows:
        rows.append(SummaryRow(POINTS_KINDS.get(kind, kind), points, None, None))
    return rows


def spend_per_tier(facts: Sequence[MemberFacts], tier_names: Mapping[str, str]) -> list[TierRow]:
    """Members who bought, receipts and sales per (current) tier."""
    f = _sum(facts)
    total = sum(t.sales_fen for t in f.tiers)
    order = list(tier_names)
    rows = [
        TierRow(
            t.tier,
            tier_names.get(t.tier, t.tier),
            t.members,
            t.receipts,
            t.sales_fen,
            average(t.sales_fen, t.members),
            share_bp(t.sales_fen, total),
        )
        for t in f.tiers
    ]
    return sorted(rows, key=lambda r: (order.index(r.tier) if r.tier in order else 99, r.tier))
