"""The fuzz plan of every store RPC: how its requests are generated.

Every RPC must have an entry: a new RPC in the protos without one fails
test_every_rpc_has_a_plan, so it cannot ship unfuzzed. Most requests are built
from the message descriptor (`descriptor_requests`); the plan is where an RPC
that needs more (a JSON document, a stream of messages) says so.
"""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.descriptor import MethodDescriptor
from hypothesis import strategies as st

from tests.fuzz.seed import Pools
from tests.fuzz.strategies import message_strategy

Plan = Callable[[MethodDescriptor, Pools], st.SearchStrategy]


def descriptor_requests(method: MethodDescriptor, pools: Pools) -> st.SearchStrategy:
    """Requests built from the input message's descriptor; a list of them for a client stream."""
    # Half close to a real call (so it reaches the servicer's deeper checks),
    # half anything at all.
    one = st.one_of(
        message_strategy(method.input_type, pools, realistic=True),
        message_strategy(method.input_type, pools),
    )
    if method.client_streaming:
        return st.lists(one, min_size=0, max_size=4)
    return one


D = descriptor_requests


def _service(name: str, **plans: Plan) -> dict[str, Plan]:
    return {f"/tillpoint.v1.{name}/{rpc}": plan for rpc, plan in plans.items()}


PLANS: dict[str, Plan] = {
    **_service("AuthService", Login=D, Logout=D, WhoAmI=D),
    **_service("DiagnosticsService", Echo=D),
    **_service(
        "CatalogService",
        Lookup=D,
        Search=D,
        GetProduct=D,
        StreamCatalog=D,
        SchedulePriceChange=D,
        ListLabelJobs=D,
        CompleteLabelJobs=D,
    ),
    **_service(
        "SalesService",
        OpenShift=D,
        CashMovement=D,
        NoSale=D,
        XReport=D,
        CloseShift=D,
        CreateBasket=D,
        GetBasket=D,
        AddItem=D,
        SetQuantity=D,
        VoidLine=D,
        ClearBasket=D,
        TotalBasket=D,
        BackOutTotal=D,
        HoldBasket=D,
        ListHeldBaskets=D,
        ResumeBasket=D,
        GiftLine=D,
        OverridePrice=D,
        AttachMember=D,
        DetachMember=D,
        ApplyCoupon=D,
        RemoveCoupon=D,
        CommitSale=D,
        GetReceipt=D,
        ReturnItems=D,
        CloseDay=D,
        ReopenDay=D,
    ),
    # CreatePromotion's definition_json and IssueCoupon's definition are JSON:
    # strategies.FIELD_OVERRIDES mutates a valid definition for them.
    **_service("PromotionService", CreatePromotion=D, ListPromotions=D, EndPromotion=D),
    **_service(
        "MemberService",
        RegisterMember=D,
        IdentifyMember=D,
        IssueQrCode=D,
        TopUp=D,
        RefundStoredValue=D,
        SellCountCard=D,
        IssueCoupon=D,
        ListCoupons=D,
        RedeemGift=D,
        ReportCardLost=D,
        ReplaceCard=D,
        MemberHistory=D,
        ListExpiringPoints=D,
        ExpirePoints=D,
    ),
    **_service(
        "StockService",
        GetStock=D,
        ListMovements=D,
        ReceiveDelivery=D,
        SendTransfer=D,
        ReceiveTransfer=D,
        AdjustStock=D,
        SplitPack=D,
        UpsertSupplier=D,
        SetStockRule=D,
        ListLowStock=D,
        SuggestReplenishment=D,
        PlacePurchaseOrder=D,
    ),
    **_service(
        "StocktakeService",
        OpenSession=D,
        ListSessions=D,
        SendCounts=D,
        StreamCounts=D,  # a client stream: 0-4 batches
        ListRecounts=D,
        CloseSession=D,
        VarianceReport=D,
        PostSession=D,
    ),
    **_service("ReportService", ListReports=D, RunReport=D, StreamReport=D),
}
