"""The tender screen's extra tenders against a real store server, with no Kivy:
gift voucher (face value, no change), foreign cash (converted by the server, change
in yuan) and the attached member's coupons applied and taken off before paying; and
a return of part of a receipt line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.kivy_pos.till.keys import F1, TENDER_KEYS, command_for
from clients.kivy_pos.till.presenter import TillPresenter
from clients.kivy_pos.till.tender import Tender, TenderKind, TenderRefused
from clients.kivy_pos.till.tender_extras import parse_foreign
from clients.kivy_pos.till.view_model import Screen
from store_server.currencies import set_currency
from store_server.db.unit_of_work import Actor, unit_of_work
from tests.kivy_pos.test_till_presenter import key_in, logged_in, make_till
from tests.support import catalog_fixture as cf
from tests.support.members import PIN, MemberDesk, supervisor_desk
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.v1 import members_pb2


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
    sup.call(
        "IssueCoupon",
        members_pb2.IssueCouponRequest(
            coupon_id="CP-1",
            member_id=member.member_id,
            campaign="双十一",
            definition='{"name": "满20减5", "rule": {"type": "coupon", "amount_fen": 500,'
            ' "min_spend_fen": 2000}}',
            valid_from="2026-11-01",
            valid_until="2026-11-30",
        ),
        sup.md,
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
