"""The newer tenders on the real till window under Xvfb, their buttons tapped, against a
real store server and a simulated receipt printer: a member's coupon, points and stored
value in one sale; the member's count card, a gift voucher and foreign cash in another.
What the tender screen showed must be the server's sale payments and the printed slip."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from clients.kivy_pos.till.amounts import yuan
from clients.kivy_pos.till.keys import QUICK_KEYS
from clients.printing.sim_printer import start_simulator
from store_server.currencies import set_currency
from store_server.db.sales_models import Sale, SalePayment
from store_server.db.unit_of_work import Actor, unit_of_work
from tests.kivy_pos.scenario import run_till
from tests.kivy_pos.test_cashier_flow import printed_slip
from tests.kivy_pos.test_till_window import assert_not_blank
from tests.support import catalog_fixture as cf
from tests.support.members import MemberDesk, by_phone, supervisor_desk
from tests.support.server import RunningStore
from tests.support.till import Till, cash, new_id
from tillpoint.v1 import members_pb2, sales_pb2

pytestmark = pytest.mark.slow

PHONE = "13800138000"  # the till_driver's MEMBER


def prepare(store: RunningStore) -> tuple[str, str]:
    """The member: points from an earlier cash sale, 110.00 stored value, a 满20减5
    coupon and a count card of 5 cans of cola; a USD rate. Returns (member, card) ids."""
    desk_till = Till(store, device_id="desk-01")
    desk_till.open_shift()
    desk = MemberDesk(desk_till)
    member = desk.register(PHONE)
    desk_till.new_basket()
    desk.attach(by_phone(PHONE))
    desk_till.scan(cf.COKE_CASE)
    earned = desk_till.commit(cash(10_000)).receipt.member.points_earned
    assert earned >= 50, earned
    supervisor = supervisor_desk(store, desk_till)
    supervisor.top_up(member.member_id, 10_000)
    supervisor.issue_coupon(
        "CP-TENDER",
        member.member_id,
        '{"name": "满20减5", "rule": {"type": "coupon", "amount_fen": 500, "min_spend_fen": 2000}}',
        valid_from="2026-11-01",
        valid_until="2026-11-30",
    )
    coke = desk_till.scan(cf.COKE_CAN).lines[0].product_id
    desk_till.call("ClearBasket", sales_pb2.BasketRef(basket_id=desk_till.basket_id))
    card_id = new_id()
    supervisor.sell_count_card(member.member_id, coke, uses=5, price_fen=1_200, card_id=card_id)
    with unit_of_work(store.db, Actor.system("test"), store.clock.now()) as uow:
        set_currency(uow, "USD", "美元", "7.1234")
    return member.member_id, card_id


def screen_payments(texts: list[str], first: str) -> list[str]:
    """The tender screen's payments label ('  ' between payments), by its first payment."""
    shown = next(t for t in texts if t.startswith(first))
    return shown.split("  ")


def receipt_of(store: RunningStore, texts: list[str]) -> sales_pb2.Receipt:
    done = next(t for t in texts if t.startswith("交易完成"))
    receipt_no = done.split("小票")[1].strip()
    return Till(store, device_id="check-01").call(
        "GetReceipt", sales_pb2.GetReceiptRequest(receipt_no=receipt_no)
    )


def quick_keys_shown(texts: list[str]) -> list[str]:
    """The quick-cash buttons on screen ('F9\n¥66.00')."""
    return [t for t in texts if t.startswith(tuple(f"{k}\n" for k in QUICK_KEYS))]


def slip_has(slip: list[tuple], left: str, fen: int) -> bool:
    """A printed line with `left` and the amount on it."""
    return any(left in str(e[1]) and yuan(fen) in str(e[1]) for e in slip if e[0] == "text")


