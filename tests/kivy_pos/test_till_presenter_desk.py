"""The till's logic beyond a plain sale, against a real store server, with no Kivy:
search as you type, +/- quantity, weights, hold/resume, member QR and badge, price
override and gift with a supervisor, returns, cash in/out, X report, blind shift
close, reprint, no-sale, help and the English switch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from clients.kivy_pos.client import StoreClient
from clients.kivy_pos.till.keys import SELL_KEYS, TENDER_KEYS
from clients.kivy_pos.till.presenter import TillPresenter
from clients.kivy_pos.till.view_model import Screen
from store_server.db.sales_models import Sale
from tests.kivy_pos.test_till_presenter import key_in, logged_in, make_till
from tests.support import catalog_fixture as cf
from tests.support.members import MemberDesk, by_phone, supervisor_desk
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.v1 import sales_pb2


class Recorder:
    """Peripherals that remember what the till asked of them."""

    def __init__(self) -> None:
        self.printed: list[tuple[sales_pb2.Receipt, bool]] = []
        self.drawer = 0
        self.shown: list[tuple[str, object]] = []

    def print_receipt(self, receipt: sales_pb2.Receipt, *, open_drawer: bool) -> None:
        self.printed.append((receipt, open_drawer))

    def open_drawer(self) -> None:
        self.drawer += 1

    def show_item(self, name: str, fen: int) -> None:
        self.shown.append(("item", (name, fen)))

    def show_total(self, fen: int) -> None:
        self.shown.append(("total", fen))

    def show_change(self, fen: int) -> None:
        self.shown.append(("change", fen))

    def close(self) -> None:
        pass


@pytest.fixture
def desk(store: RunningStore) -> Iterator[tuple[TillPresenter, Recorder]]:
    till, client = make_till(store)
    recorder = Recorder()
    till.devices = recorder
    yield logged_in(till), recorder
    client.close()


def pay_cash(till: TillPresenter, yuan_text: str) -> sales_pb2.Sale:
    till.action("total")
    key_in(till, yuan_text)
    assert till.last_sale is not None, till.message
    sale = till.last_sale
    till.enter()  # next sale
    return sale


def test_search_as_you_type_by_pinyin_and_name_then_pick(
    desk: tuple[TillPresenter, Recorder],
) -> None:
    till, recorder = desk
    for ch in "2*kkk":
        till.type_text(ch)
    view = till.view()
    assert view.panel_kind == "search" and view.panel_rows, view.message
    assert all("可口可乐" in row for row in view.panel_rows)  # KKKL and KKKLLD 零度
    till.action("down")
    picked = till.search_results[till.view().panel_selected]
    till.enter()  # the selected result, two of them
    view = till.view()
    assert view.panel_kind == "" and [(r.name, r.quantity) for r in view.lines] == [
        (picked.name, "2")
    ]
    for ch in "苹果":
        till.type_text(ch)
    assert [r.split("  ")[0] for r in till.view().panel_rows] == ["红富士苹果"]
    till.enter()
    assert till.view().prompt.startswith("红富士苹果：输入重量")  # weighed: ask the weight
    key_in(till, "0.352")
    assert till.view().lines[-1].quantity == "0.352 kg"
    assert recorder.shown[-1] == ("item", ("红富士苹果", 451))  # 12.80/kg x 0.352, half up
    # Digits never search: a wedge scan goes straight in.
    key_in(till, cf.WATER)
    assert till.view().panel_kind == "" and till.view().lines[-1].name.startswith("农夫山泉")


def test_plus_minus_change_the_selected_line(desk: tuple[TillPresenter, Recorder]) -> None:
    till, _ = desk
    key_in(till, cf.SPRITE_CAN)
    till.type_text("+")
    till.type_text("+")
    assert till.view().lines[0].quantity == "3" and till.view().entry == ""
    till.type_text("-")
    assert till.view().lines[0].quantity == "2"
    till.type_text("-")
    till.type_text("-")
    assert till.view().lines[0].quantity == "1" and "不能少于 1" in till.view().message


def test_hold_two_baskets_and_resume_from_the_list(desk: tuple[TillPresenter, Recorder]) -> None:
    till, _ = desk
    key_in(till, cf.SPRITE_CAN)
    till.action("hold")
    assert till.view().lines == () and "已挂单" in till.view().message
    key_in(till, f"2*{cf.COKE_CASE}")
    till.action("hold")
    key_in(till, cf.WATER)
    till.action("held")
    view = till.view()
    assert view.panel_kind == "held"
    assert view.panel_rows == ("1. 10:00  1 件  ¥3.00", "2. 10:00  1 件  ¥132.00")
    key_in(till, "2")  # resume the second; the basket on screen is held in its place
    view = till.view()
    assert [r.name for r in view.lines] == ["可口可乐 330ml（24罐装）"] and view.total == "132.00"
    till.action("held")
    assert len(till.view().panel_rows) == 2 and "¥2.00" in till.view().panel_rows[1]
    till.escape()
    sale = pay_cash(till, "132")
    assert sale.total.fen == 13_200


def test_member_qr_in_the_scan_box_and_the_badge(
    store: RunningStore, desk: tuple[TillPresenter, Recorder]
) -> None:
    till, _ = desk
    service = Till(store, device_id="desk-01")
    service.open_shift()
    members = MemberDesk(service)
    member = members.register("13900139000", name="李四")
    supervisor_desk(store, service).top_up(member.member_id, 20_000)
    qr = members.call("IssueQrCode", by_phone("13900139000")).payload
    key_in(till, cf.COKE_CAN)
    key_in(till, qr)  # the member's phone screen, scanned like any code
    badge = till.view().member
    assert "李四" in badge and "139****9000" in badge and "储值 ¥" in badge
    assert "券 0 张" in badge
    assert till.view().lines[0].adjustments == ("会员价 -0.20",)


def test_price_override_and_gift_need_a_supervisor(
    desk: tuple[TillPresenter, Recorder],
) -> None:
    till, _ = desk
    key_in(till, cf.SPRITE_CAN)
    key_in(till, cf.WATER)
    till.action("price")
    key_in(till, "1.50")
    view = till.view()
    assert view.dialog == "主管授权：改价" and view.message == "需要主管授权"
    key_in(till, "1002")
    till.type_text("2222")
    assert till.view().entry == "●●●●"  # the supervisor's PIN is never shown
    till.enter()
    view = till.view()
    assert view.dialog == "" and view.lines[-1].unit_price == "1.50", view.message
    till.action("up")
    till.action("gift")
    key_in(till, "1001")  # a cashier cannot approve
    key_in(till, "1111")
    assert till.view().lines[0].amount == "3.00" and till.view().message
    till.action("gift")
    key_in(till, "1002")
    key_in(till, "2222")
    view = till.view()
    assert view.lines[0].amount == "0.00" and view.total == "1.50", view.message


def test_return_by_receipt_and_without_with_a_supervisor(
    store: RunningStore, desk: tuple[TillPresenter, Recorder]
) -> None:
    till, recorder = desk
    key_in(till, cf.COKE_CAN)
    key_in(till, f"2*{cf.SPRITE_CAN}")
    sale = pay_cash(till, "20")
    till.action("return")
    key_in(till, sale.receipt.barcode or sale.receipt_no)  # the receipt's barcode
    view = till.view()
    assert view.panel_kind == "return" and len(view.panel_rows) == 2
    key_in(till, "2")  # tick line 2 (the sprites)
    assert till.view().panel_rows[1].startswith("☑ 2. 雪碧 330ml")
    till.enter()  # refund
    assert till.view().message.startswith("已退款 ¥6.00"), till.view().message
    receipt, drawer = recorder.printed[-1]
    assert receipt.kind == "return" and receipt.original_receipt_no == sale.receipt_no
    assert drawer  # refunded in cash
    till.action("return")
    till.enter()  # no receipt
    key_in(till, cf.WATER)
    assert till.view().dialog.startswith("主管授权")
    key_in(till, "1002")
    key_in(till, "2222")
    assert till.view().message.startswith("已退款 ¥2.00"), till.view().message


def test_cash_in_out_x_report_and_blind_close_with_over_short(
    store: RunningStore, desk: tuple[TillPresenter, Recorder]
) -> None:
    till, _recorder = desk
    key_in(till, f"2*{cf.COKE_CASE}")
    pay_cash(till, "200")  # 132.00 cash
    till.action("menu")
    assert till.view().panel_rows[0] == "1. 现金收入"
    key_in(till, "1")
    key_in(till, "100")
    key_in(till, "备用零钱")
    assert till.view().message == "已记录现金收入 ¥100.00（备用零钱）"
    till.action("cash_out")
    key_in(till, "50")
    till.enter()
    assert till.view().message == "请输入原因"
    till.action("cash_out")
    key_in(till, "50")
    key_in(till, "交保险柜")
    till.action("x_report")
    rows = till.view().panel_rows
    assert "销售 1 笔  ¥132.00" in rows and "现金收入 ¥100.00  现金支出 ¥50.00" in rows
    assert "应有现金 ¥682.00" in rows  # 500 float + 132 + 100 - 50
    till.escape()
    till.action("close_shift")
    assert "不显示应有金额" in till.view().prompt  # blind
    key_in(till, "680.50")
    view = till.view()
    assert view.panel_title == "交班报表（Z）" and "短款 ¥1.50" in view.panel_rows
    assert view.message == "短款 ¥1.50"
    till.enter()
    assert till.screen is Screen.LOGIN


def test_reprint_and_no_sale_with_a_supervisor(
    store: RunningStore, desk: tuple[TillPresenter, Recorder]
) -> None:
    till, recorder = desk
    key_in(till, cf.WATER)
    sale = pay_cash(till, "2")
    assert recorder.printed[-1] == (sale.receipt, True)
    till.action("reprint")
    till.enter()  # the last receipt
    receipt, drawer = recorder.printed[-1]
    assert receipt.receipt_no == sale.receipt_no and receipt.copy and not drawer
    till.action("no_sale")
    key_in(till, "换零钱")
    key_in(till, "1002")
    key_in(till, "2222")
    assert till.view().message == "钱箱已打开" and recorder.drawer == 1
    with store.db.read() as conn:
        assert len(conn.execute(select(Sale.receipt_no)).all()) == 1


def test_help_lists_every_key_and_english_switch(desk: tuple[TillPresenter, Recorder]) -> None:
    till, _ = desk
    till.action("help")
    rows = till.view().panel_rows
    for key, _action, _label in (*SELL_KEYS, *TENDER_KEYS):
        assert any(row.strip().startswith(key) for row in rows), key
    assert any("+ / -" in row for row in rows) and any("Esc" in row for row in rows)
    till.escape()
    till.action("lang")
    view = till.view()
    assert view.labels["col_item"] == "Item" and view.message == "Language: English"
    till.action("total")
    assert till.view().message == "The basket is empty: scan something first"
    till.action("lang")
    assert till.view().labels["col_item"] == "商品"


def test_client_search_is_a_plain_call(store: RunningStore) -> None:
    client = StoreClient(store.store.address, "till-09")
    client.login("1001", "1111")
    assert next(p.name for p in client.search("KKKL")).startswith("可口可乐")
    client.close()
