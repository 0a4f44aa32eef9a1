"""The till's pure parts: amounts, tender arithmetic, keys, texts (no server, no Kivy)."""

from __future__ import annotations

import pytest

from clients.kivy_pos.till import keys
from clients.kivy_pos.till.amounts import parse_quantity, parse_yuan, quantity_text, yuan
from clients.kivy_pos.till.presenter import parse_credential
from clients.kivy_pos.till.tender import Tender, TenderKind, TenderRefused
from clients.kivy_pos.till.texts import Texts
from clients.kivy_pos.till.view_model import Screen


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("100", 10_000),
        ("12.5", 1_250),
        ("0.01", 1),
        ("1.234", None),
        ("-1", None),
        ("abc", None),
        ("", None),
        ("nan", None),
        ("1e2", 10_000),
    ],
)
def test_parse_yuan(text: str, fen: int | None) -> None:
    assert parse_yuan(text) == fen


def test_quantities_and_money_text() -> None:
    assert parse_quantity("0.352") == 352 and parse_quantity("3") == 3_000
    assert parse_quantity("0.0005") is None
    assert quantity_text(352, weighed=True, unit="kg") == "0.352 kg"
    assert quantity_text(3_000, weighed=False) == "3"
    assert (yuan(12_345), yuan(-50), yuan(0)) == ("123.45", "-0.50", "0.00")


def test_tender_change_comes_from_cash_and_non_cash_is_capped() -> None:
    tender = Tender(13_200).add(TenderKind.BANK_CARD, 10_000, has_member=False, reference="C1")
    with pytest.raises(TenderRefused, match="over_non_cash"):
        tender.add(TenderKind.MOBILE, 5_000, has_member=False, reference="M1")
    with pytest.raises(TenderRefused, match="need_member"):
        tender.add(TenderKind.POINTS, 100, has_member=False)
    with pytest.raises(TenderRefused, match="need_reference"):
        tender.add(TenderKind.MOBILE, 100, has_member=False)
    done = tender.add(TenderKind.CASH, 5_000, has_member=False)
    assert (done.paid, done.remaining, done.change, done.complete) == (15_000, 0, 1_800, True)
    assert [p.reference for p in done.to_proto()] == ["C1", ""]
    assert done.without_last().remaining == 3_200


def test_keys_per_screen() -> None:
    assert keys.command_for(keys.ENTER, Screen.LOGIN) == "enter"
    assert keys.command_for(keys.NUMPAD_ENTER, Screen.SELL) == "enter"
    assert keys.command_for(keys.F1 + 1, Screen.SELL) == "member"
    assert keys.command_for(keys.F1 + 11, Screen.SELL) == "total"
    assert keys.command_for(keys.F1 + 1, Screen.TENDER) == "tender:BANK_CARD"
    assert keys.command_for(keys.F1 + 9, Screen.TENDER) == "quick_index:1"
    assert keys.command_for(keys.F1 + 1, Screen.LOGIN) is None
    assert keys.command_for(ord("5"), Screen.SELL) is None  # digits come as text


def test_member_credentials_and_refusals_in_words() -> None:
    assert parse_credential("13800138000*246810").phone == "13800138000"
    assert parse_credential("8000000000017").card_no == "8000000000017"
    texts = Texts()
    assert texts.reason("UNKNOWN_BARCODE", "unknown barcode 690") == "条码不存在：请检查或手工输入"
    assert texts.reason("SOMETHING_NEW", "the server's sentence") == "the server's sentence"
    assert Texts("en").reason("UNKNOWN_BARCODE", "unknown barcode 690") == "unknown barcode 690"
