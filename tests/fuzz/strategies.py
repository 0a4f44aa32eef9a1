"""Hypothesis strategies that build any request message from its descriptor.

Every field gets a mix of three kinds of value: a real id from the seeded
store (so calls reach the servicer's deeper checks, and name other tills'
baskets and other members' cards), boundary values (0, -1, the type's limits,
dates that do not exist), and hostile ones (NaN-like text, SQL and control
characters, 1 MB strings, invalid UTF-8 in bytes fields).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from tests.fuzz.seed import PROMOTION, Pools
from tests.support.server import START

F = FieldDescriptor
BIG_TEXT = "大" * (1 << 18) + "x" * (1 << 19)  # ~1.3 MB of UTF-8
BIG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * (1 << 20)
HOSTILE_TEXT = [
    "",
    " ",
    "NaN",
    "nan",
    "-NaN",
    "Infinity",
    "-inf",
    "1e309",
    "-1e309",
    "-0",
    "0",
    "-1",
    "0x10",
    "1_000",
    "9" * 40,
    "²",  # isdigit() is true, int() refuses it
    "１２３",  # full-width digits: int() accepts them
    "٣٤",
    "'; DROP TABLE sales; --",
    "' OR '1'='1",
    '" OR ""="',
    "%",
    "_%_",
    "\\",
    "%s%n%x",
    "\x00",
    "abc\x00def",
    "\r\n\t\x1b[2J",
    "\u202e\u200b",
    "😀🛒",
    "可口可乐",
    "a" * 65,
    "1" * 300,
    "../../etc/passwd",
    "null",
    "{}",
    "[]",
    BIG_TEXT,
]
INVALID_UTF8 = [
    b"\xff\xfe\xfd",
    b"\xc3\x28",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf8\x88\x80\x80\x80",
    b"\x80",
    b"\x00\x00",
    b"\xff\xd8\xff\xe0" + b"\x00" * 16,  # a JPEG header with nothing after it
    b"\x89PNG\r\n\x1a\nbroken",
    b"GIF89a",
    BIG_BYTES,
]
DATES = [
    "2026-11-23",
    "2026-11-22",
    "2026-12-31",
    "2027-01-01",
    "2026-02-29",
    "2024-02-29",
    "2026-13-01",
    "2026-11-31",
    "0001-01-01",
    "9999-12-31",
    "1900-01-01",
    "26-11-23",
    "2026/11/23",
    "20261123",
    "2026-11-23T10:00:00",
]
DATE_FIELDS = {
    "business_day",
    "birthday",
    "valid_from",
    "valid_until",
    "expires_on",
    "before",
    "today",
    "date_from",
    "date_to",
}
TEXT_POOLS: dict[str, list[str]] = {
    "query": ["KKKL", "可乐", "6901", "%", "_", "' OR 1=1 --", "a%' ESCAPE '"],
    "period": ["day", "week", "month", "year"],
    "kind": ["cash", "bank_card", "mobile", "points", "stored_value"],
    "zone": ["A1", "B2"],
    "tier": ["normal", "silver", "gold", "platinum"],
    "page_token": ["1", "50", "-1", "999999999", "eyJ4IjoxfQ=="],
    "reason": ["破损", "price_change"],
}
START_S = int(START.timestamp())


def _int_range(ftype: int) -> tuple[int, int]:
    if ftype in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
        return -(2**31), 2**31 - 1
    if ftype in (F.TYPE_UINT32, F.TYPE_FIXED32):
        return 0, 2**32 - 1
    if ftype in (F.TYPE_UINT64, F.TYPE_FIXED64):
        return 0, 2**64 - 1
    return -(2**63), 2**63 - 1


def text_values(name: str, pools: Pools) -> st.SearchStrategy[str]:
    known = [*pools.get(name), *TEXT_POOLS.get(name, [])]
    branches: list[st.SearchStrategy[str]] = []
    if known:
        branches += [st.sampled_from(known)] * 2
    if name.endswith("_id") or name in ("card_no", "receipt_no"):
        branches.append(st.uuids().map(str))
    if name in DATE_FIELDS:
        branches.append(st.sampled_from(DATES))
    branches += [st.sampled_from(HOSTILE_TEXT), st.text(max_size=24)]
    return st.one_of(branches)


def int_values(name: str, ftype: int, pools: Pools) -> st.SearchStrategy[int]:
    lo, hi = _int_range(ftype)
    candidates = (0, 1, -1, 2, 5, 999, 1000, 1001, 24_000, 10**6, 10**12, 2**53 + 1)
    edges = sorted({v for v in (*candidates, lo, lo + 1, hi - 1, hi) if lo <= v <= hi})
    branches = [st.sampled_from(edges), st.integers(lo, hi), st.integers(-5_000, 100_000)]
    known = [v for v in pools.get(name.removesuffix("s")) + pools.get(name) if lo <= v <= hi]
    if name.endswith("product_id") or name == "product_ids":
        known += pools.get("product_id")
    if known:
        branches += [st.sampled_from(known)] * 2
    if name == "seconds":  # a Timestamp: around the store's clock, or far outside its range
        branches.append(
            st.sampled_from(
                [START_S, START_S + 3600, START_S - 86_400, 253_402_300_800, -62_135_596_801]
            )
        )
    return st.one_of(branches)


def promotion_json() -> st.SearchStrategy[str]:
    """The seeded promotion's JSON with one value replaced by something hostile."""
    paths = [
        ("promo_id",),
        ("name",),
        ("priority",),
        ("group",),
        ("rule",),
        ("rule", "type"),
        ("rule", "nth"),
        ("rule", "percent_bp"),
        ("scope",),
        ("scope", "product_ids"),
        ("schedule", "time_from"),
        ("schedule", "days_of_week"),
    ]
    hostile = st.sampled_from(
        [
            None,
            -1,
            0,
            2**63,
            10**30,
            1.5,
            float("inf"),
            float("nan"),
            "NaN",
            "",
            [],
            {},
            [None],
            ["x"],
            "x" * 1000,
            True,
            "25:99",
            [8, -1],
        ]
    )

    def mutate(path: tuple[str, ...], value: Any, fresh_id: str) -> str:
        doc = json.loads(json.dumps(PROMOTION))
        doc["promo_id"] = fresh_id
        node = doc
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else node
        node[path[-1]] = value
        return json.dumps(doc, ensure_ascii=False, allow_nan=True)

    mutated = st.builds(mutate, st.sampled_from(paths), hostile, st.uuids().map(str))
    raw = st.sampled_from(
        ['{"rule": {"type": "percent_off", "percent_bp": 1e309}}', "[]", "{", "null", "1"]
    )
    return st.one_of(mutated, mutated, raw, st.sampled_from(HOSTILE_TEXT))


