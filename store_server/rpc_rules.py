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

# Services of other packages (health checking, reflection) are standard and public.
GUARDED_PREFIX = "/tillpoint."
