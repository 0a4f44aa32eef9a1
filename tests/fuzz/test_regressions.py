"""One test per server bug the fuzzer found: each once answered INTERNAL."""

from __future__ import annotations

import json

import grpc
from google.protobuf import timestamp_pb2

from store_server.permissions_doc import store_rpcs
from tests.fuzz.dump import dump
from tests.support.errors import error_detail, expect_code
from tests.support.server import DEADLINE, START, RunningStore
from tillpoint.v1 import catalog_pb2, common_pb2, promotions_pb2, promotions_pb2_grpc

BAD = grpc.StatusCode.INVALID_ARGUMENT


def test_a_timestamp_with_nanos_out_of_range_is_invalid_argument(store: RunningStore) -> None:
    """SchedulePriceChange with effective_at.nanos = -2**31 was a ValueError (INTERNAL)."""
    md = store.login("1003", "3333")
    before = dump(store.store.config.database)[0]
    start = int(START.timestamp())
    for seconds, nanos in ((start + 3600, -(2**31)), (start, 1_000_000_000), (253402300799, 0)):
        request = catalog_pb2.SchedulePriceChangeRequest(
            change_id="e3e70682-c209-4cac-629f-6fbed82c07cd",
            product_id=1,
            retail_price=common_pb2.Money(fen=1),
            effective_at=timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos),
        )
        err = expect_code(
            BAD,
            lambda r=request: store.catalog.SchedulePriceChange(r, metadata=md, timeout=DEADLINE),
        )
        assert error_detail(err).field == "effective_at"
    assert dump(store.store.config.database)[0] == before


# A length running past the end, and no valid tag at all: no message decodes them.
UNDECODABLE = (b"\x0a\x05abc", b"\xff\xff\xff")
BAD_UTF8 = b"\x0a\x02\xff\xfe"  # field 1 as a string of invalid UTF-8


def test_undecodable_requests_are_invalid_argument_on_every_rpc(store: RunningStore) -> None:
    """Bytes that are no valid message were INTERNAL ("Exception deserializing request!")."""
    md = store.login("1003", "3333")
    before = dump(store.store.config.database)[0]
    for rpc in store_rpcs():
        kw = {"request_serializer": None, "response_deserializer": None}
        first = rpc.method.input_type.fields_by_number.get(1)
        text_first = first is not None and first.type == first.TYPE_STRING
        for payload in (*UNDECODABLE, BAD_UTF8) if text_first else UNDECODABLE:
            if rpc.method.client_streaming:
                call = store.channel.stream_unary(rpc.path, **kw)
                send = lambda c=call, p=payload: c(iter([p]), metadata=md, timeout=DEADLINE)  # noqa: E731
            elif rpc.method.server_streaming:
                call = store.channel.unary_stream(rpc.path, **kw)
                send = lambda c=call, p=payload: list(c(p, metadata=md, timeout=DEADLINE))  # noqa: E731
            else:
                call = store.channel.unary_unary(rpc.path, **kw)
                send = lambda c=call, p=payload: c(p, metadata=md, timeout=DEADLINE)  # noqa: E731
            err = expect_code(BAD, send)
            assert error_detail(err).reason == "UNDECODABLE_REQUEST", rpc.path
    assert dump(store.store.config.database)[0] == before


def test_a_promotion_whose_rule_type_is_a_list_or_object_is_invalid_argument(
    store: RunningStore,
) -> None:
    """`"rule": {"type": []}` was a TypeError (unhashable) in the codec: INTERNAL."""
    md = store.login("1003", "3333")
    stub = promotions_pb2_grpc.PromotionServiceStub(store.channel)
    before = dump(store.store.config.database)[0]
    for kind in ([], {}, ["nth_percent"], None, 2):
        definition = json.dumps(
            {
                "promo_id": "half",
                "name": "第二件半价",
                "rule": {"type": kind, "nth": 2, "percent_bp": 5000},
                "scope": {"product_ids": [1], "categories": []},
            }
        )
        err = expect_code(
            BAD,
            lambda d=definition: stub.CreatePromotion(
                promotions_pb2.CreatePromotionRequest(definition_json=d),
                metadata=md,
                timeout=DEADLINE,
            ),
        )
        assert error_detail(err).field == "rule.type"
    assert dump(store.store.config.database)[0] == before


def test_undecodable_bytes_to_health_and_reflection_are_invalid_argument(
    store: RunningStore,
) -> None:
    """The public services (outside auth) refuse bad bytes too, and still serve good ones."""
    kw = {"request_serializer": None, "response_deserializer": None}
    check = store.channel.unary_unary("/grpc.health.v1.Health/Check", **kw)
    watch = store.channel.unary_stream("/grpc.health.v1.Health/Watch", **kw)
    reflect = store.channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", **kw
    )
    for payload in UNDECODABLE:
        expect_code(BAD, lambda p=payload: check(p, timeout=DEADLINE))
        expect_code(BAD, lambda p=payload: next(iter(watch(p, timeout=DEADLINE))))
        expect_code(BAD, lambda p=payload: list(reflect(iter([p]), timeout=DEADLINE)))
    assert check(b"", timeout=DEADLINE) == b"\x08\x01"  # SERVING
