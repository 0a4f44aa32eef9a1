"""A member desk at a till: register, identify, top up, pay with member tenders."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.server import DEADLINE, RunningStore
from tests.support.till import Till, new_id
from tillpoint.v1 import common_pb2, members_pb2, members_pb2_grpc, sales_pb2

PIN = "246810"


def by_card(card_no: str) -> members_pb2.MemberCredential:
    return members_pb2.MemberCredential(card_no=card_no)


def by_phone(phone: str, pin: str = PIN) -> members_pb2.MemberCredential:
    return members_pb2.MemberCredential(phone=phone, pin=pin)


def by_id(member_id: str) -> members_pb2.MemberCredential:
    return members_pb2.MemberCredential(member_id=member_id)


def stored_value(fen: int) -> sales_pb2.Payment:
    return sales_pb2.Payment(
        kind=sales_pb2.TENDER_KIND_STORED_VALUE, amount=common_pb2.Money(fen=fen)
    )


def points(fen: int) -> sales_pb2.Payment:
    return sales_pb2.Payment(kind=sales_pb2.TENDER_KIND_POINTS, amount=common_pb2.Money(fen=fen))


def count_card(card_id: str, uses: int = 1) -> sales_pb2.Payment:
    return sales_pb2.Payment(kind=sales_pb2.TENDER_KIND_COUNT_CARD, reference=card_id, uses=uses)


@dataclass
class MemberDesk:
    """Member calls made from a till's session (its token and device)."""

    till: Till
    md: list[tuple[str, str]] = field(default_factory=list)
    card_no: str = ""  # the member's card, once registered

    def __post_init__(self) -> None:
        self.md = self.till.md

    @property
    def stub(self) -> members_pb2_grpc.MemberServiceStub:
        return members_pb2_grpc.MemberServiceStub(self.till.store.channel)

    def call(self, name: str, request: object, md: list | None = None) -> object:
        return getattr(self.stub, name)(request, metadata=md or self.md, timeout=DEADLINE)

    def register(self, phone: str, name: str = "张三", **fields: object) -> members_pb2.Member:
        fields.setdefault("pin", PIN)
        return self.call(
            "RegisterMember",
            members_pb2.RegisterMemberRequest(
                registration_id=str(fields.pop("registration_id", new_id())),
                phone=phone,
                name=name,
                **fields,
            ),
        )

    def identify(self, cred: members_pb2.MemberCredential) -> members_pb2.Member:
        return self.call("IdentifyMember", cred)

    def top_up(
        self, member_id: str, fen: int, *, topup_id: str | None = None, md: list | None = None
    ) -> members_pb2.MemberDepositResult:
        return self.call(
            "TopUp",
            members_pb2.TopUpRequest(
                topup_id=topup_id or new_id(),
                member=by_id(member_id),
                amount=common_pb2.Money(fen=fen),
                payment=members_pb2.DepositPayment(kind="cash"),
            ),
            md,
        )

    def sell_count_card(
        self, member_id: str, product_id: int, *, uses: int, price_fen: int, card_id: str = ""
    ) -> members_pb2.MemberDepositResult:
        """A count card of `uses` uses of a product, sold for cash (needs member_topup)."""
        return self.call(
            "SellCountCard",
            members_pb2.SellCountCardRequest(
                card_id=card_id or new_id(),
                member=by_id(member_id),
                product_id=product_id,
                uses=uses,
                price=common_pb2.Money(fen=price_fen),
                payment=members_pb2.DepositPayment(kind="cash"),
            ),
        )

    def issue_coupon(
        self,
        coupon_id: str,
        member_id: str,
        definition: str,
        *,
        valid_until: str,
        valid_from: str = "",
        campaign: str = "双十一",
        md: list | None = None,
    ) -> members_pb2.MemberCoupon:
        """A coupon from its JSON definition (needs member_manage)."""
        return self.call(
            "IssueCoupon",
            members_pb2.IssueCouponRequest(
                coupon_id=coupon_id,
                member_id=member_id,
                campaign=campaign,
                definition=definition,
                valid_from=valid_from,
                valid_until=valid_until,
            ),
            md,
        )

    def attach(self, cred: members_pb2.MemberCredential) -> sales_pb2.Basket:
        if not self.till.basket_id:
            self.till.new_basket()
        return self.till.call(
            "AttachMember",
            sales_pb2.AttachMemberRequest(basket_id=self.till.basket_id, member=cred),
        )


def supervisor_desk(store: RunningStore, till: Till) -> MemberDesk:
    """The same till with the supervisor logged in (member_topup, member_manage)."""
    desk = MemberDesk(till)
    desk.md = store.login("1002", "2222", device_id=till.device_id)
    return desk
