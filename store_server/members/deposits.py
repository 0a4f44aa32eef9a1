"""Money taken for members at the till: stored-value top-ups and count cards, and
stored value paid back (退卡).

Each is a document with a client-generated id (a retry does it once), in the
till's shift like a sale, so the drawer's expected cash includes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from store_server.auth import Principal
from store_server.config import Config
from store_server.db import catalog_repo, shift_repo
from store_server.db.member_models import CountCardRow, MemberDeposit
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.members.stored_value import bonus_for, check_topup
from store_server.domain.money import MAX_FEN
from store_server.members import ledger, records
from store_server.members.credentials import check_active
from store_server.members.ledger import Source
from store_server.members.offline_spend import refuse_offline_cash_out
from store_server.members.records import MemberRow

DEPOSIT_TENDERS = ("cash", "bank_card", "mobile")
_DEPOSITS = MemberDeposit.__table__


@dataclass(frozen=True, slots=True)
class DepositPayment:
    kind: str
    reference: str = ""


@dataclass(frozen=True, slots=True)
class DepositResult:
    deposit_id: str
    member: MemberRow
    amount_fen: int
    bonus_fen: int
    tender: str


def _check_payment(payment: DepositPayment) -> DepositPayment:
    if payment.kind not in DEPOSIT_TENDERS:
        raise InvalidArgument("payment.kind", "cash, bank_card or mobile")
    if payment.kind != "cash" and not payment.reference.strip():
        raise InvalidArgument("payment.reference", "card and mobile payments need their reference")
    if len(payment.reference) > 64:
        raise InvalidArgument("payment.reference", "at most 64 characters")
    return payment


def _replay(uow: UnitOfWork, deposit_id: str, kind: str) -> DepositResult | None:
    row = uow.conn.execute(
        select(MemberDeposit).where(MemberDeposit.deposit_id == deposit_id)
    ).first()
    if row is None:
        return None
    if row.kind != kind:
        raise InvalidArgument("id", f"already used for a {row.kind}")
    member = records.require(uow.conn, row.member_id)
    return DepositResult(deposit_id, member, row.amount_fen, row.bonus_fen, row.tender)


def _record(
    uow: UnitOfWork,
    who: Principal,
    *,
    deposit_id: str,
    kind: str,
    member_id: str,
    amount_fen: int,
    bonus_fen: int,
    payment: DepositPayment,
    day: str,
) -> None:
    if shift_repo.day_closed_fast(uow.conn, day):
        raise FailedPrecondition(f"business day {day} is closed", reason="DAY_CLOSED")
    values = {
        "deposit_id": deposit_id,
        "member_id": member_id,
        "kind": kind,
        "amount_fen": amount_fen,
        "bonus_fen": bonus_fen,
        "tender": payment.kind,
        "reference": payment.reference.strip(),
        "shift_id": shift_repo.open_shift_id(uow.conn, who.device_id),
        "business_day": day,
        "operator_id": who.operator_id,
        "device_id": who.device_id,
        "created_at": uow.now,
    }
    uow.conn.execute(_DEPOSITS.insert(), values)
    uow.change("member_deposit", deposit_id, values)


def top_up(
    uow: UnitOfWork,
    who: Principal,
    config: Config,
    *,
    topup_id: str,
    member_id: str,
    amount_fen: int,
    payment: DepositPayment,
    day: str,
) -> DepositResult:
    """充值: the paid amount and the bonus (充100送10) go to their own buckets."""
    topup_id = check_uuid(topup_id, "topup_id")
    check_topup(amount_fen, max_fen=config.members.max_topup_fen)
    _check_payment(payment)
    done = _replay(uow, topup_id, "topup")
    if done is not None:
        return done
    check_active(records.require(uow.conn, member_id))
    bonus = bonus_for(amount_fen, config.members.bonus_rules)
    _record(
        uow,
        who,
        deposit_id=topup_id,
        kind="topup",
        member_id=member_id,
        amount_fen=amount_fen,
        bonus_fen=bonus,
        payment=payment,
        day=day,
    )
    ledger.stored_value_entry(
        uow, config.store_id, member_id, "topup", amount_fen, bonus, Source("topup", topup_id)
    )
    uow.audit(
        "member.topup",
        f"member:{member_id}",
        detail={"topup_id": topup_id, "amount_fen": amount_fen, "bonus_fen": bonus},
    )
    return DepositResult(
        topup_id, records.require(uow.conn, member_id), amount_fen, bonus, payment.kind
    )


def refund_stored_value(
    uow: UnitOfWork,
    who: Principal,
    config: Config,
    *,
    refund_id: str,
    member_id: str,
    payment: DepositPayment,
    day: str,
) -> DepositResult:
    """退卡: the member gets back what they paid and still hold; the bonus is forfeited."""
    refund_id = check_uuid(refund_id, "refund_id")
    _check_payment(payment)
    done = _replay(uow, refund_id, "sv_refund")
    if done is not None:
        return done
    member = records.require(uow.conn, member_id)
    if member.stored_value_fen <= 0:
        raise FailedPrecondition("no stored value to pay back", reason="NO_BALANCE")
    refuse_offline_cash_out(uow, config, member)  # 一卡通 while HQ is unreachable
    paid, bonus = member.sv_paid_fen, member.sv_bonus_fen
    _record(
        uow,
        who,
        deposit_id=refund_id,
        kind="sv_refund",
        member_id=member_id,
        amount_fen=-paid,
        bonus_fen=-bonus,
        payment=payment,
        day=day,
    )
    ledger.stored_value_entry(
        uow, config.store_id, member_id, "cash_out", -paid, -bonus, Source("sv_refund", refund_id)
    )
    uow.audit(
        "member.sv_refund",
        f"member:{member_id}",
        detail={"refund_id": refund_id, "paid_back_fen": paid, "bonus_forfeited_fen": bonus},
    )
    return DepositResult(
        refund_id, records.require(uow.conn, member_id), -paid, -bonus, payment.kind
    )


def sell_count_card(
    uow: UnitOfWork,
    who: Principal,
    config: Config,
    *,
    card_id: str,
    member_id: str,
    product_id: int,
    uses: int,
    expires_on: date | None,
    price_fen: int,
    payment: DepositPayment,
    day: str,
    today: date,
) -> DepositResult:
    """计次卡: N uses of one product or service, paid now."""
    card_id = check_uuid(card_id, "card_id")
    if not 0 < uses <= 1000:
        raise InvalidArgument("uses", "1 to 1000")
    if not 0 <= price_fen <= MAX_FEN:
        raise InvalidArgument("price", "an amount in fen")
    if expires_on is not None and expires_on < today:
        raise InvalidArgument("expires_on", "already past")
    _check_payment(payment)
    done = _replay(uow, card_id, "count_card")
    if done is not None:
        return done
    check_active(records.require(uow.conn, member_id))
    product = catalog_repo.get_product(uow.conn, config.store_id, product_id=product_id)
    if product is None:
        raise NotFound(f"no product {product_id}", reason="UNKNOWN_PRODUCT")
    _record(
        uow,
        who,
        deposit_id=card_id,
        kind="count_card",
        member_id=member_id,
        amount_fen=price_fen,
        bonus_fen=0,
        payment=payment,
        day=day,
    )
    values = {
        "card_id": card_id,
        "member_id": member_id,
        "product_id": product_id,
        "name": product.name[:40],
        "total_uses": uses,
        "remaining": uses,
        "expires_on": expires_on,
        "created_at": uow.now,
    }
    uow.conn.execute(CountCardRow.__table__.insert(), values)
    # Product ids are this store's own: the SKU names the product at the
    # member's other stores (一卡通).
    uow.change("count_card", card_id, {**values, "sku": product.sku})
    uow.audit(
        "member.count_card",
        f"member:{member_id}",
        detail={"card_id": card_id, "product_id": product_id, "uses": uses, "price_fen": price_fen},
    )
    return DepositResult(card_id, records.require(uow.conn, member_id), price_fen, 0, payment.kind)
