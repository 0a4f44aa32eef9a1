"""What a sale and a return do to their member, inside the document's transaction.

A sale spends stored value, points, count-card uses and coupons, earns
points and may lift the member's tier; all of it commits with the sale or
not at all, and a replayed sale id never reaches here (the checkout answers
a replay with the first receipt). A return reverses each part in proportion
to what it refunds of the sale, cumulatively, so partial returns add up to a
full one exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection, select

from store_server.config import Config
from store_server.db import fast
from store_server.db.basket_repo import StoredLine
from store_server.db.member_models import CountCardRow, CountCardUse, MemberCoupon, SaleMember
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.allocation import allocate, share
from store_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from store_server.domain.members import points as points_rules
from store_server.domain.members.count_cards import CountCard, check_use
from store_server.domain.members.identity import mask_phone
from store_server.domain.members.stored_value import split_spend
from store_server.domain.members.tiers import tier_after, tier_by_code
from store_server.domain.money import MILLI
from store_server.domain.pricing import PricedBasket
from store_server.domain.receipt import ReceiptMember
from store_server.domain.tender import MEMBER_TENDERS, PaymentInput, TenderKind, TenderResult
from store_server.members import coupons, ledger, records
from store_server.members.credentials import check_active
from store_server.members.ledger import Source
from store_server.members.offline_spend import offline_day_for_spend
from store_server.members.records import MemberRow

_SALE_MEMBERS = SaleMember.__table__
_USES = CountCardUse.__table__


# -- before the tender is settled ---------------------------------------------------


def price_count_cards(
    conn: Connection,
    member_id: str | None,
    lines: Sequence[StoredLine],
    priced: PricedBasket,
    payments: list[PaymentInput],
    today: date,
) -> list[PaymentInput]:
    """Member tenders need the basket's member; a count card pays for the uses it covers."""
    out = []
    taken: dict[int, int] = {}  # product id -> units already covered by earlier cards
    for i, p in enumerate(payments):
        if p.kind in MEMBER_TENDERS and member_id is None:
            raise FailedPrecondition(
                f"payments[{i}]: {p.kind} needs a member on the basket", reason="NO_MEMBER"
            )
        if p.kind is not TenderKind.COUNT_CARD:
            out.append(p)
            continue
        if p.amount_fen:
            raise InvalidArgument(f"payments[{i}].amount", "a count card pays by uses, not amount")
        if not 0 < p.uses <= 1000:
            raise InvalidArgument(f"payments[{i}].uses", "at least one use")
        card = _count_card(conn, p.reference, member_id, field=f"payments[{i}].reference")
        check_use(card, p.uses, today=today)
        amount = _units_amount(lines, priced, card.product_id, taken, p.uses, index=i)
        out.append(replace(p, amount_fen=amount))
    return out


def _count_card(conn: Connection, card_id: str, member_id: str | None, *, field: str) -> CountCard:
    row = conn.execute(
        select(
            CountCardRow.product_id,
            CountCardRow.remaining,
            CountCardRow.expires_on,
            CountCardRow.member_id,
        ).where(CountCardRow.card_id == card_id)
    ).first()
    if row is None or row.member_id != member_id:
        raise NotFound(f"{field}: the member has no count card {card_id}", reason="UNKNOWN_CARD")
    return CountCard(card_id, row.product_id, row.remaining, row.expires_on)


def _units_amount(
    lines: Sequence[StoredLine],
    priced: PricedBasket,
    product_id: int,
    taken: dict[int, int],
    uses: int,
    *,
    index: int,
) -> int:
    """What `uses` units of the product cost in this basket, after its discounts."""
    skip = taken.get(product_id, 0)
    need = uses
    amount = 0
    for line, p in zip(lines, priced.lines, strict=True):
        if line.product_id != product_id or line.gift or line.pack_factor != 1:
            continue
        units = line.quantity_milli // MILLI
        usable = max(units - skip, 0)
        skip = max(skip - units, 0)
        take = min(usable, need)
        if take:
            done = units - usable
            amount += share(p.net_amount_fen, done + take, units) - share(
                p.net_amount_fen, done, units
            )
            need -= take
        if not need:
            break
    if need:
        raise InvalidArgument(
            f"payments[{index}].uses",
            f"the basket has {uses - need} unit(s) of the card's product, not {uses}",
        )
    taken[product_id] = taken.get(product_id, 0) + uses
    return amount


