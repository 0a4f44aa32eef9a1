"""Selling against a real server and a real SQLite file."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import func, select

from store_server.currencies import set_currency
from store_server.db import stock_repo
from store_server.db.audit_log import iter_audit
from store_server.db.models import AuditEntry, ChangeLogEntry
from store_server.db.sales_models import Sale, SaleLine, SalePayment, StockMovement
from store_server.db.unit_of_work import Actor, unit_of_work
from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.server import RunningStore
from tests.support.till import Till, card, cash, foreign, new_id, supervisor
from tillpoint.v1 import common_pb2, sales_pb2

FP = grpc.StatusCode.FAILED_PRECONDITION
BAD = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
def till(store: RunningStore) -> Till:
    t = Till(store)
    t.open_shift()
    return t


def counts(store: RunningStore) -> dict[str, int]:
    """Rows of every business table: 'nothing written' means these do not move."""
    with store.db.read() as conn:
        return {
            t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (Sale, SaleLine, SalePayment, StockMovement, ChangeLogEntry)
        }


def product_id(store: RunningStore, till: Till, code: str) -> int:
    till.new_basket()
    pid = till.scan(code).lines[0].product_id
    till.call("ClearBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
    till.basket_id = ""
    return pid


def test_cash_sale_change_to_the_fen_and_the_receipt(store: RunningStore, till: Till) -> None:
    till.new_basket()
    till.scan(cf.COKE_CAN)
    till.scan(cf.COKE_CASE)  # a case: 66.00, 24 cans off the shelf
    basket = till.scan(cf.NOODLES, 3000)
    assert basket.total.fen == 300 + 6600 + 1350
    sale = till.commit(cash(10_000))
    assert (sale.total.fen, sale.change.fen) == (8250, 1750)
    r = sale.receipt
    assert r.receipt_no == sale.receipt_no == "S01-20261123-0001"
    assert r.barcode == r.receipt_no and r.kind == "sale" and not r.copy
    assert [(line.name, line.quantity.milli, line.net_amount.fen) for line in r.lines] == [
        ("可口可乐 330ml", 1000, 300),
        ("可口可乐 330ml", 1000, 6600),
        ("康师傅 红烧牛肉面 105g", 3000, 1350),
    ]
    assert r.lines[1].pack_factor == 24
    assert [(p.kind, p.tendered.fen, p.applied.fen) for p in r.payments] == [("cash", 10_000, 8250)]
    assert sale.open_drawer
    coke = r.lines[0]
    with store.db.read() as conn:
        pid = conn.execute(select(SaleLine.product_id).where(SaleLine.line_no == 1)).scalar()
        assert stock_repo.on_hand(conn, pid) == -25_000 == stock_repo.movement_sum(conn, pid)
    assert coke.unit_price.fen == 300


def test_weighed_item_from_a_scale_label_and_by_plu(store: RunningStore, till: Till) -> None:
    from store_server.domain.barcodes import DEFAULT_LAYOUTS, make_scale_label

    till.new_basket()
    till.scan(make_scale_label(DEFAULT_LAYOUTS[0], "1001", 352))  # 451 fen
    basket = till.scan("1002", 1250)  # 1.25 kg x 5.98 = 747.5 -> 748
    assert [line.net_amount.fen for line in basket.lines] == [451, 748]
    expect_code(BAD, lambda: till.scan("1002"))  # a weighed PLU needs its weight
    assert till.commit(cash(1199)).change.fen == 0


def test_cash_rounding_is_its_own_line(jiao_store: RunningStore) -> None:
    till = Till(jiao_store)
    till.open_shift()
    till.new_basket()
    basket = till.scan("1002", 1250)  # 7.48
    # The basket tells the till what cash pays, so its screen shows the server's change.
    assert (basket.total.fen, basket.cash_total.fen) == (748, 740)
    sale = till.commit(cash(1000))
    assert (sale.receipt.subtotal.fen, sale.receipt.rounding.fen, sale.total.fen) == (748, -8, 740)
    assert sale.change.fen == 260
    # A card-only sale pays to the fen.
    till.new_basket()
    till.scan("1002", 1250)
    assert till.commit(card(748)).receipt.rounding.fen == 0


def test_receipt_numbers_are_consecutive_over_200_sales_and_a_restart(store: RunningStore) -> None:
    till = Till(store)
    till.open_shift()
    numbers = [till.sell(cf.WATER).receipt_no for _ in range(120)]
    store.restart()
    till = Till(store)
    numbers += [till.sell(cf.WATER).receipt_no for _ in range(80)]
    assert numbers == [f"S01-20261123-{i:04d}" for i in range(1, 201)]


def test_split_tender_card_cash_and_foreign_cash(store: RunningStore, till: Till) -> None:
    with unit_of_work(store.db, Actor.system("test"), store.clock.now()) as uow:
        set_currency(uow, "USD", "美元", "7.1234")
    till.new_basket()
    till.scan(cf.COKE_CASE)
    till.scan(cf.COKE_CASE)  # 132.00
    sale = till.commit(card(5000), foreign("USD", 1000), cash(2000))
    # US$10.00 = 71.234 yuan -> 7123 fen (half up); 5000 + 7123 + 2000 = 14123
    assert [(p.kind, p.tendered.fen, p.applied.fen) for p in sale.receipt.payments] == [
        ("bank_card", 5000, 5000),
        ("foreign_cash", 7123, 7123),
        ("cash", 2000, 1077),
    ]
    assert sale.change.fen == 14123 - 13200 == 923
    assert sale.receipt.payments[1].foreign_amount_minor == 1000


def test_underpaying_is_failed_precondition_and_writes_nothing(
    store: RunningStore, till: Till
) -> None:
    till.new_basket()
    till.scan(cf.COKE_CASE)
    before = counts(store)
    err = expect_code(
        FP,
        lambda: till.call(
            "CommitSale",
            sales_pb2.CommitSaleRequest(
                sale_id=new_id(), basket_id=till.basket_id, payments=[card(3000), cash(3599)]
            ),
        ),
    )
    assert error_detail(err).reason == "UNDERPAID" and "1 fen still due" in err.details()
    assert counts(store) == before


def test_overpaying_a_non_cash_tender_is_invalid_argument(store: RunningStore, till: Till) -> None:
    till.new_basket()
    till.scan(cf.COKE_CAN)
    before = counts(store)
    err = expect_code(
        BAD,
        lambda: till.call(
            "CommitSale",
            sales_pb2.CommitSaleRequest(
                sale_id=new_id(), basket_id=till.basket_id, payments=[card(301)]
            ),
        ),
    )
    assert error_detail(err).field == "payments[0].amount"
    assert counts(store) == before
    # The basket is untouched and can still be paid.
    assert till.commit(card(300)).total.fen == 300


def test_gift_voucher_gives_no_change(store: RunningStore, till: Till) -> None:
    till.new_basket()
    till.scan(cf.UPC_CHIPS)  # 7.50
    voucher = sales_pb2.Payment(
        kind=sales_pb2.TENDER_KIND_GIFT_VOUCHER, amount=common_pb2.Money(fen=1000), reference="GV-1"
    )
    sale = till.commit(voucher)
    assert (sale.change.fen, sale.receipt.forfeited.fen) == (0, 250)


def test_same_sale_id_twice_and_after_a_restart_is_one_sale(
    store: RunningStore, till: Till
) -> None:
    till.new_basket()
    basket_id = till.basket_id
    till.scan(cf.COKE_CASE)
    sale_id = new_id()
    first = till.commit(cash(10_000), sale_id=sale_id)
    till.basket_id = basket_id
    again = till.commit(cash(10_000), sale_id=sale_id)
    store.restart()
    till = Till(store)
    till.basket_id = basket_id
    after_restart = till.commit(cash(10_000), sale_id=sale_id)
    assert first == again == after_restart
    with store.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Sale)).scalar_one() == 1
        moves = conn.execute(select(StockMovement.quantity_milli)).scalars().all()
    assert moves == [-24_000]


def test_line_replay_does_not_sell_twice(store: RunningStore, till: Till) -> None:
    till.new_basket()
    line_id = new_id()
    till.scan(cf.COKE_CAN, line_id=line_id)
    basket = till.scan(cf.COKE_CAN, line_id=line_id)
    assert len(basket.lines) == 1 and basket.total.fen == 300


def test_a_line_id_is_one_line_for_ever(store: RunningStore, till: Till) -> None:
    till.new_basket()
    line_id = new_id()
    till.scan(cf.WATER, line_id=line_id)
    basket = till.call("VoidLine", sales_pb2.LineRef(basket_id=till.basket_id, line_id=line_id))
    # Resent after the void: still voided, not added again.
    assert till.scan(cf.WATER, line_id=line_id).lines == basket.lines == []
    till.new_basket()
    err = expect_code(BAD, lambda: till.scan(cf.WATER, line_id=line_id))
    assert error_detail(err).field == "line_id"


def test_hold_two_resume_the_first_commit_the_second_stays_held(
    store: RunningStore, till: Till
) -> None:
    first = till.new_basket()
    till.scan(cf.COKE_CAN)
    till.call("HoldBasket", sales_pb2.BasketRef(basket_id=first))
    second = till.new_basket()
    till.scan(cf.WATER)
    till.scan(cf.WATER)
    till.call("HoldBasket", sales_pb2.BasketRef(basket_id=second))
    held = till.call("ListHeldBaskets", sales_pb2.ListHeldBasketsRequest()).baskets
    assert [(b.basket_id, b.total.fen) for b in held] == [(first, 300), (second, 400)]
    assert all(b.held_at.seconds for b in held)
    resumed = till.call("ResumeBasket", sales_pb2.BasketRef(basket_id=first))
    assert resumed.status == sales_pb2.BASKET_STATUS_OPEN
    till.basket_id = first
    till.commit(cash(300))
    held = till.call("ListHeldBaskets", sales_pb2.ListHeldBasketsRequest()).baskets
    assert [b.basket_id for b in held] == [second]
    # Another till sees neither.
    other = Till(store, device_id="till-02")
    assert other.call("ListHeldBaskets", sales_pb2.ListHeldBasketsRequest()).baskets == []


def test_void_clear_total_and_back_out(store: RunningStore, till: Till) -> None:
    till.new_basket()
    a = till.scan(cf.COKE_CAN).lines[0].line_id
    till.scan(cf.WATER)
    basket = till.call("VoidLine", sales_pb2.LineRef(basket_id=till.basket_id, line_id=a))
    assert [line.sku for line in basket.lines] == ["P3"] and basket.total.fen == 200
    till.call("TotalBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
    err = expect_code(FP, lambda: till.scan(cf.COKE_CAN))
    assert error_detail(err).reason == "BASKET_TOTALLED"
    till.call("BackOutTotal", sales_pb2.BasketRef(basket_id=till.basket_id))
    assert till.scan(cf.COKE_CAN).total.fen == 500
    cleared = till.call("ClearBasket", sales_pb2.BasketRef(basket_id=till.basket_id))
    assert cleared.status == sales_pb2.BASKET_STATUS_CLEARED and cleared.total.fen == 0
    with store.db.read() as conn:
        actions = [r.action for r in iter_audit(conn)]
    assert "basket.void_line" in actions and "basket.clear" in actions


def test_price_override_needs_a_supervisor_and_is_audited(store: RunningStore, till: Till) -> None:
    till.new_basket()
    line = till.scan(cf.NOODLES, 3000).lines[0].line_id
    req = sales_pb2.OverridePriceRequest(
        basket_id=till.basket_id, line_id=line, unit_price=common_pb2.Money(fen=399), reason="临期"
    )
    expect_code(grpc.StatusCode.PERMISSION_DENIED, lambda: till.call("OverridePrice", req))
    req.supervisor.CopyFrom(supervisor("1002", "9999"))
    expect_code(grpc.StatusCode.UNAUTHENTICATED, lambda: till.call("OverridePrice", req))
    req.supervisor.CopyFrom(supervisor())
    basket = till.call("OverridePrice", req)
    assert basket.total.fen == 1197
    assert [(a.code, a.amount.fen) for a in basket.lines[0].adjustments] == [
        ("PRICE_OVERRIDE", 1197 - 1350)
    ]
    with store.db.read() as conn:
        rows = [
            (r.operator_id, r.action, r.outcome, r.detail)
            for r in iter_audit(conn)
            if r.action == "SalesService/OverridePrice"
        ]
    assert rows[-1][:3] == ("1001", "SalesService/OverridePrice", "OK")
    assert '"approved_by":"1002"' in rows[-1][3]


def test_gift_line_needs_permission(store: RunningStore, till: Till) -> None:
    till.new_basket()
    line = till.scan(cf.WATER).lines[0].line_id
    req = sales_pb2.GiftLineRequest(basket_id=till.basket_id, line_id=line)
    expect_code(grpc.StatusCode.PERMISSION_DENIED, lambda: till.call("GiftLine", req))
    req.supervisor.CopyFrom(supervisor())
    basket = till.call("GiftLine", req)
    assert basket.total.fen == 0 and basket.lines[0].adjustments[0].name == "赠送"


def test_return_two_of_three_then_two_more_is_refused(store: RunningStore, till: Till) -> None:
    till.new_basket()
    line = till.scan(cf.NOODLES, 3000).lines[0].line_id
    till.call(
        "OverridePrice",
        sales_pb2.OverridePriceRequest(
            basket_id=till.basket_id,
            line_id=line,
            unit_price=common_pb2.Money(fen=399),
            supervisor=supervisor(),
        ),
    )
    sale = till.commit(card(600, "C-1"), cash(1000))  # 11.97 paid: 6.00 card, 5.97 cash
    ret = till.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=2000))
            ],
        ),
    )
    assert ret.refund.fen == 798  # 2/3 of 11.97, what was paid after the override
    assert sorted((p.kind, -p.applied.fen) for p in ret.receipt.payments) == [
        ("bank_card", 400),
        ("cash", 398),
    ]
    assert ret.receipt.original_receipt_no == sale.receipt_no
    before = counts(store)
    err = expect_code(
        FP,
        lambda: till.call(
            "ReturnItems",
            sales_pb2.ReturnRequest(
                return_id=new_id(),
                receipt_no=sale.receipt_no,
                lines=[
                    sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=2000))
                ],
            ),
        ),
    )
    assert error_detail(err).reason == "RETURN_EXCEEDS_SALE"
    assert counts(store) == before
    last = till.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=1000))
            ],
        ),
    )
    assert ret.refund.fen + last.refund.fen == 1197  # the parts sum to what was paid
    with store.db.read() as conn:
        pid = conn.execute(select(SaleLine.product_id)).scalar()
        assert stock_repo.on_hand(conn, pid) == 0 == stock_repo.movement_sum(conn, pid)


def test_return_without_receipt_needs_refund_permission(store: RunningStore, till: Till) -> None:
    req = sales_pb2.ReturnRequest(
        return_id=new_id(),
        lines=[
            sales_pb2.ReturnLineRequest(code=cf.COKE_CAN, quantity=common_pb2.Quantity(milli=2000))
        ],
    )
    expect_code(grpc.StatusCode.PERMISSION_DENIED, lambda: till.call("ReturnItems", req))
    req.supervisor.CopyFrom(supervisor())
    ret = till.call("ReturnItems", req)
    assert ret.refund.fen == 600 and ret.open_drawer


def test_receipt_reprint_is_marked_as_a_copy(store: RunningStore, till: Till) -> None:
    sale = till.sell(cf.COKE_CAN)
    copy = till.call("GetReceipt", sales_pb2.GetReceiptRequest(receipt_no=sale.receipt_no))
    assert copy.copy and not sale.receipt.copy
    copy.copy = False
    assert copy == sale.receipt


def test_z_report_over_short_and_day_close(store: RunningStore, till: Till) -> None:
    till.sell(cf.COKE_CASE, pay=cash(7000))  # 66.00, change 4.00
    till.sell(cf.WATER, pay=card(200))  # 2.00 by card
    sale = till.sell(cf.NOODLES, pay=cash(500))  # 4.50, change 0.50
    till.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=1000))
            ],
        ),
    )
    till.call(
        "CashMovement",
        sales_pb2.CashMovementRequest(
            movement_id=new_id(),
            kind=sales_pb2.CASH_MOVEMENT_KIND_OUT,
            amount=common_pb2.Money(fen=5000),
            reason="交款",
        ),
    )
    till.call(
        "CashMovement",
        sales_pb2.CashMovementRequest(
            movement_id=new_id(),
            kind=sales_pb2.CASH_MOVEMENT_KIND_IN,
            amount=common_pb2.Money(fen=1000),
            reason="补零钱",
        ),
    )
    x = till.call("XReport", sales_pb2.ShiftReportRequest())
    # float 500.00 + 66.00 + 4.50 cash sales - 4.50 cash refund - 50.00 out + 10.00 in
    expected = 50_000 + 6600 + 450 - 450 - 5000 + 1000
    assert (x.sales_count, x.sales_total.fen, x.returns_count, x.returns_total.fen) == (
        3,
        7250,
        1,
        450,
    )
    assert x.expected_cash.fen == expected and not x.final
    assert {t.kind: t.amount.fen for t in x.tenders} == {"cash": 6600, "bank_card": 200}
    z = till.call(
        "CloseShift", sales_pb2.CloseShiftRequest(counted_cash=common_pb2.Money(fen=expected - 30))
    )
    assert z.final and z.over_short.fen == -30 and z.counted_cash.fen == expected - 30
    day = store.clock.now().astimezone(store.store.config.zone).date().isoformat()
    assert day == "2026-11-23"
    admin = Till(store, device_id="office", operator=("1003", "3333"))
    status = admin.call("CloseDay", sales_pb2.DayRequest(business_day=day))
    assert status.closed and status.sales_count == 3 and status.sales_total.fen == 7250
    # A closed day takes no new sales (nor shifts) until a supervisor reopens it.
    err = expect_code(FP, lambda: till.open_shift())
    assert error_detail(err).reason == "DAY_CLOSED"
    req = sales_pb2.DayRequest(business_day=day)
    expect_code(grpc.StatusCode.PERMISSION_DENIED, lambda: till.call("ReopenDay", req))
    req.supervisor.CopyFrom(supervisor())
    assert not till.call("ReopenDay", req).closed
    till.open_shift()
    till.sell(cf.WATER)
    with store.db.read() as conn:
        reopen = [r for r in iter_audit(conn) if r.action == "SalesService/ReopenDay"]
    assert [(r.operator_id, r.target, r.outcome) for r in reopen] == [
        ("1001", day, "PERMISSION_DENIED"),
        ("1001", day, "OK"),
    ]
    assert '"approved_by":"1002"' in reopen[-1].detail


def test_no_sale_needs_permission_and_is_audited(store: RunningStore, till: Till) -> None:
    req = sales_pb2.NoSaleRequest(movement_id=new_id(), reason="换零钱")
    expect_code(grpc.StatusCode.PERMISSION_DENIED, lambda: till.call("NoSale", req))
    req.supervisor.CopyFrom(supervisor())
    opened = till.call("NoSale", req)
    assert opened.open_drawer
    assert till.call("NoSale", req) == opened  # a replay opens nothing new
    x = till.call("XReport", sales_pb2.ShiftReportRequest())
    assert x.no_sale_count == 1
    with store.db.read() as conn:
        rows = [r for r in iter_audit(conn) if r.action == "SalesService/NoSale"]
    assert [(r.operator_id, r.outcome) for r in rows] == [
        ("1001", "PERMISSION_DENIED"),
        ("1001", "OK"),
        ("1001", "OK"),
    ]
    assert '"approved_by":"1002"' in rows[1].detail


def test_closed_day_refuses_a_sale_on_a_shift_left_open_across_close(
    store: RunningStore, till: Till
) -> None:
    """Day close needs every shift closed; then even a new basket cannot commit."""
    admin = Till(store, device_id="office", operator=("1003", "3333"))
    err = expect_code(
        FP, lambda: admin.call("CloseDay", sales_pb2.DayRequest(business_day="2026-11-23"))
    )
    assert error_detail(err).reason == "SHIFTS_OPEN"


def test_selling_needs_an_open_shift(store: RunningStore) -> None:
    till = Till(store)
    till.new_basket()
    till.scan(cf.WATER)
    err = expect_code(FP, lambda: till.commit(cash(200)))
    assert error_detail(err).reason == "NO_SHIFT"


@pytest.mark.parametrize(
    ("field", "kwargs", "code"),
    [
        ("quantity_milli", {"quantity_milli": -1000}, BAD),
        ("quantity_milli", {"quantity_milli": 1_001_000}, BAD),
        ("quantity_milli", {"quantity_milli": 1500}, BAD),  # half a can
        ("code", {"code": cf.ean13("690999999999")}, grpc.StatusCode.NOT_FOUND),
        ("line_id", {"line_id": "not-a-uuid"}, BAD),
    ],
)
def test_bad_scans_write_nothing(
    store: RunningStore, till: Till, field: str, kwargs: dict, code: grpc.StatusCode
) -> None:
    till.new_basket()
    request = {"basket_id": till.basket_id, "line_id": new_id(), "code": cf.COKE_CAN, **kwargs}
    before = counts(store)
    err = expect_code(code, lambda: till.call("AddItem", sales_pb2.AddItemRequest(**request)))
    if code == BAD:
        assert error_detail(err).field == field
    assert counts(store) == before
    assert till.call("GetBasket", sales_pb2.BasketRef(basket_id=till.basket_id)).lines == []


def test_zero_quantity_means_one_unit(store: RunningStore, till: Till) -> None:
    till.new_basket()
    assert till.scan(cf.COKE_CAN, 0).lines[0].quantity.milli == 1000


def test_another_tills_basket_is_not_found(store: RunningStore, till: Till) -> None:
    till.new_basket()
    till.scan(cf.WATER)
    other = Till(store, device_id="till-02")
    other.open_shift()
    for call in (
        lambda: other.call(
            "AddItem",
            sales_pb2.AddItemRequest(basket_id=till.basket_id, line_id=new_id(), code=cf.WATER),
        ),
        lambda: other.call("GetBasket", sales_pb2.BasketRef(basket_id=till.basket_id)),
        lambda: other.call(
            "CommitSale",
            sales_pb2.CommitSaleRequest(
                sale_id=new_id(), basket_id=till.basket_id, payments=[cash(200)]
            ),
        ),
    ):
        expect_code(grpc.StatusCode.NOT_FOUND, call)


def test_amounts_that_would_overflow_are_invalid_argument(store: RunningStore, till: Till) -> None:
    till.new_basket()
    till.scan(cf.WATER)
    before = counts(store)
    for payment, field in (
        (cash(2**63 - 1), "payments[0].amount"),
        (cash(-200), "payments[0].amount"),
        (foreign("USD", 2**62), "payments[0].currency"),
    ):
        err = expect_code(
            BAD,
            lambda p=payment: till.call(
                "CommitSale",
                sales_pb2.CommitSaleRequest(
                    sale_id=new_id(), basket_id=till.basket_id, payments=[p]
                ),
            ),
        )
        assert error_detail(err).field == field
    line = till.call("GetBasket", sales_pb2.BasketRef(basket_id=till.basket_id)).lines[0]
    err = expect_code(
        BAD,
        lambda: till.call(
            "OverridePrice",
            sales_pb2.OverridePriceRequest(
                basket_id=till.basket_id,
                line_id=line.line_id,
                unit_price=common_pb2.Money(fen=2**62),
                supervisor=supervisor(),
            ),
        ),
    )
    assert error_detail(err).field == "unit_price"
    assert counts(store) == before


def test_sale_writes_one_audit_entry_and_one_change_row(store: RunningStore, till: Till) -> None:
    with store.db.read() as conn:
        audit_before = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    before = counts(store)
    sale = till.sell(cf.COKE_CAN, cf.WATER)
    after = counts(store)
    assert after["sales"] - before["sales"] == 1
    assert after["sale_lines"] - before["sale_lines"] == 2
    with store.db.read() as conn:
        rows = list(iter_audit(conn))[audit_before:]
        kinds = conn.execute(
            select(ChangeLogEntry.kind, ChangeLogEntry.key)
            .order_by(ChangeLogEntry.seq.desc())
            .limit(1)
        ).one()
    assert [(r.action, r.target) for r in rows] == [("sale.commit", sale.receipt_no)]
    assert tuple(kinds) == ("sale", sale.sale_id)
