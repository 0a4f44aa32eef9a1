"""Tender rules with hand-computed fen amounts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store_server.currencies import rate_micro
from store_server.domain.errors import FailedPrecondition, InvalidArgument
from store_server.domain.tender import (
    CashRounding,
    Currency,
    PaymentInput,
    TenderKind,
    rounding_adjustment,
    settle,
)

USD = {"USD": Currency("USD", rate_micro("7.1234", 2))}
CASH, CARD, MOBILE = TenderKind.CASH, TenderKind.BANK_CARD, TenderKind.MOBILE


def pay(kind: TenderKind, fen: int = 0, **kw: object) -> PaymentInput:
    if kind in (CARD, MOBILE, TenderKind.GIFT_VOUCHER) and "reference" not in kw:
        kw["reference"] = "R1"
    return PaymentInput(kind=kind, amount_fen=fen, **kw)


@pytest.mark.parametrize(
    ("total", "mode", "rounding"),
    [
        (748, CashRounding.NONE, 0),
        (748, CashRounding.JIAO, -8),
        (748, CashRounding.YUAN, -48),
        (700, CashRounding.JIAO, 0),
        (5, CashRounding.YUAN, -5),
        (0, CashRounding.YUAN, 0),
    ],
)
def test_rounding_table(total: int, mode: CashRounding, rounding: int) -> None:
    assert rounding_adjustment(total, mode) == rounding


@pytest.mark.parametrize(
    ("total", "payments", "change", "applied"),
    [
        (8250, [pay(CASH, 10_000)], 1750, [8250]),
        (8250, [pay(CARD, 8250)], 0, [8250]),
        (8250, [pay(CARD, 5000), pay(CASH, 5000)], 1750, [5000, 3250]),
        (8250, [pay(CASH, 5000), pay(CASH, 5000)], 1750, [5000, 3250]),
        (
            13_200,
            [
                pay(CARD, 5000),
                pay(TenderKind.FOREIGN_CASH, currency="USD", foreign_amount_minor=1000),
                pay(CASH, 2000),
            ],
            923,
            [5000, 7123, 1077],
        ),
    ],
)
def test_settle_table(total: int, payments: list, change: int, applied: list) -> None:
    result = settle(total, payments, rounding=CashRounding.NONE, currencies=USD)
    assert result.change_fen == change
    assert [p.applied_fen for p in result.payments] == applied
    assert sum(applied) == result.payable_fen == total


def test_rounding_only_with_cash() -> None:
    cash = settle(748, [pay(CASH, 1000)], rounding=CashRounding.JIAO, currencies={})
    assert (cash.rounding_fen, cash.payable_fen, cash.change_fen) == (-8, 740, 260)
    card = settle(748, [pay(CARD, 748)], rounding=CashRounding.JIAO, currencies={})
    assert (card.rounding_fen, card.payable_fen) == (0, 748)


def test_voucher_gives_no_change_and_reports_what_is_forfeited() -> None:
    result = settle(
        750, [pay(TenderKind.GIFT_VOUCHER, 1000)], rounding=CashRounding.NONE, currencies={}
    )
    assert (result.change_fen, result.forfeited_fen, result.payments[0].applied_fen) == (
        0,
        250,
        750,
    )


def test_underpaid_and_overpaid() -> None:
    with pytest.raises(FailedPrecondition, match="1 fen still due"):
        settle(300, [pay(CASH, 299)], rounding=CashRounding.NONE, currencies={})
    with pytest.raises(InvalidArgument) as info:
        settle(300, [pay(CASH, 100), pay(CARD, 301)], rounding=CashRounding.NONE, currencies={})
    assert info.value.field == "payments[1].amount"


@pytest.mark.parametrize(
    ("payment", "field"),
    [
        (pay(CASH, 0), "payments[0].amount"),
        (pay(CASH, -1), "payments[0].amount"),
        (PaymentInput(kind=CARD, amount_fen=100), "payments[0].reference"),
        (
            pay(TenderKind.FOREIGN_CASH, currency="EUR", foreign_amount_minor=100),
            "payments[0].currency",
        ),
        (pay(CASH, 100, currency="USD"), "payments[0].currency"),
    ],
)
def test_bad_payments_name_the_field(payment: PaymentInput, field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        settle(100, [payment], rounding=CashRounding.NONE, currencies=USD)
    assert info.value.field == field


def test_rate_parsing_is_exact() -> None:
    assert rate_micro("7.1234", 2) == 7_123_400  # fen per cent, in millionths
    assert rate_micro("0.0478", 0) == 4_780_000  # JPY has no minor unit: 4.78 fen per yen
    with pytest.raises(InvalidArgument):
        rate_micro("7,12", 2)


@given(total=st.integers(1, 10**7), card=st.integers(0, 10**7), cash=st.integers(1, 10**8))
def test_settle_invariants(total: int, card: int, cash: int) -> None:
    payments = ([pay(CARD, card)] if card else []) + [pay(CASH, cash)]
    try:
        result = settle(total, payments, rounding=CashRounding.JIAO, currencies={})
    except (FailedPrecondition, InvalidArgument):
        assert card > total - total % 10 or card + cash < total - total % 10
        return
    assert result.payable_fen == total - total % 10
    assert sum(p.applied_fen for p in result.payments) == result.payable_fen
    assert result.change_fen == card + cash - result.payable_fen
    assert 0 <= result.change_fen <= cash
