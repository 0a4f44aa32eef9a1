"""What each RPC needs: public or logged in, which permission, whether audited.

The interceptor consults this table for every call. A tillpoint method that
is missing here is refused (fail closed): a new RPC cannot ship unguarded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from store_server.domain.permissions import Permission


@dataclass(frozen=True, slots=True)
class RpcRule:
    public: bool = False  # no token needed
    permission: Permission | None = None  # None: any logged-in operator
    audited: bool = False  # every call is written to the audit log with its outcome
    # What the audit entry names: the operator id typed at login, a product id...
    audit_target: Callable[[Message], str] | None = None
    # For public calls, the device the request itself names.
    audit_device: Callable[[Message], str] | None = None
    # The request field that may carry a supervisor's credentials (an Override)
    # standing in for a permission the caller lacks; such calls are audited.
    override_field: str = ""


AUTH = "/tillpoint.v1.AuthService/"
CATALOG = "/tillpoint.v1.CatalogService/"
SALES = "/tillpoint.v1.SalesService/"

RULES: dict[str, RpcRule] = {
    "/tillpoint.v1.DiagnosticsService/Echo": RpcRule(public=True),
    AUTH + "Login": RpcRule(
        public=True,
        audited=True,
        audit_target=lambda r: getattr(r, "operator_id", ""),
        audit_device=lambda r: getattr(r, "device_id", ""),
    ),
    AUTH + "Logout": RpcRule(audited=True),
    AUTH + "WhoAmI": RpcRule(),
    CATALOG + "Lookup": RpcRule(),
    CATALOG + "Search": RpcRule(),
    CATALOG + "GetProduct": RpcRule(),
    CATALOG + "StreamCatalog": RpcRule(),
    CATALOG + "ListLabelJobs": RpcRule(permission=Permission.LABELS),
    CATALOG + "CompleteLabelJobs": RpcRule(permission=Permission.LABELS, audited=True),
    CATALOG + "SchedulePriceChange": RpcRule(
        permission=Permission.CATALOG_ADMIN,
        audited=True,
        audit_target=lambda r: f"product:{getattr(r, 'product_id', '')}",
    ),
}
_SELL = RpcRule(permission=Permission.SELL)
for _name in (
    "OpenShift",
    "CashMovement",
    "XReport",
    "CreateBasket",
    "GetBasket",
    "AddItem",
    "SetQuantity",
    "VoidLine",
    "ClearBasket",
    "TotalBasket",
    "BackOutTotal",
    "HoldBasket",
    "ListHeldBaskets",
    "ResumeBasket",
    "CommitSale",
    "GetReceipt",
    "AttachMember",
    "DetachMember",
    "ApplyCoupon",
    "RemoveCoupon",
    # A return without a receipt also needs refund: checked by the servicer,
    # since it depends on the request.
    "ReturnItems",
):
    RULES[SALES + _name] = _SELL
RULES.update(
    {
        SALES + "CloseShift": RpcRule(permission=Permission.SELL, audited=True),
        SALES + "NoSale": RpcRule(
            permission=Permission.NO_SALE, audited=True, override_field="supervisor"
        ),
        SALES + "GiftLine": RpcRule(
            permission=Permission.GIFT_LINE,
            audited=True,
            override_field="supervisor",
            audit_target=lambda r: f"line:{getattr(r, 'line_id', '')}",
        ),
        SALES + "OverridePrice": RpcRule(
            permission=Permission.PRICE_OVERRIDE,
            audited=True,
            override_field="supervisor",
            audit_target=lambda r: f"line:{getattr(r, 'line_id', '')}",
        ),
        SALES + "CloseDay": RpcRule(
            permission=Permission.DAY_CLOSE,
            audited=True,
            override_field="supervisor",
            audit_target=lambda r: getattr(r, "business_day", ""),
        ),
        SALES + "ReopenDay": RpcRule(
            permission=Permission.DAY_REOPEN,
            audited=True,
            override_field="supervisor",
            audit_target=lambda r: getattr(r, "business_day", ""),
        ),
    }
)

PROMOTIONS = "/tillpoint.v1.PromotionService/"
RULES.update(
    {
        PROMOTIONS + "CreatePromotion": RpcRule(permission=Permission.ADMIN, audited=True),
        PROMOTIONS + "ListPromotions": RpcRule(permission=Permission.ADMIN),
        PROMOTIONS + "EndPromotion": RpcRule(
            permission=Permission.ADMIN,
            audited=True,
            audit_target=lambda r: getattr(r, "promo_id", ""),
        ),
    }
)

STOCK = "/tillpoint.v1.StockService/"
STOCKTAKE = "/tillpoint.v1.StocktakeService/"
# Blind counting: stock clerks (stocktake_count) reach nothing that shows on-hand.
_STOCK_READ = RpcRule(permission=Permission.REPORTS_OWN_STORE)
_STOCK_MOVE = RpcRule(permission=Permission.STOCK_RECEIVE, audited=True)
RULES.update(
    {
        STOCK + "GetStock": _STOCK_READ,
        STOCK + "ListMovements": _STOCK_READ,
        STOCK + "ListLowStock": _STOCK_READ,
        STOCK + "SuggestReplenishment": _STOCK_READ,
        STOCK + "ReceiveDelivery": _STOCK_MOVE,
        STOCK + "SendTransfer": _STOCK_MOVE,
        STOCK + "ReceiveTransfer": _STOCK_MOVE,
        STOCK + "SplitPack": _STOCK_MOVE,
        STOCK + "AdjustStock": RpcRule(permission=Permission.STOCKTAKE_POST, audited=True),
        STOCK + "UpsertSupplier": RpcRule(permission=Permission.CATALOG_ADMIN, audited=True),
        STOCK + "SetStockRule": RpcRule(permission=Permission.CATALOG_ADMIN, audited=True),
        STOCK + "PlacePurchaseOrder": RpcRule(permission=Permission.CATALOG_ADMIN, audited=True),
        STOCKTAKE + "ListSessions": RpcRule(permission=Permission.STOCKTAKE_COUNT),
        STOCKTAKE + "SendCounts": RpcRule(permission=Permission.STOCKTAKE_COUNT),
        STOCKTAKE + "StreamCounts": RpcRule(permission=Permission.STOCKTAKE_COUNT),
        STOCKTAKE + "ListRecounts": RpcRule(permission=Permission.STOCKTAKE_COUNT),
        STOCKTAKE + "OpenSession": RpcRule(permission=Permission.STOCKTAKE_POST, audited=True),
        STOCKTAKE + "CloseSession": RpcRule(
            permission=Permission.STOCKTAKE_POST,
            audited=True,
            audit_target=lambda r: getattr(r, "session_id", ""),
        ),
        STOCKTAKE + "VarianceReport": RpcRule(permission=Permission.STOCKTAKE_POST),
        STOCKTAKE + "PostSession": RpcRule(
            permission=Permission.STOCKTAKE_POST,
            audited=True,
            audit_target=lambda r: getattr(r, "session_id", ""),
        ),
    }
)

MEMBERS = "/tillpoint.v1.MemberService/"


def _member_target(request: Message) -> str:
    """Audit entries name the member by number only: never a phone or a name."""
    cred = getattr(request, "member", request)
    member_id = getattr(cred, "member_id", "") or getattr(request, "member_id", "")
    return f"member:{member_id}" if member_id else "member"


RULES.update(
    {
        MEMBERS + "RegisterMember": RpcRule(permission=Permission.SELL),
        MEMBERS + "IdentifyMember": RpcRule(permission=Permission.SELL),
        MEMBERS + "IssueQrCode": RpcRule(permission=Permission.SELL),
        MEMBERS + "ListCoupons": RpcRule(permission=Permission.SELL),
        MEMBERS + "MemberHistory": RpcRule(permission=Permission.SELL),
        MEMBERS + "RedeemGift": RpcRule(permission=Permission.SELL),
        MEMBERS + "TopUp": RpcRule(
            permission=Permission.MEMBER_TOPUP, audited=True, audit_target=_member_target
        ),
        MEMBERS + "SellCountCard": RpcRule(
            permission=Permission.MEMBER_TOPUP, audited=True, audit_target=_member_target
        ),
        MEMBERS + "RefundStoredValue": RpcRule(
            permission=Permission.MEMBER_MANAGE, audited=True, audit_target=_member_target
        ),
        MEMBERS + "IssueCoupon": RpcRule(
            permission=Permission.MEMBER_MANAGE, audited=True, audit_target=_member_target
        ),
        # The member themself (phone + PIN) or staff with member_manage: the
        # servicer checks which, since it depends on the request.
        MEMBERS + "ReportCardLost": RpcRule(
            permission=Permission.SELL, audited=True, audit_target=_member_target
        ),
        MEMBERS + "ReplaceCard": RpcRule(
            permission=Permission.MEMBER_MANAGE, audited=True, audit_target=_member_target
        ),
        MEMBERS + "ListExpiringPoints": RpcRule(permission=Permission.REPORTS_OWN_STORE),
        MEMBERS + "ExpirePoints": RpcRule(permission=Permission.ADMIN, audited=True),
    }
)

REPORTS = "/tillpoint.v1.ReportService/"
# Any logged-in operator reaches the servicer, which decides from the request:
# reports_own_store sees the store, a cashier (sell) only their own shift's
# sales reports, anyone else PERMISSION_DENIED (store_server.reports.access).
RULES.update(
    {
        REPORTS + "ListReports": RpcRule(),
        REPORTS + "RunReport": RpcRule(),
        REPORTS + "StreamReport": RpcRule(),
    }
)

# Services of other packages (health checking, reflection) are standard and public.
GUARDED_PREFIX = "/tillpoint."