def test_member_tenders_then_count_card_voucher_and_foreign_cash_tapped_on_the_window(
    store: RunningStore, tmp_path: Path
) -> None:
    member_id, card_id = prepare(store)
    desk = MemberDesk(Till(store, device_id="desk-02"))
    before = desk.identify(by_phone(PHONE))
    printer = start_simulator(("127.0.0.1", 0), tmp_path / "receipts")
    host, port = printer.address
    try:
        result = run_till(
            store.store.address,
            tmp_path / "till",
            scenario="tenders",
            printer=f"network:{host}:{port}",
            codes={"points": "0.50", "voucher": "20", "foreign": "USD10"},
            timeout=90.0,
        )
    finally:
        printer.stop()
    screens = result["screens"]

    # Sale 1: the coupon takes 5.00 off, 50 points pay 0.50, stored value the rest.
    member_screen = screens["tenders_member"]
    receipt = receipt_of(store, member_screen)
    paid = [(p.kind, p.name, p.applied.fen) for p in receipt.payments]
    assert paid == [
        ("points", "积分抵现", 50),
        ("stored_value", "储值卡", receipt.total.fen - 50),
    ]
    assert screen_payments(member_screen, "积分抵现") == [
        f"{name} ¥{yuan(fen)}" for _kind, name, fen in paid
    ]
    assert f"应付 ¥{yuan(receipt.total.fen)}" in member_screen
    assert "找零 ¥0.00" in member_screen and receipt.change.fen == 0
    assert f"已付 ¥{yuan(receipt.total.fen)}    剩余 ¥0.00" in member_screen
    assert quick_keys_shown(member_screen) == []
    coupons = desk.call("ListCoupons", members_pb2.MemberCredential(member_id=member_id))
    assert [(c.coupon_id, c.status) for c in coupons.coupons] == [("CP-TENDER", "redeemed")]
    after = desk.identify(by_phone(PHONE))
    assert after.stored_value.fen == before.stored_value.fen - (receipt.total.fen - 50)
    assert receipt.member.points_redeemed == 50
    slip = printed_slip(tmp_path / "receipts", receipt.receipt_no)
    assert all(slip_has(slip, name, fen) for _kind, name, fen in paid), slip

    # Sale 2: the count card pays the two cans, a 20.00 voucher and US$10.00 the rest.
    foreign_screen = screens["tenders_foreign"]
    receipt = receipt_of(store, foreign_screen)
    cans = next(line for line in receipt.lines if line.sku == "P1" and line.pack_factor == 1)
    assert [
        (p.kind, p.applied.fen, p.reference, p.currency, p.foreign_amount_minor)
        for p in receipt.payments
    ] == [
        ("count_card", cans.net_amount.fen, card_id, "", 0),
        ("gift_voucher", 2_000, "GV-8888", "", 0),
        ("foreign_cash", receipt.total.fen - cans.net_amount.fen - 2_000, "", "USD", 1_000),
    ]
    assert screen_payments(foreign_screen, "计次卡") == [
        f"计次卡 ¥{yuan(cans.net_amount.fen)}（2 次）",
        "礼券 ¥20.00",
        "外币现金 USD 10.00（¥71.23）",  # its yuan value, as the server converted it
    ]
    usd = receipt.payments[2].tendered.fen
    assert usd == 7_123  # US$10.00 at 7.1234 = 7123.4 fen, half up
    # 已付 counts the dollars at their yuan value; nothing remains; no cash key offers more.
    paid = sum(p.tendered.fen for p in receipt.payments)
    assert paid == cans.net_amount.fen + 2_000 + usd
    assert f"已付 ¥{yuan(paid)}    剩余 ¥0.00" in foreign_screen, foreign_screen
    assert quick_keys_shown(foreign_screen) == [], foreign_screen
    assert receipt.change.fen == cans.net_amount.fen + 2_000 + usd - receipt.total.fen
    assert f"找零 ¥{yuan(receipt.change.fen)}" in foreign_screen
    assert f"应付 ¥{yuan(receipt.total.fen)}" in foreign_screen
    cards = desk.identify(by_phone(PHONE)).count_cards
    assert [(c.card_id, c.remaining) for c in cards] == [(card_id, 3)]
    slip = printed_slip(tmp_path / "receipts", receipt.receipt_no)
    for p in receipt.payments:
        assert slip_has(slip, p.name, p.tendered.fen), (p.name, slip)
    assert any("GV-8888" in str(e[1]) for e in slip if e[0] == "text")

    # The server's payment rows are the receipts' (a foreign payment applied in yuan).
    for screen, kinds in (
        (member_screen, ["points", "stored_value"]),
        (foreign_screen, ["count_card", "gift_voucher", "foreign_cash"]),
    ):
        shown = receipt_of(store, screen)
        with store.db.read() as conn:
            rows = conn.execute(
                select(SalePayment.kind, SalePayment.applied_fen)
                .join(Sale, Sale.sale_id == SalePayment.sale_id)
                .where(Sale.receipt_no == shown.receipt_no)
                .order_by(SalePayment.seq)
            ).all()
        assert [tuple(r) for r in rows] == [(p.kind, p.applied.fen) for p in shown.payments]
        assert [r.kind for r in rows] == kinds
    for name in ("tenders_member", "tenders_foreign"):
        assert_not_blank(Path(result["shots"][name]))