# -- inside the sale's transaction ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SaleLineFacts:
    category: str
    paid_fen: int
    gift: bool


def apply_sale(
    uow: UnitOfWork,
    config: Config,
    *,
    sale_id: str,
    member: MemberRow,
    coupon_ids: Sequence[str],
    tender: TenderResult,
    lines: Sequence[SaleLineFacts],
    today: date,
) -> ReceiptMember:
    """`member` as read in this transaction (the checkout priced the sale with it)."""
    conn = uow.conn
    store = config.store_id
    rules = config.members.points
    member_id = member.member_id
    check_active(member)  # lost in the meantime: refused as everywhere
    source = Source("sale", sale_id)

    by_kind: dict[TenderKind, int] = {}
    for p in tender.payments:
        by_kind[p.kind] = by_kind.get(p.kind, 0) + p.applied_fen
    sv_fen = by_kind.get(TenderKind.STORED_VALUE, 0)
    points_fen = by_kind.get(TenderKind.POINTS, 0)
    card_fen = by_kind.get(TenderKind.COUNT_CARD, 0)

    sv_paid = sv_bonus = 0
    if sv_fen:
        sv_paid, sv_bonus = split_spend(member.sv_paid_fen, member.sv_bonus_fen, sv_fen)
        # A member of another store while HQ is unreachable: the offline floor limit.
        offline_day = offline_day_for_spend(uow, config, member, sv_fen)
        ledger.stored_value_entry(
            uow, store, member_id, "spend", -sv_paid, -sv_bonus, source, offline_day=offline_day
        )

    redeemed = 0
    if points_fen:
        redeemed = points_rules.points_for_amount(points_fen, rules, field="payments.amount")
        if redeemed > member.points:
            raise FailedPrecondition(
                f"the member has {member.points} points, {redeemed} are needed",
                reason="INSUFFICIENT_POINTS",
            )
        taken = points_rules.consume(ledger.lots(uow, member_id), redeemed, today=today)
        ledger.take_from_lots(uow, taken)
        ledger.points_entry(uow, store, member_id, "redeem", -redeemed, source)

    card_uses = _use_count_cards(uow, sale_id, tender, today)
    _redeem_coupons(uow, sale_id, member_id, coupon_ids, today)

    # Points and spend count money only: not what points or count cards paid.
    unearned = allocate(points_fen + card_fen, [line.paid_fen for line in lines])
    earn_lines = [
        points_rules.EarnLine(line.category, line.paid_fen - cut, line.gift)
        for line, cut in zip(lines, unearned, strict=True)
    ]
    earn_base = sum(max(e.paid_fen, 0) for e in earn_lines if not e.gift)
    tier = tier_by_code(config.members.tiers, member.tier)
    earned = points_rules.earn_points(
        earn_lines, tier_multiplier_bp=tier.points_multiplier_bp, rules=rules
    )
    points_before_earning = member.points - redeemed  # negative: owed from a return
    if earned:
        _earn(uow, config, member.member_id, earned, points_before_earning, source, today)
    records.add_to_balances(conn, member_id, spend_fen=earn_base)
    new_tier = tier_after(
        config.members.tiers,
        member.tier,
        cumulative_spend_fen=member.spend_total_fen + earn_base,
        cumulative_points=member.points_earned_total + earned,
    )
    upgraded = ""
    if new_tier.code != member.tier:
        records.update_member(conn, member_id, tier=new_tier.code)
        upgraded = new_tier.name
        uow.audit(
            "member.tier_upgrade",
            f"member:{member_id}",
            detail={"from": member.tier, "to": new_tier.code, "sale_id": sale_id},
        )
        uow.change("member_tier", member_id, {"tier": new_tier.code, "sale_id": sale_id})

    fast.insert_rows(
        conn,
        _SALE_MEMBERS,
        [
            {
                "sale_id": sale_id,
                "member_id": member_id,
                "points_earned": earned,
                "points_redeemed": redeemed,
                "sv_paid_fen": sv_paid,
                "sv_bonus_fen": sv_bonus,
                "coupons": json.dumps(list(coupon_ids)),
                "detail": json.dumps({"count_cards": card_uses, "earn_base_fen": earn_base}),
            }
        ],
    )
    # The balances as the ledger entries above moved them (no second read).
    return ReceiptMember(
        member_id=member_id,
        masked_phone=mask_phone(member.phone),
        tier_name=new_tier.name,
        points_earned=earned,
        points_redeemed=redeemed,
        points_balance=points_before_earning + earned,
        stored_value_fen=member.stored_value_fen - sv_paid - sv_bonus,
        upgraded_to=upgraded,
    )


