"""Permissions and the roles that grant them (ARCHITECTURE §10)."""

from __future__ import annotations

import enum


class Permission(enum.StrEnum):
    SELL = "sell"
    VOID = "void"
    REFUND = "refund"
    PRICE_OVERRIDE = "price_override"
    GIFT_LINE = "gift_line"
    NO_SALE = "no_sale"
    MEMBER_TOPUP = "member_topup"
    MEMBER_MANAGE = "member_manage"
    STOCKTAKE_COUNT = "stocktake_count"
    STOCKTAKE_POST = "stocktake_post"
    STOCK_RECEIVE = "stock_receive"  # receiving, transfers, pack splits
    DAY_CLOSE = "day_close"
    DAY_REOPEN = "day_reopen"
    CATALOG_ADMIN = "catalog_admin"
    LABELS = "labels"
    REPORTS_OWN_STORE = "reports_own_store"
    ADMIN = "admin"


class Role(enum.StrEnum):
    CASHIER = "cashier"
    SUPERVISOR = "supervisor"
    STOCK_CLERK = "stock_clerk"
    OWNER = "owner"
    ADMIN = "admin"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CASHIER: frozenset({P.SELL}),
    Role.SUPERVISOR: frozenset(
        {
            P.SELL,
            P.VOID,
            P.REFUND,
            P.PRICE_OVERRIDE,
            P.GIFT_LINE,
            P.NO_SALE,
            P.MEMBER_TOPUP,
            P.MEMBER_MANAGE,
            P.DAY_CLOSE,
            P.DAY_REOPEN,
            P.STOCKTAKE_COUNT,
            P.STOCK_RECEIVE,
            P.REPORTS_OWN_STORE,
            P.LABELS,
        }
    ),
    Role.STOCK_CLERK: frozenset({P.STOCKTAKE_COUNT, P.STOCK_RECEIVE, P.LABELS}),
    Role.OWNER: frozenset({P.REPORTS_OWN_STORE}),
    Role.ADMIN: frozenset(Permission),
}


def permissions_of(role: str) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