FieldOverride = Callable[[Pools], st.SearchStrategy]
# Fields whose meaning the descriptor cannot tell: JSON documents.
FIELD_OVERRIDES: dict[str, FieldOverride] = {
    "definition_json": lambda pools: st.one_of(
        promotion_json(), st.sampled_from(pools.get("definition_json"))
    ),
    "definition": lambda pools: st.one_of(
        promotion_json(),
        st.just('{"name": "5元券", "rule": {"type": "coupon", "amount_fen": 500}}'),
    ),
}


def value_strategy(fd: FieldDescriptor, pools: Pools, depth: int) -> st.SearchStrategy:
    if fd.name in FIELD_OVERRIDES:
        return FIELD_OVERRIDES[fd.name](pools)
    t = fd.type
    if t == F.TYPE_STRING:
        return text_values(fd.name, pools)
    if t == F.TYPE_BYTES:
        return st.one_of(st.binary(max_size=64), st.sampled_from(INVALID_UTF8))
    if t == F.TYPE_BOOL:
        return st.booleans()
    if t in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32 if t == F.TYPE_FLOAT else 64)
    if t == F.TYPE_ENUM:
        numbers = [v.number for v in fd.enum_type.values]
        return st.one_of(st.sampled_from(numbers), st.sampled_from(numbers), st.integers(-3, 99))
    if t == F.TYPE_MESSAGE:
        return message_strategy(fd.message_type, pools, depth + 1)
    return int_values(fd.name, t, pools)