def _earn(
    uow: UnitOfWork,
    config: Config,
    member_id: str,
    points: int,
    balance_before: int,
    source: Source,
    today: date,
) -> None:
    """Earned points: what the member owes from an earlier return is paid off first."""
    rules = config.members.points
    entry = ledger.earn(
        uow,
        config.store_id,
        member_id,
        points,
        source,
        today=today,
        expires_on=points_rules.lot_expiry(today, rules),
    )
    owed = max(-balance_before, 0)
    if owed:
        # The lot keeps only what is left once the debt is paid.
        ledger.take_from_lots(uow, [(entry, min(owed, points))])


def _use_count_cards(
    uow: UnitOfWork, source_id: str, tender: TenderResult, today: date
) -> dict[str, int]:
    uses: dict[str, int] = {}
    for p in tender.payments:
        if p.kind is TenderKind.COUNT_CARD:
            uses[p.reference] = uses.get(p.reference, 0) + p.uses
    for card_id, n in uses.items():
        _move_uses(uow, source_id, card_id, -n)
    return uses


def _move_uses(uow: UnitOfWork, source_id: str, card_id: str, delta: int) -> None:
    rows = fast.execute(
        uow.conn,
        "UPDATE count_cards SET remaining = remaining + ? WHERE card_id = ? AND "
        "remaining + ? >= 0 RETURNING remaining",
        (delta, card_id, delta),
    )
    if not rows:
        raise FailedPrecondition(
            f"count card {card_id} has not enough uses left", reason="COUNT_CARD_EXHAUSTED"
        )
    fast.insert_rows(
        uow.conn,
        _USES,
        [{"source_id": source_id, "card_id": card_id, "uses": delta, "created_at": uow.now}],
    )
    uow.change(
        "count_card_use",
        f"{source_id}:{card_id}",
        {"uses": delta, "source_id": source_id, "card_id": card_id},
    )


def _redeem_coupons(
    uow: UnitOfWork, sale_id: str, member_id: str, coupon_ids: Sequence[str], today: date
) -> None:
    for coupon_id in coupon_ids:
        # Checked again here: the coupon may have been used at another till, or
        # run out, since it was put on this basket.
        coupons.usable(uow.conn, coupon_id, member_id, today)
        fast.execute(
            uow.conn,
            "UPDATE member_coupons SET status = 'redeemed', sale_id = ? WHERE coupon_id = ?",
            (sale_id, coupon_id),
        )
        uow.change("member_coupon", coupon_id, {"status": "redeemed", "sale_id": sale_id})


# -- returns ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SaleRefund:
    """What the return already worked out about the sale it refunds."""

    sale_id: str
    total_fen: int  # what the sale's tenders paid
    refunded_before_fen: int  # by earlier returns of this sale
    # (kind, reference) as the refund payments name them -> (paid, refunded before)
    tenders: dict[tuple[str, str], tuple[int, int]]


