"""tillpoint.v1.MemberService: decode, call store_server.members, encode."""

from __future__ import annotations

import grpc

from store_server.domain.dates import parse_date
from store_server.domain.errors import InvalidArgument
from store_server.interceptor import principal_of
from store_server.members import coupons, deposits, gifts, queries
from store_server.members.registry import Members, Registration
from store_server.services import member_convert as cv
from store_server.services.convert import money, ts
from store_server.shifts import Shifts
from tillpoint.v1 import members_pb2, members_pb2_grpc

MAX_LIST = 500


def _limit(value: int, default: int = 50) -> int:
    if value < 0:
        raise InvalidArgument("limit", "must not be negative")
    return min(value or default, MAX_LIST)


class MemberService(members_pb2_grpc.MemberServiceServicer):
    def __init__(self, members: Members, shifts: Shifts) -> None:
        self._members = members
        self._shifts = shifts

    def _forget_after(self, uow, member_id: str) -> None:
        uow.after_commit(lambda: self._members.book.forget(member_id))

    def RegisterMember(self, request, context: grpc.ServicerContext):
        m = self._members.register(
            principal_of(context),
            Registration(
                registration_id=request.registration_id,
                phone=request.phone,
                name=request.name,
                birthday=request.birthday,
                card_no=request.card_no,
                pin=request.pin,
                photo=request.photo,
                tier=request.tier,
                card_discount_bp=request.card_discount_bp,
            ),
        )
        return cv.member(m, self._members)

    def IdentifyMember(self, request, context: grpc.ServicerContext):
        m = self._members.identify(principal_of(context), cv.credential(request))
        return cv.member(m, self._members)

    def IssueQrCode(self, request, context: grpc.ServicerContext):
        payload, expires = self._members.issue_qr(cv.credential(request))
        return members_pb2.QrCode(payload=payload, expires_at=ts(expires))

    def _deposit(self, request, context: grpc.ServicerContext, make, **fields):
        """Name the member, then take or pay out their money in one unit of work."""
        who = principal_of(context)
        m = self._members.identify(who, cv.credential(request.member))
        with self._members.uow(who) as uow:
            result = make(
                uow,
                who,
                self._members.config,
                member_id=m.member_id,
                payment=cv.deposit_payment(request.payment),
                day=self._shifts.today(),
                **fields,
            )
            self._forget_after(uow, m.member_id)
        return cv.deposit(result, self._members)

    def TopUp(self, request, context: grpc.ServicerContext):
        return self._deposit(
            request,
            context,
            deposits.top_up,
            topup_id=request.topup_id,
            amount_fen=request.amount.fen,
        )

    def RefundStoredValue(self, request, context: grpc.ServicerContext):
        return self._deposit(
            request, context, deposits.refund_stored_value, refund_id=request.refund_id
        )

    def SellCountCard(self, request, context: grpc.ServicerContext):
        return self._deposit(
            request,
            context,
            deposits.sell_count_card,
            card_id=request.card_id,
            product_id=request.product_id,
            uses=request.uses,
            expires_on=parse_date(request.expires_on, "expires_on"),
            price_fen=request.price.fen,
            today=self._members.today(),
        )

    def IssueCoupon(self, request, context: grpc.ServicerContext):
        valid_from = parse_date(request.valid_from, "valid_from") or self._members.today()
        valid_until = parse_date(request.valid_until, "valid_until")
        if valid_until is None:
            raise InvalidArgument("valid_until", "a coupon needs its last day")
        with self._members.uow(principal_of(context)) as uow:
            row = coupons.issue(
                uow,
                self._members.config,
                coupon_id=request.coupon_id,
                member_id=request.member_id,
                campaign=request.campaign,
                definition=request.definition,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        return _coupon(row)

    def ListCoupons(self, request, context: grpc.ServicerContext):
        m = self._members.identify(principal_of(context), cv.credential(request))
        with self._members.read() as conn:
            rows = coupons.listing(conn, m.member_id)
        return members_pb2.ListCouponsResponse(coupons=[_coupon(r._mapping) for r in rows])

    def RedeemGift(self, request, context: grpc.ServicerContext):
        who = principal_of(context)
        m = self._members.for_spending(who, cv.credential(request.member), field="member")
        with self._members.uow(who) as uow:
            done = gifts.redeem_gift(
                uow,
                self._members.config,
                redemption_id=request.redemption_id,
                member_id=m.member_id,
                product_id=request.product_id,
                quantity=request.quantity or 1,
            )
            self._forget_after(uow, m.member_id)
        return members_pb2.RedeemGiftResponse(
            redemption_id=done.redemption_id,
            points=done.points,
            member=cv.member(done.member, self._members),
        )

    def ReportCardLost(self, request, context: grpc.ServicerContext):
        m = self._members.report_lost(principal_of(context), cv.credential(request.member))
        return cv.member(m, self._members)

    def ReplaceCard(self, request, context: grpc.ServicerContext):
        m = self._members.replace_card(
            principal_of(context), request.member_id, request.new_card_no
        )
        return cv.member(m, self._members)

    def MemberHistory(self, request, context: grpc.ServicerContext):
        m = self._members.identify(principal_of(context), cv.credential(request.member))
        with self._members.read() as conn:
            purchases, entries = queries.history(conn, m.member_id, _limit(request.limit))
        out = members_pb2.MemberHistoryResponse(member=cv.member(m, self._members))
        for p in purchases:
            out.purchases.add(
                receipt_no=p.receipt_no,
                store_id=p.store_id,
                total=money(p.total_fen),
                at=ts(p.at),
                points_earned=p.points_earned,
            )
        for e in entries:
            out.entries.add(
                entry_id=e.entry_id,
                ledger=e.ledger,
                kind=e.kind,
                points=e.points,
                paid=money(e.paid_fen),
                bonus=money(e.bonus_fen),
                source_kind=e.source_kind,
                source_id=e.source_id,
                store_id=e.store_id,
                at=ts(e.at),
            )
        return out

    def ListExpiringPoints(self, request, context: grpc.ServicerContext):
        today = self._members.today()
        before = parse_date(request.before, "before")
        if before is None:
            raise InvalidArgument("before", "the date the reminders look ahead to")
        with self._members.read() as conn:
            items = queries.expiring(conn, today, before, _limit(request.limit, 100))
        return members_pb2.ListExpiringPointsResponse(
            items=[
                members_pb2.ExpiringPoints(
                    member_id=i.member_id,
                    masked_phone=i.masked_phone,
                    points=i.points,
                    expires_on=i.expires_on.isoformat(),
                )
                for i in items
            ]
        )

    def ExpirePoints(self, request, context: grpc.ServicerContext):
        today = parse_date(request.today, "today") or self._members.today()
        with self._members.uow(principal_of(context)) as uow:
            lots, points, touched = queries.expire_points(uow, self._members.config, today)
            for member_id in touched:
                self._forget_after(uow, member_id)
        return members_pb2.ExpirePointsResponse(lots=lots, points=points)


def _coupon(row) -> members_pb2.MemberCoupon:
    name = coupons.coupon_name(row["definition"])
    return members_pb2.MemberCoupon(
        coupon_id=row["coupon_id"],
        campaign=row["campaign"],
        name=name,
        valid_from=row["valid_from"].isoformat(),
        valid_until=row["valid_until"].isoformat(),
        status=row["status"],
    )