def realistic_strategy(fd: FieldDescriptor, pools: Pools, depth: int) -> st.SearchStrategy:
    """A value a real till would send: an id of the seeded store, a sane amount, today."""
    t = fd.type
    if fd.name in FIELD_OVERRIDES:
        return FIELD_OVERRIDES[fd.name](pools)
    if t == F.TYPE_MESSAGE:
        return message_strategy(fd.message_type, pools, depth + 1, realistic=True)
    if t == F.TYPE_ENUM:
        return st.sampled_from([v.number for v in fd.enum_type.values if v.number] or [0])
    if t == F.TYPE_BOOL:
        return st.booleans()
    known = [
        *pools.get(fd.name),
        *pools.get(fd.name.removesuffix("s")),
        *TEXT_POOLS.get(fd.name, []),
    ]
    if t == F.TYPE_STRING:
        branches: list[st.SearchStrategy] = [st.sampled_from(known)] if known else []
        if fd.name.endswith("_id"):
            branches.append(st.uuids().map(str))  # a new document
        if fd.name in DATE_FIELDS:
            branches.append(st.sampled_from(["2026-11-23", "2026-11-22", "2026-12-31"]))
        return st.one_of(branches) if branches else st.sampled_from(["测试", "A1", "x"])
    if t == F.TYPE_BYTES:
        return st.binary(max_size=16)
    if fd.name.endswith("product_id") or fd.name == "product_ids":
        return st.sampled_from(pools.get("product_id"))
    if fd.name == "seconds":
        return st.sampled_from([START_S, START_S + 3600, START_S + 86_400])
    if fd.name == "nanos":
        return st.just(0)
    return st.sampled_from([1, 2, 5, 100, 500, 1000, 2000, 10_000])


def message_strategy(
    desc: Descriptor, pools: Pools, depth: int = 0, *, realistic: bool = False
) -> st.SearchStrategy[Message]:
    """Any message of type `desc`.

    realistic=False: each field set or not, to a mix of real and hostile values.
    realistic=True: every field set to what a real till would send, but one
    field in six (at any depth) hostile, so the call gets past the first check.
    """
    cls = message_factory.GetMessageClass(desc)
    if depth > 3:
        return st.just(cls())

    @st.composite
    def build(draw: st.DrawFn) -> Message:
        msg = cls()
        for fd in desc.fields:
            if realistic:
                hostile = draw(st.integers(0, 5)) == 0
                values = (
                    value_strategy(fd, pools, depth)
                    if hostile
                    else realistic_strategy(fd, pools, depth)
                )
            else:
                if not draw(st.booleans()):
                    continue
                values = value_strategy(fd, pools, depth)
            if fd.is_repeated:
                if realistic:
                    size = st.integers(1, 2)
                elif depth:
                    size = st.integers(0, 3)
                else:
                    size = st.sampled_from([0, 1, 2, 3, 50])
                items = draw(st.lists(values, min_size=0, max_size=draw(size)))
                target = getattr(msg, fd.name)
                if fd.type == F.TYPE_MESSAGE:
                    for item in items:
                        target.add().CopyFrom(item)
                else:
                    target.extend(items)
            elif fd.type == F.TYPE_MESSAGE:
                getattr(msg, fd.name).CopyFrom(draw(values))
            else:
                setattr(msg, fd.name, draw(values))
        return msg

    return build()
