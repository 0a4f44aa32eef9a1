"""Stock documents and replenishment against a real server."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from store_server.db import fast, stock_repo
from store_server.db.models import ChangeLogEntry
from store_server.db.unit_of_work import Actor, unit_of_work
from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.handheld import Handheld, add_clerk, new_id
from tests.support.server import RunningStore, start_store
from tests.support.till import Till
from tillpoint.v1 import stock_pb2

NF = grpc.StatusCode.NOT_FOUND


def pid(store: RunningStore, code: str) -> int:
    with store.db.read() as conn:
        return fast.execute(conn, "SELECT product_id FROM barcodes WHERE code = ?", (code,))[0][0]


def on_hand(store: RunningStore, product_id: int) -> int:
    with store.db.read() as conn:
        return stock_repo.on_hand(conn, product_id)


def line(product_id: int = 0, qty: int = 1000, code: str = "", cost: int = 0):
    return stock_pb2.StockLineInput(
        product_id=product_id, code=code, quantity_milli=qty, unit_cost_fen=cost
    )


@pytest.fixture
def office(store: RunningStore) -> Handheld:
    office = Handheld(store, device_id="office-01", operator=("1003", "3333"))
    for sup, name, lead in (("SUP1", "太古可口可乐", 3), ("SUP2", "农夫山泉", 1)):
        office.call(
            "UpsertSupplier",
            stock_pb2.UpsertSupplierRequest(
                supplier=stock_pb2.Supplier(supplier_id=sup, name=name, lead_days=lead)
            ),
        )
    return office


def test_receiving_from_a_handheld_is_idempotent_and_counts_case_barcodes(
    store: RunningStore, office: Handheld
) -> None:
    add_clerk(store)
    hh = Handheld(store)
    coke = pid(store, cf.COKE_CAN)
    req = stock_pb2.ReceiveDeliveryRequest(
        delivery_id=new_id(),
        supplier_id="SUP1",
        reference="DN-0042",
        lines=[line(code=cf.COKE_CASE, qty=2000, cost=5040), line(coke, 6000, cost=210)],
    )
    doc = hh.call("ReceiveDelivery", req)
    assert [(ln.product_id, ln.quantity_milli) for ln in doc.lines] == [
        (coke, 48_000),
        (coke, 6_000),
    ]
    assert hh.call("ReceiveDelivery", req) == doc  # the handheld re-sent it
    assert on_hand(store, coke) == 54_000
    req.lines[1].quantity_milli = 7000
    expect_code(grpc.StatusCode.ALREADY_EXISTS, lambda: hh.call("ReceiveDelivery", req))
    bad = stock_pb2.ReceiveDeliveryRequest(
        delivery_id=new_id(), supplier_id="SUP1", lines=[line(code="6900000000000")]
    )
    assert error_detail(expect_code(NF, lambda: hh.call("ReceiveDelivery", bad))).reason == (
        "UNKNOWN_BARCODE"
    )
    # Blind: the clerk receives but cannot read on-hand; adjustments need stocktake_post.
    expect_code(
        grpc.StatusCode.PERMISSION_DENIED,
        lambda: hh.call(
            "AdjustStock",
            stock_pb2.AdjustStockRequest(adjustment_id=new_id(), reason="破损", lines=[line(coke)]),
        ),
    )


def test_transfers_adjustments_and_pack_splits_move_stock(
    store: RunningStore, office: Handheld
) -> None:
    coke, sprite = pid(store, cf.COKE_CAN), pid(store, cf.SPRITE_CAN)
    office.call(
        "ReceiveDelivery",
        stock_pb2.ReceiveDeliveryRequest(
            delivery_id=new_id(), supplier_id="SUP1", lines=[line(coke, 30_000), line(sprite, 3000)]
        ),
    )
    transfer = new_id()
    out = office.call(
        "SendTransfer",
        stock_pb2.SendTransferRequest(
            transfer_id=transfer, to_store_id="S02", lines=[line(coke, 5000)]
        ),
    )
    assert (out.kind, out.status, out.lines[0].quantity_milli) == ("transfer_out", "sent", -5000)
    office.call(
        "ReceiveTransfer",
        stock_pb2.ReceiveTransferRequest(
            transfer_id=new_id(), from_store_id="S03", lines=[line(sprite, 2000)]
        ),
    )
    adj = stock_pb2.AdjustStockRequest(
        adjustment_id=new_id(), reason="破损 2 罐", lines=[line(coke, -2000)]
    )
    office.call("AdjustStock", adj)
    office.call("AdjustStock", adj)  # re-sent: once only
    expect_code(
        grpc.StatusCode.INVALID_ARGUMENT,
        lambda: office.call(
            "AdjustStock",
            stock_pb2.AdjustStockRequest(adjustment_id=new_id(), lines=[line(coke, -1000)]),
        ),
    )
    # Here sprite stands in for a "6-pack" product split into cans (coke).
    office.call(
        "SplitPack",
        stock_pb2.SplitPackRequest(
            split_id=new_id(),
            case_product_id=sprite,
            unit_product_id=coke,
            cases_milli=2000,
            units_per_case=6,
        ),
    )
    assert on_hand(store, coke) == 30_000 - 5000 - 2000 + 12_000
    assert on_hand(store, sprite) == 3000 + 2000 - 2000
    moves = office.call("ListMovements", stock_pb2.ListMovementsRequest(product_id=coke)).movements
    assert [m.kind for m in moves] == ["pack_split", "adjustment", "transfer_out", "receiving"]
    with store.db.read() as conn:
        kinds = conn.execute(select(ChangeLogEntry.kind, ChangeLogEntry.key)).all()
        assert stock_repo.mismatches(conn) == []
    assert ("stock.transfer_out", transfer) in kinds


def test_replenishment_equals_the_hand_computed_orders_in_whole_cases(
    store: RunningStore, office: Handheld
) -> None:
    coke, sprite, water, chips = (
        pid(store, c) for c in (cf.COKE_CAN, cf.SPRITE_CAN, cf.WATER, cf.UPC_CHIPS)
    )
    now = store.clock.now()
    day = timedelta(days=1)
    history = [  # (product, quantity, kind, days ago)
        (coke, 100_000, "receiving", 40),
        (coke, -20_000, "sale", 35),  # outside the 28-day window
        (coke, -55_000, "sale", 10),
        (sprite, 40_000, "receiving", 40),
        (sprite, -14_000, "sale", 20),
        (sprite, 2_000, "return", 19),
        (water, 15_000, "receiving", 40),
        (water, -10_000, "sale", 27),
        (chips, 8_000, "receiving", 5),
    ]
    with unit_of_work(store.db, Actor.system("test"), now) as uow:
        for p, q, kind, ago in history:
            stock_repo.record(uow.conn, [(p, q)], kind=kind, source_id=new_id(), at=now - ago * day)
    till = Till(store)
    till.open_shift()
    till.sell(cf.COKE_CAN)  # today's sale counts too: 56 sold in the window
    rules = [  # product, supplier, min, max, pack, own lead days
        (coke, "SUP1", 30_000, 60_000, 24_000, 0),
        (sprite, "SUP1", 20_000, 48_000, 24_000, 7),
        (water, "SUP2", 10_000, 30_000, 12_000, 0),
        (chips, "SUP2", 5_000, 10_000, 6_000, 0),
    ]
    for p, sup, mn, mx, pack, lead in rules:
        office.call(
            "SetStockRule",
            stock_pb2.SetStockRuleRequest(
                rule=stock_pb2.StockRule(
                    product_id=p,
                    supplier_id=sup,
                    min_milli=mn,
                    max_milli=mx,
                    pack_milli=pack,
                    lead_days=lead,
                )
            ),
        )
    po = office.call(
        "PlacePurchaseOrder",
        stock_pb2.PlacePurchaseOrderRequest(
            po_id=new_id(), supplier_id="SUP1", lines=[line(sprite, 12_000)]
        ),
    )
    assert po.status == "ordered"
    drafts = office.call(
        "SuggestReplenishment", stock_pb2.SuggestReplenishmentRequest(window_days=28)
    ).drafts
    # By hand (see domain.stock.replenish):
    # coke: on hand 100-20-55-1 = 24; 56 sold in 28 days x 3 lead days = 6; 24-6 = 18 <= 30;
    #       60-18 = 42 -> 2 cases of 24 = 48.
    # sprite: 40-14+2 = 28 + 12 on order = 40; 12 net sold x 7/28 = 3; 37 > 20: nothing.
    # water: 5 on hand; 10 x 1/28 = 0.358 (up); 4.642 <= 10; 30-4.642 = 25.358 -> 3 x 12 = 36.
    # chips: 8 > 5: nothing.
    assert [
        (d.supplier_id, d.supplier_name, [(ln.product_id, ln.quantity_milli) for ln in d.lines])
        for d in drafts
    ] == [("SUP1", "太古可口可乐", [(coke, 48_000)]), ("SUP2", "农夫山泉", [(water, 36_000)])]
    assert drafts[0].lines[0].daily_sales_milli == 2000
    low = office.call("ListLowStock", stock_pb2.ListLowStockRequest()).levels
    assert [(lv.product_id, lv.on_hand_milli) for lv in low] == [(coke, 24_000), (water, 5_000)]
    level = office.call("GetStock", stock_pb2.GetStockRequest(product_ids=[sprite])).levels[0]
    assert (level.on_hand_milli, level.on_order_milli, level.min_milli) == (28_000, 12_000, 20_000)
    # Receiving against the order closes it: nothing on order any more.
    office.call(
        "ReceiveDelivery",
        stock_pb2.ReceiveDeliveryRequest(
            delivery_id=new_id(), supplier_id="SUP1", po_id=po.po_id, lines=[line(sprite, 12_000)]
        ),
    )
    level = office.call("GetStock", stock_pb2.GetStockRequest(product_ids=[sprite])).levels[0]
    assert (level.on_hand_milli, level.on_order_milli) == (40_000, 0)


def test_a_transfer_sent_by_one_store_is_received_by_the_other(
    store: RunningStore, office: Handheld, template_db: Path, tmp_path: Path
) -> None:
    other_dir = tmp_path / "s02"
    other_dir.mkdir()
    other = start_store(template_db, other_dir)
    try:
        coke = pid(store, cf.COKE_CAN)
        office.call(
            "ReceiveDelivery",
            stock_pb2.ReceiveDeliveryRequest(
                delivery_id=new_id(), supplier_id="SUP1", lines=[line(coke, 24_000)]
            ),
        )
        transfer = new_id()
        office.call(
            "SendTransfer",
            stock_pb2.SendTransferRequest(
                transfer_id=transfer, to_store_id="S02", lines=[line(code=cf.COKE_CASE)]
            ),
        )
        # What HQ will carry: the outgoing document from the sender's change log.
        with store.db.read() as conn:
            payload = json.loads(
                conn.execute(
                    select(ChangeLogEntry.payload).where(ChangeLogEntry.key == transfer)
                ).scalar_one()
            )
        lines = [line(p, -q) for p, q, _ in payload["lines"]]
        receiver = Handheld(other, device_id="office-02", operator=("1003", "3333"))
        req = stock_pb2.ReceiveTransferRequest(
            transfer_id=transfer, from_store_id="S01", lines=lines
        )
        receiver.call("ReceiveTransfer", req)
        receiver.call("ReceiveTransfer", req)  # HQ delivered it twice: received once
        assert on_hand(store, coke) == 0
        assert on_hand(other, coke) == 24_000
    finally:
        other.channel.close()
        other.store.stop(grace=1.0)