def apply_return(
    uow: UnitOfWork,
    config: Config,
    *,
    return_id: str,
    sale: SaleRefund,
    refund_fen: int,
    payments: Sequence[tuple[str, int, str]],
    today: date,
) -> ReceiptMember | None:
    """Reverse the member side of a sale for this return."""
    conn = uow.conn
    sm = conn.execute(select(SaleMember).where(SaleMember.sale_id == sale.sale_id)).first()
    if sm is None:
        return None
    store = config.store_id
    source = Source("return", return_id)
    member = records.require(conn, sm.member_id)
    total = sale.total_fen
    before = sale.refunded_before_fen
    after = before + refund_fen
    detail = json.loads(sm.detail)

    # Points earned on the sale go back in proportion to the money refunded.
    reversed_points = share(sm.points_earned, after, total) - share(sm.points_earned, before, total)
    if reversed_points:
        taken, owed = points_rules.reverse(member.points, reversed_points)
        lots = ledger.lots(uow, member.member_id)
        available = sum(lot.remaining for lot in lots if lot.expires_on >= today)
        ledger.take_from_lots(uow, points_rules.consume(lots, min(taken, available), today=today))
        ledger.points_entry(uow, store, member.member_id, "reverse", -reversed_points, source)
        if owed:
            uow.audit(
                "member.points_owed",
                f"member:{member.member_id}",
                detail={"return_id": return_id, "owed": owed},
            )
    spend_back = share(detail.get("earn_base_fen", 0), after, total) - share(
        detail.get("earn_base_fen", 0), before, total
    )
    records.add_to_balances(conn, member.member_id, spend_fen=-spend_back)

    # Member tenders are refunded to where they came from, in proportion.
    given_back = 0
    for kind, amount, ref in payments:
        paid, prior = sale.tenders[(kind, ref)]
        if kind == TenderKind.STORED_VALUE:
            sv_total = sm.sv_paid_fen + sm.sv_bonus_fen
            back_paid = share(sm.sv_paid_fen, prior + amount, sv_total) - share(
                sm.sv_paid_fen, prior, sv_total
            )
            ledger.stored_value_entry(
                uow, store, member.member_id, "refund", back_paid, amount - back_paid, source
            )
        elif kind == TenderKind.POINTS:
            back = share(sm.points_redeemed, prior + amount, paid) - share(
                sm.points_redeemed, prior, paid
            )
            if back:
                # Spent points come back as a fresh lot: they were the member's.
                ledger.earn(
                    uow,
                    store,
                    member.member_id,
                    back,
                    source,
                    today=today,
                    expires_on=points_rules.lot_expiry(today, config.members.points),
                    kind="refund",
                )
                given_back += back
        elif kind == TenderKind.COUNT_CARD:
            uses = detail.get("count_cards", {}).get(ref, 0)
            back = share(uses, prior + amount, paid) - share(uses, prior, paid)
            if back:
                _move_uses(uow, return_id, ref, back)

    if after >= total and sm.coupons != "[]":
        for coupon_id in json.loads(sm.coupons):
            conn.execute(
                MemberCoupon.__table__.update()
                .where(MemberCoupon.coupon_id == coupon_id, MemberCoupon.sale_id == sale.sale_id)
                .values(status="issued", sale_id=None)
            )
            uow.change("member_coupon", coupon_id, {"status": "issued", "return_id": return_id})
    after_member = records.require(conn, member.member_id)
    return ReceiptMember(
        member_id=member.member_id,
        masked_phone=mask_phone(member.phone),
        tier_name=tier_by_code(config.members.tiers, after_member.tier).name,
        points_earned=-reversed_points,
        points_redeemed=-given_back,
        points_balance=after_member.points,
        stored_value_fen=after_member.stored_value_fen,
    )
