"""The tender screen's extra tenders against a real store server, with no Kivy:
gift voucher (face value, no change), foreign cash (converted by the server, change
in yuan), the attached member's coupons applied and taken off before paying and the
member's count card paying its units; and a return of part of a receipt line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.kivy_pos.till.amounts import yuan
from clients.kivy_pos.till.help import help_rows
from clients.kivy_pos.till.keys import END, F1, TENDER_KEYS, command_for
from clients.kivy_pos.till.presenter import TillPresenter
from clients.kivy_pos.till.tender import (
    Tender,
    TenderKind,
    TenderRefused,
    count_card_cover,
    count_card_units,
)
from clients.kivy_pos.till.tender_extras import parse_foreign
from clients.kivy_pos.till.texts import Texts
from clients.kivy_pos.till.view_model import Screen
from store_server.currencies import set_currency
from store_server.db.unit_of_work import Actor, unit_of_work
from tests.kivy_pos.test_till_presenter import key_in, logged_in, make_till
from tests.support import catalog_fixture as cf
from tests.support.members import PIN, MemberDesk, supervisor_desk
from tests.support.server import RunningStore
from tests.support.till import Till, new_id
from tillpoint.v1 import common_pb2, members_pb2, sales_pb2


@pytest.fixture
def till(store: RunningStore) -> Iterator[TillPresenter]:
    presenter, client = make_till(store)
    yield logged_in(presenter)
    client.close()


def test_voucher_and_cash_arithmetic_follows_the_server() -> None:
    t = Tender(6_600).add(TenderKind.GIFT_VOUCHER, 10_000, has_member=False, reference="V1")
    assert (t.remaining, t.change, t.forfeited, t.complete) == (0, 0, 3_400, True)
    t = Tender(6_600).add(TenderKind.GIFT_VOUCHER, 5_000, has_member=False, reference="V1")
    t = t.add(TenderKind.CASH, 2_000, has_member=False)
    assert (t.remaining, t.change, t.forfeited) == (0, 400, 0)
    with pytest.raises(TenderRefused):
        Tender(6_600).add(TenderKind.BANK_CARD, 7_000, has_member=False, reference="C")
    assert parse_foreign("20.5", "USD") == ("USD", 2_050)
    assert parse_foreign("hkd 100", "USD") == ("HKD", 10_000)
    assert parse_foreign("JPY1000", "USD") == ("JPY", 1_000)
    assert parse_foreign("JPY10.5", "USD") is None and parse_foreign("XYZ1", "USD") is None


def test_new_keys_are_mapped() -> None:
    assert command_for(F1 + 5, Screen.TENDER) == "tender:GIFT_VOUCHER"
    assert command_for(F1 + 6, Screen.TENDER) == "foreign"
    assert command_for(F1 + 7, Screen.TENDER) == "coupons"
    assert command_for(278, Screen.TENDER) == "help"
    assert {a for _k, a, _l in TENDER_KEYS} >= {"tender:GIFT_VOUCHER", "foreign", "coupons"}


def test_gift_voucher_alone_forfeits_the_excess_and_split_with_cash_gives_change(
    till: TillPresenter,
) -> None:
    key_in(till, cf.COKE_CASE)
    till.action("total")
    due = till.tender.due if till.tender else 0
    till.action("tender:GIFT_VOUCHER")
    assert till.view().tender_kind == "礼券"
    key_in(till, "100")
    assert "礼券号" in till.view().prompt
    key_in(till, "GV-0001")
    sale = till.last_sale
    assert sale is not None, till.message
    assert sale.change.fen == 0
    assert sale.receipt.forfeited.fen == 10_000 - due
    assert [
        (p.kind, p.tendered.fen, p.applied.fen, p.reference) for p in sale.receipt.payments
    ] == [("gift_voucher", 10_000, due, "GV-0001")]
    assert "不找零" in till.view().done
    till.enter()  # next sale

    key_in(till, cf.COKE_CASE)
    till.action("total")
    till.action("tender:GIFT_VOUCHER")
    key_in(till, "50")
    key_in(till, "GV-0002")
    assert till.view().remaining == f"{(due - 5_000) // 100}.{(due - 5_000) % 100:02d}"
    till.action("tender:CASH")
    key_in(till, "100")
    sale = till.last_sale
    assert sale is not None, till.message
    assert sale.change.fen == 15_000 - due
    assert till.view().change == f"{(15_000 - due) // 100}.{(15_000 - due) % 100:02d}"


def test_foreign_cash_last_is_converted_by_the_server(
    store: RunningStore, till: TillPresenter
) -> None:
    with unit_of_work(store.db, Actor.system("test"), store.clock.now()) as uow:
        set_currency(uow, "USD", "美元", "7.1234")
    key_in(till, cf.COKE_CASE)
    key_in(till, cf.COKE_CASE)
    till.action("total")
    due = till.tender.due if till.tender else 0
    key_in(till, "50")  # cash first, part of it
    till.action("foreign")
    assert till.view().tender_kind == "外币现金 USD"
    for _ in range(4):  # USD -> HKD -> EUR -> JPY -> USD
        till.action("foreign")
    assert till.foreign_currency == "USD"
    key_in(till, "0.01")  # one cent: far too little, the server says so
    assert till.last_sale is None and till.message == "付款不足"
    assert [p.kind for p in till.tender.payments] == [TenderKind.CASH]  # type: ignore[union-attr]
    key_in(till, "EUR20")  # no rate set for EUR: refused, nothing taken
    assert till.last_sale is None and till.message
    assert len(till.tender.payments) == 1  # type: ignore[union-attr]
    key_in(till, "USD20")
    sale = till.last_sale
    assert sale is not None, till.message
    # US$20.00 at 7.1234 = 142.468 yuan -> 14247 fen (half up)
    assert [(p.kind, p.tendered.fen) for p in sale.receipt.payments] == [
        ("cash", 5_000),
        ("foreign_cash", 14_247),
    ]
    assert sale.receipt.payments[1].currency == "USD"
    assert sale.receipt.payments[1].foreign_amount_minor == 2_000
    assert sale.change.fen == 5_000 + 14_247 - due
    assert till.view().change == f"{sale.change.fen // 100}.{sale.change.fen % 100:02d}"
    assert sale.open_drawer


def test_member_coupon_applied_and_taken_off_on_the_tender_screen(
    store: RunningStore, till: TillPresenter
) -> None:
    service = Till(store, device_id="desk-02")
    members = MemberDesk(service)
    member = members.register("13700137000", name="王五")
    sup = supervisor_desk(store, service)
    sup.issue_coupon(
        "CP-1",
        member.member_id,
        '{"name": "满20减5", "rule": {"type": "coupon", "amount_fen": 500, "min_spend_fen": 2000}}',
        valid_from="2026-11-01",
        valid_until="2026-11-30",
    )
    key_in(till, cf.COKE_CASE)
    till.action("total")
    till.action("coupons")
    assert till.message == "使用优惠券需要先登记会员" and till.panel is None
    till.escape()  # back to selling to attach the member
    assert till.screen is Screen.SELL
    till.action("member")
    key_in(till, f"13700137000*{PIN}")
    till.action("total")
    due = till.tender.due if till.tender else 0
    till.action("coupons")
    view = till.view()
    assert view.panel_kind == "coupons" and view.panel_rows[0].startswith("☐ 1. 满20减5")
    till.enter()  # Enter on the selected row: use it
    assert till.basket is not None and list(till.basket.coupon_ids) == ["CP-1"]
    assert till.tender is not None and till.tender.due == due - 500
    assert till.view().panel_rows[0].startswith("☑")
    till.enter()  # again: taken off
    assert till.tender.due == due and not till.basket.coupon_ids
    key_in(till, "1")  # by row number: on again
    assert till.tender.due == due - 500
    till.escape()  # the panel closes
    assert till.panel is None and till.screen is Screen.TENDER
    key_in(till, "")  # cash, the rest
    sale = till.last_sale
    assert sale is not None, till.message
    assert sale.total.fen == due - 500
    spent = members.call("ListCoupons", members_pb2.MemberCredential(member_id=member.member_id))
    assert [c.status for c in spent.coupons] == ["redeemed"]  # the coupon is spent


def test_return_part_of_a_line_by_receipt(till: TillPresenter) -> None:
    key_in(till, cf.COKE_CAN)
    key_in(till, f"3*{cf.SPRITE_CAN}")
    till.action("total")
    key_in(till, "50")
    sale = till.last_sale
    assert sale is not None, till.message
    till.enter()  # next sale
    till.action("return")
    key_in(till, sale.receipt.barcode or sale.receipt_no)
    key_in(till, "2*5")  # more than was bought
    assert till.view().message == "退货数量不对：行号*数量，数量不能超过原购买数量"
    key_in(till, "2*2")
    row = till.view().panel_rows[1]
    assert row.startswith("☑ 2. 雪碧 330ml") and row.endswith("→ 退 2"), row
    till.enter()  # refund two of the three
    assert till.view().message.startswith("已退款 ¥6.00"), till.view().message
    till.action("return")
    key_in(till, sale.receipt.barcode or sale.receipt_no)
    key_in(till, "2*1")
    till.enter()  # the third one
    assert till.view().message.startswith("已退款 ¥3.00"), till.view().message
    till.action("return")
    key_in(till, sale.receipt.barcode or sale.receipt_no)
    key_in(till, "2*1")
    till.enter()  # none left: the server refuses, nothing refunded
    assert not till.view().message.startswith("已退款"), till.view().message


def test_cash_pays_the_rounded_total_as_the_server_settles_it() -> None:
    """抹零: with cash among the payments the whole sale is due rounded (7.48 -> 7.40)."""
    t = Tender(748, cash_total=740)
    assert t.due == 748  # nothing paid yet: the card total
    cash = t.add(TenderKind.CASH, 1_000, has_member=False)
    assert (cash.due, cash.remaining, cash.change) == (740, 0, 260)
    split = t.add(TenderKind.BANK_CARD, 500, has_member=False, reference="C")
    assert split.remaining == 248  # card pays to the fen until cash is taken
    split = split.add(TenderKind.CASH, 300, has_member=False)
    assert (split.due, split.remaining, split.change) == (740, 0, 60)
    assert (
        Tender(748, cash_total=740)
        .add(TenderKind.BANK_CARD, 748, has_member=False, reference="C")
        .remaining
        == 0
    )


def sell_count_card(store: RunningStore, phone: str, code: str, uses: int) -> str:
    """A member (phone + PIN) sold a count card of `uses` uses of the product `code`."""
    service = Till(store, device_id="desk-03")
    service.open_shift()
    member = MemberDesk(service).register(phone, name="赵六")
    product_id = service.scan(code).lines[0].product_id
    service.call("ClearBasket", sales_pb2.BasketRef(basket_id=service.basket_id))
    card_id = new_id()
    supervisor_desk(store, service).sell_count_card(
        member.member_id, product_id, uses=uses, price_fen=1_000, card_id=card_id
    )
    return card_id


def test_count_card_key_is_mapped_and_in_the_help() -> None:
    assert command_for(END, Screen.TENDER) == "count_card"
    assert ("End", "count_card", "count_card") in TENDER_KEYS
    assert any(row.split() == ["End", "计次卡"] for row in help_rows(Texts()))


def test_count_card_pays_its_units_and_the_rest_in_cash(
    store: RunningStore, till: TillPresenter
) -> None:
    card_id = sell_count_card(store, "13600136000", cf.COKE_CAN, uses=3)
    key_in(till, f"2*{cf.COKE_CAN}")
    key_in(till, cf.SPRITE_CAN)
    till.action("total")
    till.action("count_card")  # no member on the basket yet
    assert till.message == "使用计次卡需要先登记会员" and till.panel is None
    till.escape()  # back to selling to attach the member
    till.action("member")
    key_in(till, f"13600136000*{PIN}")
    assert till.basket is not None
    coke = next(line for line in till.basket.lines if line.code == cf.COKE_CAN)
    till.action("total")
    due = till.tender.due if till.tender else 0
    till.action("count_card")
    view = till.view()
    assert view.panel_kind == "count_cards"
    assert view.panel_rows == (
        f"1. {coke.name}  剩 3/3 次  本单用 2 次 ¥{yuan(coke.net_amount.fen)}",
    )
    till.enter()  # Enter on the selected card: two uses pay the two cans
    view = till.view()
    assert till.panel is None and till.last_sale is None
    assert view.payments == (f"计次卡 ¥{yuan(coke.net_amount.fen)}（2 次）",)
    assert view.remaining == yuan(due - coke.net_amount.fen)
    till.action("count_card")  # both cans are paid: nothing left for the card
    assert till.message == "该会员没有本单商品可用的计次卡" and till.panel is None
    key_in(till, "10")  # cash for the sprite
    sale = till.last_sale
    assert sale is not None, till.message
    assert [(p.kind, p.name, p.applied.fen, p.reference) for p in sale.receipt.payments] == [
        ("count_card", "计次卡", coke.net_amount.fen, card_id),
        ("cash", "现金", due - coke.net_amount.fen, ""),
    ]
    assert sale.change.fen == 1_000 - (due - coke.net_amount.fen)
    desk = MemberDesk(Till(store, device_id="desk-04"))
    member = desk.identify(members_pb2.MemberCredential(phone="13600136000", pin=PIN))
    assert [(c.card_id, c.remaining) for c in member.count_cards] == [(card_id, 1)]


def test_count_card_arithmetic_follows_the_server_share() -> None:
    """Three cans at 7.00 after a discount: one use pays 2.33, two 4.67, three 7.00."""
    basket = sales_pb2.Basket(
        lines=[
            sales_pb2.BasketLine(
                product_id=7,
                pack_factor=1,
                quantity=common_pb2.Quantity(milli=3_000),
                net_amount=common_pb2.Money(fen=700),
            ),
            sales_pb2.BasketLine(
                product_id=7,
                pack_factor=1,
                gift=True,
                quantity=common_pb2.Quantity(milli=1_000),
                net_amount=common_pb2.Money(fen=0),
            ),
        ]
    )
    assert count_card_units(basket, 7) == 3  # the gift is not a unit a card pays
    assert [count_card_cover(basket, 7, 0, n) for n in (1, 2, 3)] == [233, 467, 700]
    assert count_card_cover(basket, 7, 1, 1) == 234  # the second can, after one paid
    t = Tender(900).add_count_card("C1", 7, 2, 467, has_member=True)
    assert (t.remaining, t.uses_taken(7), t.uses_taken(8)) == (433, 2, 0)
    assert t.to_proto()[0].uses == 2 and not t.to_proto()[0].HasField("amount")
    with pytest.raises(TenderRefused):
        Tender(900).add_count_card("C1", 7, 2, 467, has_member=False)
    with pytest.raises(TenderRefused):
        Tender(900).add(TenderKind.COUNT_CARD, 467, has_member=True)
