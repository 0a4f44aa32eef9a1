"""Stocktake against a real server: counts, idempotency, scope, corrections, posting."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import select

from store_server.db import fast, stock_repo
from store_server.db.audit_log import iter_audit
from store_server.db.sales_models import StockMovement
from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.handheld import Handheld, add_clerk, count, new_id
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.v1 import stock_pb2

FP = grpc.StatusCode.FAILED_PRECONDITION
DENIED = grpc.StatusCode.PERMISSION_DENIED


def pid(store: RunningStore, code: str) -> int:
    with store.db.read() as conn:
        return fast.execute(conn, "SELECT product_id FROM barcodes WHERE code = ?", (code,))[0][0]


@pytest.fixture
def office(store: RunningStore) -> Handheld:
    """The store manager's stock office (admin: receiving, posting)."""
    add_clerk(store)
    office = Handheld(store, device_id="office-01", operator=("1003", "3333"))
    office.call(
        "UpsertSupplier",
        stock_pb2.UpsertSupplierRequest(
            supplier=stock_pb2.Supplier(supplier_id="SUP1", name="太古可口可乐", lead_days=2)
        ),
    )
    return office


def receive(office: Handheld, *lines: tuple[int, int]) -> None:
    office.call(
        "ReceiveDelivery",
        stock_pb2.ReceiveDeliveryRequest(
            delivery_id=new_id(),
            supplier_id="SUP1",
            reference="DN-1",
            lines=[stock_pb2.StockLineInput(product_id=p, quantity_milli=q) for p, q in lines],
        ),
    )


def open_session(office: Handheld, **kw: object) -> str:
    sid = new_id()
    office.call("OpenSession", stock_pb2.OpenSessionRequest(session_id=sid, name="月末盘点", **kw))
    return sid


def variance_of(office: Handheld, sid: str) -> dict[int, tuple[int, int, int]]:
    pages = office.report(sid)
    assert pages[-1].last
    return {
        ln.product_id: (ln.counted_milli, ln.expected_milli, ln.variance_milli)
        for page in pages
        for ln in page.lines
    }


def test_resent_batches_change_nothing_and_unknown_barcodes_are_reported_per_item(
    store: RunningStore, office: Handheld
) -> None:
    coke, water = pid(store, cf.COKE_CAN), pid(store, cf.WATER)
    receive(office, (coke, 50_000), (water, 20_000))
    sid = open_session(office)
    hh = Handheld(store)
    batch = [
        count(coke, 30_000, zone="A1"),
        count(code="6900000000000", zone="A1"),  # no such barcode
        count(code=cf.COKE_CASE, quantity_milli=1000, zone="B2"),  # a case of 24 in the back
        count(water, 19_000, zone="A2"),
        count(999_999, 1000),  # no such product
    ]
    first = hh.send(sid, batch)
    assert first.accepted == 3 and first.duplicates == 0
    assert [(r.index, r.reason) for r in first.rejected] == [
        (1, "UNKNOWN_BARCODE"),
        (4, "UNKNOWN_PRODUCT"),
    ]
    assert first.rejected[0].count_id == batch[1].count_id
    # The handheld lost the answer and sends the whole batch again, then again by stream.
    again = hh.send(sid, batch)
    assert (again.accepted, again.duplicates, len(again.rejected)) == (0, 3, 2)
    streamed = hh.stream(sid, [batch[:2], batch[2:]])
    assert (streamed.accepted, streamed.duplicates) == (0, 3)
    assert variance_of(office, sid) == {
        coke: (54_000, 50_000, 4_000),
        water: (19_000, 20_000, -1_000),
    }
    with store.db.read() as conn:
        n = fast.execute(conn, "SELECT count(*) FROM stocktake_counts")[0][0]
    assert n == 3


def test_a_closed_session_takes_no_counts(store: RunningStore, office: Handheld) -> None:
    coke = pid(store, cf.COKE_CAN)
    sid = open_session(office)
    hh = Handheld(store)
    assert hh.send(sid, [count(coke, 1000)]).accepted == 1
    office.call("CloseSession", stock_pb2.CloseSessionRequest(session_id=sid))
    err = expect_code(FP, lambda: hh.send(sid, [count(coke, 1000)]))
    assert error_detail(err).reason == "STOCKTAKE_NOT_OPEN"
    err = expect_code(FP, lambda: hh.stream(sid, [[count(coke, 1000)]]))
    assert error_detail(err).reason == "STOCKTAKE_NOT_OPEN"
    expect_code(grpc.StatusCode.NOT_FOUND, lambda: hh.send(new_id(), [count(coke, 1000)]))
    with store.db.read() as conn:
        n = fast.execute(conn, "SELECT count(*) FROM stocktake_counts")[0][0]
    assert n == 1


