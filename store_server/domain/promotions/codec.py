"""Promotions as JSON: how they are stored, sent by HQ and typed into storectl.

    {"promo_id": "...", "name": "第二件半价", "group": "", "priority": 0,
     "members_only": false, "stores": [],
     "rule": {"type": "nth_percent", "nth": 2, "percent_bp": 5000},
     "scope": {"product_ids": [5], "categories": []},
     "schedule": {"valid_from": "2026-11-23T00:00:00+08:00", "valid_to": null,
                  "days_of_week": [], "time_from": "20:00", "time_to": null}}

Rule types and their fields: quantity_price (quantity, price_fen), nth_percent (nth,
percent_bp), buy_get (buy, get, get_scope?), bundle (items: [[product_id, units]],
price_fen), percent_off (percent_bp), threshold (threshold_fen, discount_fen,
repeatable), coupon (amount_fen | percent_bp, min_spend_fen). Every fault is an
InvalidArgument naming the field.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from store_server.domain.errors import InvalidArgument
from store_server.domain.promotions.model import (
    Bundle,
    BuyGet,
    Coupon,
    NthPercent,
    PercentOff,
    Promotion,
    QuantityPrice,
    Rule,
    Schedule,
    Scope,
    Threshold,
)

_TYPES: dict[str, type] = {
    "quantity_price": QuantityPrice,
    "nth_percent": NthPercent,
    "buy_get": BuyGet,
    "bundle": Bundle,
    "percent_off": PercentOff,
    "threshold": Threshold,
    "coupon": Coupon,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}


def _int(
    data: dict,
    key: str,
    field: str,
    *,
    low: int,
    high: int,
    default: int | None = None,
) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{field}.{key}", f"a whole number from {low} to {high}")
    return value


def _scope(data: Any, field: str) -> Scope:
    if data is None:
        return Scope()
    if not isinstance(data, dict):
        raise InvalidArgument(field, "an object with product_ids and categories")
    ids = data.get("product_ids", [])
    cats = data.get("categories", [])
    if not isinstance(ids, list) or not all(isinstance(i, int) and i > 0 for i in ids):
        raise InvalidArgument(f"{field}.product_ids", "a list of product ids")
    if not isinstance(cats, list) or not all(isinstance(c, str) and c for c in cats):
        raise InvalidArgument(f"{field}.categories", "a list of category names")
    return Scope(product_ids=frozenset(ids), categories=frozenset(cats))


def _rule(data: Any) -> Rule:
    # isinstance first: a list or object as the type is unhashable (a TypeError, not a 400).
    kind = data.get("type") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in _TYPES:
        raise InvalidArgument("rule.type", f"one of {', '.join(_TYPES)}")
    kind = data["type"]
    money = {"low": 0, "high": 10**10}
    bp = {"low": 1, "high": 10_000}
    count = {"low": 1, "high": 1000}
    if kind == "quantity_price":
        return QuantityPrice(
            _int(data, "quantity", "rule", low=2, high=1000),
            _int(data, "price_fen", "rule", **money),
        )
    if kind == "nth_percent":
        return NthPercent(
            _int(data, "nth", "rule", low=2, high=1000), _int(data, "percent_bp", "rule", **bp)
        )
    if kind == "buy_get":
        get_scope = data.get("get_scope")
        return BuyGet(
            _int(data, "buy", "rule", **count),
            _int(data, "get", "rule", **count),
            _scope(get_scope, "rule.get_scope") if get_scope is not None else None,
        )
    if kind == "bundle":
        items = data.get("items")
        if (
            not isinstance(items, list)
            or len(items) < 2
            or not all(
                isinstance(i, list) and len(i) == 2 and all(isinstance(x, int) and x > 0 for x in i)
                for i in items
            )
        ):
            raise InvalidArgument("rule.items", "two or more [product_id, units] pairs")
        return Bundle(
            tuple((pid, units) for pid, units in items), _int(data, "price_fen", "rule", **money)
        )
    if kind == "percent_off":
        return PercentOff(_int(data, "percent_bp", "rule", **bp))
    if kind == "threshold":
        repeatable = data.get("repeatable", False)
        if not isinstance(repeatable, bool):
            raise InvalidArgument("rule.repeatable", "true or false")
        return Threshold(
            _int(data, "threshold_fen", "rule", low=1, high=10**10),
            _int(data, "discount_fen", "rule", low=1, high=10**10),
            repeatable,
        )
    amount = _int(data, "amount_fen", "rule", low=0, high=10**10, default=0)
    percent = _int(data, "percent_bp", "rule", low=0, high=10_000, default=0)
    if bool(amount) == bool(percent):
        raise InvalidArgument("rule.amount_fen", "a coupon has an amount or a percentage")
    return Coupon(amount, percent, _int(data, "min_spend_fen", "rule", default=0, **money))


def _time(text: Any, field: str) -> time | None:
    if text is None:
        return None
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(field, "a time like 20:00") from exc


def _when(text: Any, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            field, "a date-time with its offset, like 2026-11-23T08:00+08:00"
        ) from exc
    if value.tzinfo is None:
        raise InvalidArgument(field, "give the offset, e.g. +08:00")
    return value


def _schedule(data: Any, zone: str) -> Schedule:
    data = data or {}
    if not isinstance(data, dict):
        raise InvalidArgument("schedule", "an object")
    days = data.get("days_of_week", [])
    if not isinstance(days, list) or not all(isinstance(d, int) and 0 <= d <= 6 for d in days):
        raise InvalidArgument("schedule.days_of_week", "numbers 0 (Monday) to 6 (Sunday)")
    schedule = Schedule(
        valid_from=_when(data.get("valid_from"), "schedule.valid_from"),
        valid_to=_when(data.get("valid_to"), "schedule.valid_to"),
        days_of_week=frozenset(days),
        time_from=_time(data.get("time_from"), "schedule.time_from"),
        time_to=_time(data.get("time_to"), "schedule.time_to"),
        zone=zone,
    )
    if schedule.valid_from and schedule.valid_to and schedule.valid_to <= schedule.valid_from:
        raise InvalidArgument("schedule.valid_to", "must be after valid_from")
    return schedule


def from_dict(data: Any, *, zone: str = "Asia/Shanghai") -> Promotion:
    if not isinstance(data, dict):
        raise InvalidArgument("promotion", "a JSON object")
    promo_id, name = data.get("promo_id"), data.get("name")
    if not isinstance(promo_id, str) or not 1 <= len(promo_id) <= 36:
        raise InvalidArgument("promo_id", "1-36 characters")
    if not isinstance(name, str) or not 1 <= len(name) <= 40:
        raise InvalidArgument("name", "1-40 characters: the receipt prints it")
    group = data.get("group", "")
    stores = data.get("stores", [])
    members_only = data.get("members_only", False)
    if not isinstance(group, str) or len(group) > 40:
        raise InvalidArgument("group", "at most 40 characters")
    if not isinstance(stores, list) or not all(isinstance(s, str) for s in stores):
        raise InvalidArgument("stores", "a list of store ids")
    if not isinstance(members_only, bool):
        raise InvalidArgument("members_only", "true or false")
    return Promotion(
        promo_id=promo_id,
        name=name,
        rule=_rule(data.get("rule")),
        scope=_scope(data.get("scope"), "scope"),
        group=group,
        priority=_int(data, "priority", "promotion", low=-1000, high=1000, default=0),
        members_only=members_only,
        stores=frozenset(stores),
        schedule=_schedule(data.get("schedule"), zone),
    )


def to_dict(promo: Promotion) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": _NAMES[type(promo.rule)]}
    for name in promo.rule.__dataclass_fields__:
        value = getattr(promo.rule, name)
        if isinstance(value, Scope):
            value = _scope_dict(value)
        elif isinstance(value, tuple):
            value = [list(item) for item in value]
        rule[name] = value
    s = promo.schedule
    return {
        "promo_id": promo.promo_id,
        "name": promo.name,
        "group": promo.group,
        "priority": promo.priority,
        "members_only": promo.members_only,
        "stores": sorted(promo.stores),
        "rule": rule,
        "scope": _scope_dict(promo.scope),
        "schedule": {
            "valid_from": s.valid_from.isoformat() if s.valid_from else None,
            "valid_to": s.valid_to.isoformat() if s.valid_to else None,
            "days_of_week": sorted(s.days_of_week),
            "time_from": s.time_from.isoformat("minutes") if s.time_from else None,
            "time_to": s.time_to.isoformat("minutes") if s.time_to else None,
        },
    }


def _scope_dict(scope: Scope) -> dict[str, list]:
    return {"product_ids": sorted(scope.product_ids), "categories": sorted(scope.categories)}
