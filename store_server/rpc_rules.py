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


AUTH = "/tillpoint.v1.AuthService/"
CATALOG = "/tillpoint.v1.CatalogService/"

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
    CATALOG + "SchedulePriceChange": RpcRule(
        permission=Permission.CATALOG_ADMIN,
        audited=True,
        audit_target=lambda r: f"product:{getattr(r, 'product_id', '')}",
    ),
}

# Services of other packages (health checking, reflection) are standard and public.
GUARDED_PREFIX = "/tillpoint."