def test_two_counters_add_up_a_correction_replaces_and_a_recount_supersedes(
    store: RunningStore, office: Handheld
) -> None:
    coke, sprite, water = (pid(store, c) for c in (cf.COKE_CAN, cf.SPRITE_CAN, cf.WATER))
    receive(office, (coke, 40_000), (sprite, 10_000), (water, 10_000))
    sid = open_session(office, recount_threshold_milli=2_000)
    a, b = Handheld(store, device_id="hh-01"), Handheld(store, device_id="hh-02")
    a.send(sid, [count(coke, 25_000, zone="A1")])
    b.send(sid, [count(coke, 15_000, zone="A1", counter_id="2001")])
    wrong = count(sprite, 1_000)
    a.send(sid, [wrong])
    fixed = count(sprite, 10_000, replaces_count_id=wrong.count_id)
    assert a.send(sid, [fixed]).accepted == 1
    assert a.send(sid, [fixed]).duplicates == 1  # a re-sent correction changes nothing
    bad = a.send(sid, [count(sprite, 5, replaces_count_id=new_id())])
    assert bad.rejected[0].reason == "UNKNOWN_REPLACED_COUNT"
    a.send(sid, [count(water, 3_000, zone="A2"), count(water, 2_000, zone="C9")])
    # Blind: the recount list names products, never quantities.
    recounts = a.call("ListRecounts", stock_pb2.ListRecountsRequest(session_id=sid)).items
    assert [(r.product_id, list(r.zones)) for r in recounts] == [(water, ["A2", "C9"])]
    a.send(sid, [count(water, 9_000, zone="A2", recount=True)])
    assert a.call("ListRecounts", stock_pb2.ListRecountsRequest(session_id=sid)).items == []
    assert variance_of(office, sid) == {
        coke: (40_000, 40_000, 0),
        sprite: (10_000, 10_000, 0),
        water: (9_000, 10_000, -1_000),
    }


def test_handhelds_are_blind_and_posting_needs_the_permission(
    store: RunningStore, office: Handheld
) -> None:
    coke = pid(store, cf.COKE_CAN)
    receive(office, (coke, 10_000))
    sid = open_session(office)
    hh = Handheld(store)
    hh.send(sid, [count(coke, 8_000)])
    sessions = hh.call("ListSessions", stock_pb2.ListSessionsRequest()).sessions
    assert [s.session_id for s in sessions] == [sid]
    expect_code(DENIED, lambda: hh.call("GetStock", stock_pb2.GetStockRequest(product_ids=[coke])))
    expect_code(DENIED, lambda: hh.report(sid))
    expect_code(
        DENIED, lambda: hh.call("PostSession", stock_pb2.PostSessionRequest(session_id=sid))
    )
    supervisor = Handheld(store, device_id="till-09", operator=("1002", "2222"))
    expect_code(
        DENIED,
        lambda: supervisor.call("PostSession", stock_pb2.PostSessionRequest(session_id=sid)),
    )
    posted = office.call("PostSession", stock_pb2.PostSessionRequest(session_id=sid))
    assert (posted.products_counted, posted.products_adjusted) == (1, 1)
    assert (posted.variance_milli, posted.variance_cost_fen) == (-2_000, -420)  # cost 2.10
    again = office.call("PostSession", stock_pb2.PostSessionRequest(session_id=sid))
    assert again == posted
    expect_code(FP, lambda: hh.send(sid, [count(coke, 1)]))
    with store.db.read() as conn:
        assert stock_repo.on_hand(conn, coke) == 8_000
        moves = conn.execute(
            select(StockMovement.kind, StockMovement.quantity_milli).where(
                StockMovement.source_id == sid
            )
        ).all()
        actions = [a.action for a in iter_audit(conn)]
    assert moves == [("stocktake", -2_000)]
    assert "stocktake.post" in actions and "StocktakeService/PostSession" in actions


