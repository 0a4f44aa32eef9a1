"""Promotions through the admin API, priced into baskets, kept on sale lines for returns."""

from __future__ import annotations

import json

import grpc
from sqlalchemy import select

from store_server.db.audit_log import iter_audit
from store_server.db.promotion_models import PromotionRow
from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.office import create_promotion
from tests.support.server import DEADLINE, RunningStore
from tests.support.till import Till, cash, new_id
from tillpoint.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    promotions_pb2,
    promotions_pb2_grpc,
    sales_pb2,
)


def product_id(store: RunningStore, md: list, sku: str) -> int:
    return (
        catalog_pb2_grpc.CatalogServiceStub(store.channel)
        .GetProduct(catalog_pb2.GetProductRequest(sku=sku), metadata=md, timeout=DEADLINE)
        .product_id
    )


def test_bundle_priced_explained_and_a_partial_return_refunds_what_was_paid(
    store: RunningStore,
) -> None:
    admin = store.login("1003", "3333", "office")
    coke, chips = product_id(store, admin, "P1"), product_id(store, admin, "P4")
    info = create_promotion(
        store,
        admin,
        {
            "promo_id": "bundle-1",
            "name": "可乐薯片套餐",
            "rule": {"type": "bundle", "items": [[coke, 1], [chips, 1]], "price_fen": 900},
        },
    )
    assert info.active and info.name == "可乐薯片套餐"
    till = Till(store)
    till.open_shift()
    till.new_basket()
    till.scan(cf.COKE_CAN)
    basket = till.scan(cf.UPC_CHIPS)
    assert basket.total.fen == 900
    # 1.50 off, spread by price: cola 300/1050 -> 43, chips 107.
    assert [[(a.name, a.amount.fen) for a in line.adjustments] for line in basket.lines] == [
        [("可乐薯片套餐", -43)],
        [("可乐薯片套餐", -107)],
    ]
    sale = till.commit(cash(900))
    assert [line.net_amount.fen for line in sale.receipt.lines] == [257, 643]
    ret = till.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=1000))
            ],
        ),
    )
    assert ret.refund.fen == 257  # what the cola cost inside the bundle, not 3.00


def test_only_admins_manage_promotions_and_every_change_is_audited(store: RunningStore) -> None:
    cashier = store.login()
    stub = promotions_pb2_grpc.PromotionServiceStub(store.channel)
    definition = {
        "promo_id": "p-half",
        "name": "第二件半价",
        "rule": {"type": "nth_percent", "nth": 2, "percent_bp": 5000},
    }
    expect_code(
        grpc.StatusCode.PERMISSION_DENIED, lambda: create_promotion(store, cashier, definition)
    )
    admin = store.login("1003", "3333", "office")
    create_promotion(store, admin, definition)
    assert create_promotion(store, admin, definition).promo_id == "p-half"  # a replay
    other = {**definition, "name": "别的"}
    expect_code(grpc.StatusCode.ALREADY_EXISTS, lambda: create_promotion(store, admin, other))
    listed = stub.ListPromotions(
        promotions_pb2.ListPromotionsRequest(), metadata=admin, timeout=DEADLINE
    ).promotions
    assert [p.promo_id for p in listed] == ["p-half"]
    stub.EndPromotion(
        promotions_pb2.EndPromotionRequest(promo_id="p-half"), metadata=admin, timeout=DEADLINE
    )
    assert (
        stub.ListPromotions(
            promotions_pb2.ListPromotionsRequest(), metadata=admin, timeout=DEADLINE
        ).promotions
        == []
    )
    with store.db.read() as conn:
        actions = [
            (r.operator_id, r.action, r.outcome)
            for r in iter_audit(conn)
            if "Promotion" in r.action or r.action.startswith("promotion.")
        ]
    assert actions == [
        ("1001", "PromotionService/CreatePromotion", "PERMISSION_DENIED"),
        ("1003", "promotion.create", "OK"),
        ("1003", "PromotionService/CreatePromotion", "OK"),
        ("1003", "PromotionService/CreatePromotion", "OK"),
        ("1003", "PromotionService/CreatePromotion", "ALREADY_EXISTS"),
        ("1003", "promotion.end", "OK"),
        ("1003", "PromotionService/EndPromotion", "OK"),
    ]


def test_an_ended_promotion_no_longer_prices(store: RunningStore) -> None:
    admin = store.login("1003", "3333", "office")
    create_promotion(
        store,
        admin,
        {
            "promo_id": "all-10",
            "name": "全场九折",
            "rule": {"type": "percent_off", "percent_bp": 1000},
        },
    )
    till = Till(store)
    till.new_basket()
    assert till.scan(cf.UPC_CHIPS).total.fen == 675
    promotions_pb2_grpc.PromotionServiceStub(store.channel).EndPromotion(
        promotions_pb2.EndPromotionRequest(promo_id="all-10"), metadata=admin, timeout=DEADLINE
    )
    till.new_basket()
    assert till.scan(cf.UPC_CHIPS).total.fen == 750


def test_bad_definitions_name_the_field_and_write_nothing(store: RunningStore) -> None:
    admin = store.login("1003", "3333", "office")
    cases = {
        "definition_json": "{not json",
        "rule.type": json.dumps({"promo_id": "x", "name": "x", "rule": {"type": "magic"}}),
        "rule.percent_bp": json.dumps(
            {"promo_id": "x", "name": "x", "rule": {"type": "percent_off", "percent_bp": 20_000}}
        ),
        "schedule.time_from": json.dumps(
            {
                "promo_id": "x",
                "name": "x",
                "rule": {"type": "percent_off", "percent_bp": 100},
                "schedule": {"time_from": "25:00"},
            }
        ),
    }
    stub = promotions_pb2_grpc.PromotionServiceStub(store.channel)
    for field, text in cases.items():
        err = expect_code(
            grpc.StatusCode.INVALID_ARGUMENT,
            lambda t=text: stub.CreatePromotion(
                promotions_pb2.CreatePromotionRequest(definition_json=t),
                metadata=admin,
                timeout=DEADLINE,
            ),
        )
        assert error_detail(err).field == field
    with store.db.read() as conn:
        assert conn.execute(select(PromotionRow)).all() == []


def test_a_promotion_added_by_storectl_is_priced_by_the_running_server(store: RunningStore) -> None:
    import time

    from store_server.db.unit_of_work import Actor, unit_of_work
    from store_server.promotions import create as create_row

    till = Till(store)
    till.new_basket()
    assert till.scan(cf.UPC_CHIPS).total.fen == 750
    # Another process (storectl) writes the row and bumps the promotions revision.
    with unit_of_work(store.db, Actor.system("storectl"), store.clock.now()) as uow:
        create_row(
            uow,
            {
                "promo_id": "cli",
                "name": "九折",
                "rule": {"type": "percent_off", "percent_bp": 1000},
            },
            zone="Asia/Shanghai",
        )
    deadline = time.monotonic() + 10
    while True:  # the server re-reads within about a second
        till.new_basket()
        if till.scan(cf.UPC_CHIPS).total.fen == 675:
            break
        assert time.monotonic() < deadline, "the server never saw the new promotion"
        time.sleep(0.2)
