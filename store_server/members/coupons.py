"""Member coupons: issued (birthday, campaigns), single use, valid between two dates.

A coupon's rule is a promotion of type "coupon" (amount or percent off, a
minimum spend, an optional product/category scope), priced by the same
engine as every promotion once it is applied to a basket.
"""

from __future__ import annotations

import json
from calendar import monthrange
from datetime import date

from sqlalchemy import Connection, select

from store_server.config import Config
from store_server.db.member_models import MemberCoupon
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from store_server.domain.promotions import codec
from store_server.domain.promotions.model import Coupon, Promotion
from store_server.members import records
from store_server.members.records import MemberRow

_COUPONS = MemberCoupon.__table__


def parse_definition(text: str, *, coupon_id: str, zone: str) -> Promotion:
    """A coupon's promotion; its id is the coupon's so two coupons never merge."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument("definition", f"not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise InvalidArgument("definition", "a JSON object")
    data = {**data, "promo_id": f"coupon:{coupon_id}"[:36]}
    promo = codec.from_dict(data, zone=zone)
    if not isinstance(promo.rule, Coupon):
        raise InvalidArgument("definition.rule", 'a coupon ("type": "coupon")')
    return promo


def issue(
    uow: UnitOfWork,
    config: Config,
    *,
    coupon_id: str,
    member_id: str,
    campaign: str,
    definition: str,
    valid_from: date,
    valid_until: date,
) -> dict:
    if not 1 <= len(coupon_id) <= 40:
        raise InvalidArgument("coupon_id", "1-40 characters")
    if not 1 <= len(campaign) <= 40:
        raise InvalidArgument("campaign", "1-40 characters")
    if valid_until < valid_from:
        raise InvalidArgument("valid_until", "must not be before valid_from")
    promo = parse_definition(definition, coupon_id=coupon_id, zone=config.timezone)
    records.require(uow.conn, member_id)
    existing = uow.conn.execute(select(MemberCoupon).where(MemberCoupon.coupon_id == coupon_id))
    row = existing.first()
    if row is not None:
        if row.member_id != member_id or row.definition != definition:
            raise AlreadyExists(f"coupon {coupon_id} exists", reason="COUPON_EXISTS")
        return dict(row._mapping)
    values = {
        "coupon_id": coupon_id,
        "member_id": member_id,
        "campaign": campaign,
        "definition": definition,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "status": "issued",
        "sale_id": None,
        "issued_at": uow.now,
    }
    uow.conn.execute(_COUPONS.insert(), values)
    uow.audit(
        "member.coupon_issued",
        f"member:{member_id}",
        detail={"coupon_id": coupon_id, "campaign": campaign, "name": promo.name},
    )
    uow.change("member_coupon", coupon_id, values)
    return values


def issue_birthday_coupon(uow: UnitOfWork, config: Config, member: MemberRow, today: date) -> None:
    """The birthday coupon, valid for the rest of the birthday month; once a year."""
    cfg = config.members
    definition = json.dumps(
        {
            "name": "生日券",
            "rule": {
                "type": "coupon",
                "amount_fen": cfg.birthday_coupon_fen,
                "min_spend_fen": cfg.birthday_coupon_min_spend_fen,
            },
        },
        ensure_ascii=False,
    )
    last_day = date(today.year, today.month, monthrange(today.year, today.month)[1])
    issue(
        uow,
        config,
        coupon_id=f"BD-{member.member_id}-{today.year}",
        member_id=member.member_id,
        campaign=f"birthday-{today.year}",
        definition=definition,
        valid_from=today,
        valid_until=last_day,
    )
    records.update_member(uow.conn, member.member_id, birthday_coupon_year=today.year)


def usable(conn: Connection, coupon_id: str, member_id: str, today: date) -> str:
    """The coupon's definition if the member may use it today, else a clear refusal."""
    row = conn.execute(
        select(
            MemberCoupon.member_id,
            MemberCoupon.status,
            MemberCoupon.valid_from,
            MemberCoupon.valid_until,
            MemberCoupon.definition,
        ).where(MemberCoupon.coupon_id == coupon_id)
    ).first()
    if row is None or row.member_id != member_id:
        raise NotFound(f"the member has no coupon {coupon_id}", reason="UNKNOWN_COUPON")
    if row.status != "issued":
        raise FailedPrecondition(f"coupon {coupon_id} was already used", reason="COUPON_USED")
    if not row.valid_from <= today <= row.valid_until:
        raise FailedPrecondition(
            f"coupon {coupon_id} is valid {row.valid_from} to {row.valid_until}",
            reason="COUPON_NOT_VALID",
        )
    return row.definition


def listing(conn: Connection, member_id: str) -> list:
    return list(
        conn.execute(
            select(MemberCoupon)
            .where(MemberCoupon.member_id == member_id)
            .order_by(MemberCoupon.valid_until, MemberCoupon.coupon_id)
        )
    )


def coupon_name(definition: str) -> str:
    try:
        return str(json.loads(definition).get("name", ""))
    except (ValueError, AttributeError):
        return ""
