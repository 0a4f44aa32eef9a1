"""Foreign cash on the till's tender screen, against a real store server (no Kivy):
once the server has converted it, 已付 shows its yuan value and 剩余/找零 are the
server's to the fen, the quick-cash keys go, and a commit held by an outage shows no
figures it cannot know. The rates are set so that a payment is a fraction of a fen,
rounded half up as the server does (store_server/domain/tender.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.kivy_pos.till.amounts import yuan
from clients.kivy_pos.till.presenter import TillPresenter
from clients.kivy_pos.till.tender import Tender, TenderKind
from store_server.currencies import set_currency
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.barcodes import DEFAULT_LAYOUTS, make_scale_label
from tests.kivy_pos.stores import start_again, stop
from tests.kivy_pos.test_till_presenter import key_in, logged_in, make_till
from tests.support import catalog_fixture as cf
from tests.support.server import RunningStore
from tillpoint.v1 import common_pb2, sales_pb2


def set_rate(store: RunningStore, code: str, rate: str, minor_units: int = 2) -> None:
    with unit_of_work(store.db, Actor.system("test"), store.clock.now()) as uow:
        set_currency(uow, code, code, rate, minor_units)


@pytest.fixture
def till(store: RunningStore) -> Iterator[TillPresenter]:
    presenter, client = make_till(store)
    yield logged_in(presenter)
    client.close()


def test_foreign_cash_shows_its_yuan_value_and_the_servers_change(
    store: RunningStore, till: TillPresenter
) -> None:
    set_rate(store, "USD", "7.15")  # 1 cent = 7.15 fen
    key_in(till, cf.COKE_CASE)
    key_in(till, cf.COKE_CASE)
    till.action("total")
    assert till.view().due == "132.00"
    key_in(till, "50")  # cash first, part of it
    assert till.view().quick  # the rest may still be paid in cash
    till.action("foreign")
    key_in(till, "20.30")  # US$20.30 = 14514.5 fen: half up to 14515 (not 14514)
    sale = till.last_sale
    assert sale is not None, till.message
    assert [(p.kind, p.tendered.fen) for p in sale.receipt.payments] == [
        ("cash", 5_000),
        ("foreign_cash", 14_515),
    ]
    assert sale.change.fen == 5_000 + 14_515 - 13_200 == 6_315
    view = till.view()
    assert (view.due, view.paid, view.remaining, view.change) == (
        "132.00",
        "195.15",
        "0.00",
        "63.15",
    )
    assert view.payments == ("现金 ¥50.00", "外币现金 USD 20.30（¥145.15）")
    assert view.quick == ()  # paid in full: no cash key offers more
    till.action("quick_index:0")  # the key pressed anyway: nothing more is paid
    assert till.last_sale is sale and till.view().paid == "195.15"
    # The till's own arithmetic, with the server's conversion, agrees to the fen.
    assert till.tender is not None
    assert (till.tender.paid, till.tender.remaining, till.tender.change) == (19_515, 0, 6_315)


def test_foreign_cash_alone_with_rounding_and_a_currency_without_cents(
    jiao_store: RunningStore,
) -> None:
    """JPY at 0.0485 yuan: ¥2990 yen = 14501.5 fen -> 14502; the total 70.51 is due
    as 70.50 once cash is among the payments (抹零)."""
    set_rate(jiao_store, "JPY", "0.0485", minor_units=0)
    till, client = make_till(jiao_store)
    logged_in(till)
    key_in(till, make_scale_label(DEFAULT_LAYOUTS[0], "1001", 352))  # 0.352 kg: 4.51
    key_in(till, cf.COKE_CASE)  # 66.00
    till.action("total")
    assert till.view().due == "70.51"
    till.action("foreign")  # USD
    till.action("foreign")  # HKD
    till.action("foreign")  # EUR
    till.action("foreign")  # JPY
    key_in(till, "2990")
    sale = till.last_sale
    assert sale is not None, till.message
    receipt = sale.receipt
    assert (receipt.rounding.fen, receipt.total.fen) == (-1, 7_050)
    assert [(p.kind, p.tendered.fen, p.applied.fen) for p in receipt.payments] == [
        ("foreign_cash", 14_502, 7_050)
    ]
    view = till.view()
    assert (view.due, view.paid, view.remaining, view.change) == (
        "70.50",
        "145.02",
        "0.00",
        yuan(14_502 - 7_050),
    )
    assert sale.change.fen == 7_452
    assert view.payments == ("外币现金 JPY 2990（¥145.02）",)
    assert view.quick == ()
    client.close()


def test_a_foreign_commit_held_by_an_outage_shows_no_guessed_figures(
    fixed_store: RunningStore,
) -> None:
    set_rate(fixed_store, "USD", "7.1234")
    till, client = make_till(fixed_store)
    logged_in(till)
    key_in(till, cf.COKE_CASE)
    till.action("total")
    till.action("foreign")
    stop(fixed_store)
    key_in(till, "10")  # US$10.00: sent, no answer
    assert till.pending is not None and till.last_sale is None
    view = till.view()
    assert view.banner
    # The till does not know the rate: it says so rather than show 66.00 still due.
    assert (view.paid, view.remaining, view.change) == ("—", "—", "—")
    assert view.payments == ("外币现金 USD 10.00",)
    assert view.quick == ()  # a commit in doubt: no more payments on it
    start_again(fixed_store)
    assert client.reachable(timeout=5.0)
    till.retry()  # the same sale id sent again: the server's answer
    sale = till.last_sale
    assert sale is not None, till.message
    assert sale.receipt.payments[0].tendered.fen == 7_123  # 7123.4 fen, half up
    view = till.view()
    assert (view.paid, view.remaining, view.change) == ("71.23", "0.00", "5.23")
    assert sale.change.fen == 523
    client.close()


def test_converted_takes_the_servers_yuan_values_in_payment_order() -> None:
    tender = Tender(10_000).add(TenderKind.CASH, 2_000, has_member=False).add_foreign("USD", 1_234)
    assert (tender.paid, tender.remaining) == (2_000, 8_000)  # the foreign value unknown
    assert tender.unconverted
    receipt = sales_pb2.Receipt(
        total=common_pb2.Money(fen=10_000),
        payments=[
            sales_pb2.ReceiptPayment(kind="cash", tendered=common_pb2.Money(fen=2_000)),
            sales_pb2.ReceiptPayment(
                kind="foreign_cash",
                currency="USD",
                foreign_amount_minor=1_234,
                tendered=common_pb2.Money(fen=8_790),
            ),
        ],
    )
    done = tender.converted(receipt)
    assert not done.unconverted
    assert (done.paid, done.remaining, done.change) == (10_790, 0, 790)
    # An answer that is not for these payments leaves them as they were.
    other = sales_pb2.Receipt(payments=[receipt.payments[1], receipt.payments[0]])
    assert tender.converted(other) == tender
