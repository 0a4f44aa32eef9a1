"""proto <-> domain for members: credentials in, masked members out."""

from __future__ import annotations

from store_server.domain.members.identity import mask_phone
from store_server.members.credentials import Credential
from store_server.members.deposits import DepositPayment, DepositResult
from store_server.members.records import MemberRow
from store_server.members.registry import Members
from store_server.services.convert import money
from tillpoint.v1 import members_pb2


def credential(c: members_pb2.MemberCredential) -> Credential:
    return Credential(
        card_no=c.card_no.strip(),
        qr_payload=c.qr_payload.strip(),
        phone=c.phone.strip(),
        pin=c.pin,
        member_id=c.member_id.strip(),
    )


def deposit_payment(p: members_pb2.DepositPayment) -> DepositPayment:
    return DepositPayment(kind=p.kind or "cash", reference=p.reference.strip())


def member(m: MemberRow, members: Members) -> members_pb2.Member:
    tiers = members.config.members.tiers
    tier = next((t for t in tiers if t.code == m.tier), tiers[0])
    today = members.today()
    coupons, has_photo, count_cards = members.screen_facts(m.member_id)
    out = members_pb2.Member(
        member_id=m.member_id,
        card_no=m.card_no,
        masked_phone=mask_phone(m.phone),
        name=m.name,
        tier=m.tier,
        tier_name=tier.name,
        tier_discount_bp=tier.discount_bp,
        card_discount_bp=m.card_discount_bp,
        status=m.status,
        points=m.points,
        stored_value=money(m.stored_value_fen),
        stored_value_paid=money(m.sv_paid_fen),
        stored_value_bonus=money(m.sv_bonus_fen),
        coupons=coupons,
        has_photo=has_photo,
        birthday_month=m.birthday is not None and m.birthday.month == today.month,
        home_store=m.home_store,
    )
    for card in count_cards:
        out.count_cards.add(
            card_id=card.card_id,
            product_id=card.product_id,
            name=card.name,
            remaining=card.remaining,
            total_uses=card.total_uses,
            expires_on=card.expires_on.isoformat() if card.expires_on else "",
        )
    return out


def deposit(result: DepositResult, members: Members) -> members_pb2.MemberDepositResult:
    return members_pb2.MemberDepositResult(
        deposit_id=result.deposit_id,
        member=member(result.member, members),
        amount=money(result.amount_fen),
        bonus=money(result.bonus_fen),
        open_drawer=result.tender == "cash",
    )
