"""Promotions: data (what, when, for whom) and the engine that applies them.

Promotions are rows: a rule (what the customer gets), a scope (which
products), a schedule (when), an exclusive group and a priority. The engine
(engine.py) is pure and deterministic: same basket, same time, same answer,
whatever the scan order.
"""

from store_server.domain.promotions.model import (
    Bundle,
    BuyGet,
    Coupon,
    NthPercent,
    PercentOff,
    Promotion,
    QuantityPrice,
    Schedule,
    Scope,
    Threshold,
)

__all__ = [
    "Bundle",
    "BuyGet",
    "Coupon",
    "NthPercent",
    "PercentOff",
    "Promotion",
    "QuantityPrice",
    "Schedule",
    "Scope",
    "Threshold",
]
