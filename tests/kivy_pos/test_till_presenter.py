"""The till's logic, driven like a cashier against a real store server, with no Kivy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from clients.kivy_pos.client import CallPolicy, StoreClient
from clients.kivy_pos.till.presenter import Step, TillPresenter
from clients.kivy_pos.till.view_model import Screen
from store_server.db.sales_models import Sale
from tests.kivy_pos.stores import start_again, stop
from tests.support import catalog_fixture as cf
from tests.support.members import MemberDesk, supervisor_desk
from tests.support.server import RunningStore
from tests.support.till import Till


def sale_count(store: RunningStore) -> int:
    with store.db.read() as conn:
        return conn.execute(select(func.count()).select_from(Sale)).scalar_one()


def make_till(store: RunningStore) -> tuple[TillPresenter, StoreClient]:
    client = StoreClient(
        store.store.address,
        "till-01",
        policy=CallPolicy(deadline=1.0, attempts=2, backoff=0.01),
        sleep=lambda _s: None,
    )
    return TillPresenter(client), client


def key_in(till: TillPresenter, text: str) -> None:
    """Type like a keyboard wedge: characters, then Enter."""
    till.type_text(text)
    till.enter()


def logged_in(till: TillPresenter) -> TillPresenter:
    key_in(till, "1001")
    key_in(till, "1111")
    if till.step is Step.FLOAT:
        key_in(till, "500")
    return till


@pytest.fixture
def till(store: RunningStore) -> Iterator[TillPresenter]:
    presenter, client = make_till(store)
    yield presenter
    client.close()


def test_login_wrong_pin_then_shift_open_with_a_float(till: TillPresenter) -> None:
    redraws: list[int] = []
    till.subscribe(lambda: redraws.append(1))
    key_in(till, "1001")
    assert till.view().prompt.startswith("请输入密码")
    till.type_text("99")
    assert till.view().entry == "●●"  # a PIN is never shown
    till.enter()
    assert till.view().message == "密码须为 4 到 8 位数字"  # the field at fault, in words
    key_in(till, "1001")
    till.type_text("9999")
    till.enter()
    assert till.screen is Screen.LOGIN and till.step is Step.OPERATOR
    assert till.view().message == "工号或密码不对"  # BAD_CREDENTIALS, in the cashier's words
    key_in(till, "1001")
    key_in(till, "1111")
    assert till.step is Step.FLOAT
    key_in(till, "500")
    view = till.view()
    assert view.screen is Screen.SELL and "500.00" in view.message
    assert view.operator.startswith("1001") and redraws


def test_scan_lines_member_badge_and_explained_discount(
    store: RunningStore, till: TillPresenter
) -> None:
    service_desk = Till(store, device_id="desk-01")
    service_desk.open_shift()
    desk = MemberDesk(service_desk)
    member = desk.register("13800138000")
    supervisor_desk(store, desk.till).top_up(member.member_id, 10_000)
    logged_in(till)
    key_in(till, cf.COKE_CAN)
    key_in(till, f"3*{cf.SPRITE_CAN}")
    key_in(till, cf.COKE_CASE)
    key_in(till, "0.5*1001")  # 500 g of apples by PLU
    key_in(till, cf.ean13("690999999999"))
    view = till.view()
    assert view.message and view.entry == ""  # unknown barcode, said in words
    assert [(r.name, r.quantity, r.amount) for r in view.lines] == [
        ("可口可乐 330ml", "1", "3.00"),
        ("雪碧 330ml", "3", "9.00"),
        ("可口可乐 330ml（24罐装）", "1", "66.00"),
        ("红富士苹果", "0.500 kg", "6.40"),
    ]
    assert view.total == "84.40" and view.lines[-1].selected
    till.action("member")
    assert till.view().prompt.startswith("会员")
    key_in(till, "13800138000*246810")
    view = till.view()
    assert "138****8000" in view.member and "储值 ¥110.00" in view.member
    assert view.lines[0].adjustments == ("会员价 -0.20",)
    assert (view.discount, view.total) == ("0.20", "84.20")


def test_quantity_void_and_back_out_of_tender(till: TillPresenter) -> None:
    logged_in(till)
    key_in(till, cf.SPRITE_CAN)
    key_in(till, cf.WATER)
    till.action("up")
    till.action("quantity")
    key_in(till, "4")
    assert [r.quantity for r in till.view().lines] == ["4", "1"]
    till.action("down")
    till.action("void")
    view = till.view()
    assert [r.name for r in view.lines] == ["雪碧 330ml"] and "农夫山泉" in view.message
    till.enter()  # an empty Enter with lines goes to tender
    assert till.screen is Screen.TENDER and till.view().due == "12.00"
    till.escape()
    assert till.screen is Screen.SELL
    till.type_text(cf.WATER)
    till.enter()
    assert till.view().total == "14.00"


def test_split_tender_card_then_cash_with_change(store: RunningStore, till: TillPresenter) -> None:
    logged_in(till)
    key_in(till, f"2*{cf.COKE_CASE}")
    till.action("total")
    till.action("tender:BANK_CARD")
    key_in(till, "200")
    assert "不能超过" in till.view().message  # a card cannot pay more than is due
    key_in(till, "100")
    assert till.view().prompt.startswith("银行卡 ¥100.00")
    key_in(till, "C-0001")  # the card slip's number
    till.action("tender:CASH")
    key_in(till, "50")
    view = till.view()
    assert (view.due, view.paid, view.remaining) == ("132.00", "150.00", "0.00"), view.message
    assert view.change == "18.00" and view.done.startswith("交易完成")
    receipt = till.last_sale.receipt
    assert receipt.total.fen == 13_200 and receipt.change.fen == 1_800
    assert [p.name for p in receipt.payments] == ["银行卡", "现金"]
    till.action("quick:1000")  # a stray tap on the done sale pays nothing more
    assert till.view().paid == "150.00" and sale_count(store) == 1
    till.type_text(cf.WATER)  # the next customer's first scan starts a new sale
    till.enter()
    assert till.screen is Screen.SELL and till.view().total == "2.00"
    assert sale_count(store) == 1


def test_server_lost_during_tender_banner_then_one_sale(fixed_store: RunningStore) -> None:
    till, client = make_till(fixed_store)
    logged_in(till)
    key_in(till, f"2*{cf.SPRITE_CAN}")
    till.action("total")
    stop(fixed_store)
    till.action("quick:1000")  # ¥10 in cash
    view = till.view()
    assert "无法连接" in view.banner and "不会重复收款" in view.banner
    assert [r.name for r in view.lines] == ["雪碧 330ml"]  # the basket stays on screen
    assert till.pending is not None
    sale_id = till.pending.sale_id
    till.retry()
    assert till.view().banner and till.pending is not None
    start_again(fixed_store)
    assert client.reachable(timeout=5.0)  # the till's retry timer ticks on
    till.retry()
    view = till.view()
    assert view.banner == "" and view.message == ""
    assert view.change == "4.00" and till.last_sale.sale_id == sale_id
    assert sale_count(fixed_store) == 1
    client.close()


def test_a_scan_lost_in_an_outage_is_one_line_when_sent_again(fixed_store: RunningStore) -> None:
    till, client = make_till(fixed_store)
    logged_in(till)
    key_in(till, cf.COKE_CAN)
    stop(fixed_store)
    key_in(till, cf.SPRITE_CAN)
    assert till.view().banner and till.view().entry == cf.SPRITE_CAN  # kept in the box
    start_again(fixed_store)
    assert client.reachable(timeout=5.0)
    till.retry()  # the till's timer: the server answers again, the banner goes
    assert till.view().banner == "" and till.view().entry == cf.SPRITE_CAN
    till.enter()
    till.type_text(cf.SPRITE_CAN)  # a nervous cashier scans again: a second line, by choice
    till.enter()
    names = [r.name for r in till.view().lines]
    assert names == ["可口可乐 330ml", "雪碧 330ml", "雪碧 330ml"] and not till.view().banner
    client.close()