def test_sales_after_the_snapshot_are_accounted_per_count(
    store: RunningStore, office: Handheld
) -> None:
    coke, water = pid(store, cf.COKE_CAN), pid(store, cf.WATER)
    receive(office, (coke, 48_000), (water, 10_000))
    sid = open_session(office, categories=["饮料"])
    till = Till(store)
    till.open_shift()
    hh = Handheld(store)
    till.sell(cf.COKE_CAN, cf.COKE_CAN)  # before coke is counted: the books say 46
    hh.send(sid, [count(coke, 45_000)])  # one can short
    till.sell(cf.COKE_CAN, cf.WATER)  # after coke's count, before water's
    hh.send(sid, [count(water, 9_000)])
    till.sell(cf.WATER)  # after both counts: no effect on the variance
    out = hh.send(sid, [count(code=cf.NOODLES, quantity_milli=1000)])
    assert out.rejected[0].reason == "OUT_OF_SCOPE"  # noodles are not 饮料
    assert variance_of(office, sid) == {
        coke: (45_000, 46_000, -1_000),
        water: (9_000, 9_000, 0),
    }
    office.call("PostSession", stock_pb2.PostSessionRequest(session_id=sid))
    with store.db.read() as conn:
        assert stock_repo.on_hand(conn, coke) == 44_000  # 45 counted, one sold since
        assert stock_repo.on_hand(conn, water) == 8_000
        assert stock_repo.mismatches(conn) == []


def test_overlapping_sessions_are_refused(store: RunningStore, office: Handheld) -> None:
    open_session(office, categories=["饮料"])
    open_session(office, categories=["水果"])
    err = expect_code(FP, lambda: open_session(office))
    assert error_detail(err).reason == "STOCKTAKE_OVERLAPS"


def test_zone_sessions_take_counts_from_their_zones_only(
    store: RunningStore, office: Handheld
) -> None:
    coke = pid(store, cf.COKE_CAN)
    receive(office, (coke, 10_000))
    sid = open_session(office, zones=["A1", "A2"])
    hh = Handheld(store)
    out = hh.send(sid, [count(coke, 4_000, zone="A1"), count(coke, 5_000, zone="B7")])
    assert out.accepted == 1 and [r.reason for r in out.rejected] == ["OUT_OF_SCOPE"]
    expect_code(
        grpc.StatusCode.INVALID_ARGUMENT,
        lambda: open_session(office, zones=["C1"], uncounted_zero=True),
    )


def test_uncounted_products_of_the_categories_post_as_zero(
    store: RunningStore, office: Handheld
) -> None:
    coke, sprite, chips = (pid(store, c) for c in (cf.COKE_CAN, cf.SPRITE_CAN, cf.UPC_CHIPS))
    receive(office, (coke, 10_000), (sprite, 6_000), (chips, 3_000))
    sid = open_session(office, categories=["饮料"], uncounted_zero=True)
    Handheld(store).send(sid, [count(coke, 10_000)])
    variance = variance_of(office, sid)
    assert variance[coke] == (10_000, 10_000, 0)
    assert variance[sprite] == (0, 6_000, -6_000)  # nobody found any on the shelf
    assert chips not in variance  # another category: untouched
    pages = office.report(sid)
    drinks = [c for c in pages[-1].categories if c.category == "饮料"]
    assert drinks[0].variance_milli == -6_000 and drinks[0].variance_cost_fen == -1200
    office.call("PostSession", stock_pb2.PostSessionRequest(session_id=sid))
    with store.db.read() as conn:
        assert stock_repo.on_hand(conn, sprite) == 0
        assert stock_repo.on_hand(conn, chips) == 3_000


def test_a_cashier_cannot_stream_counts(store: RunningStore, office: Handheld) -> None:
    coke = pid(store, cf.COKE_CAN)
    sid = open_session(office)
    cashier = Handheld(store, device_id="till-01", operator=("1001", "1111"))
    expect_code(DENIED, lambda: cashier.stream(sid, [[count(coke, 1000)]]))
    expect_code(DENIED, lambda: cashier.send(sid, [count(coke, 1000)]))
    with store.db.read() as conn:
        assert fast.execute(conn, "SELECT count(*) FROM stocktake_counts")[0][0] == 0
