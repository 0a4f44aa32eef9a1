"""Label values from catalog products; every unit price below is worked out by hand."""

from __future__ import annotations

import dataclasses

import pytest

from clients.label_printer.label_data import (
    LabelBarcode,
    div_round_half_up,
    format_fen,
    label_from_product,
    parse_spec,
)
from tests.support.catalog_fixture import COKE_CAN, COKE_CASE, WATER, WATER_EAN8
from tillpoint.v1 import catalog_pb2, common_pb2


def product(
    name: str,
    retail: int,
    *,
    member: int = 0,
    unit: str = "件",
    weighed: bool = False,
    plu: str = "",
    barcodes: tuple[tuple[str, int], ...] = (),
) -> catalog_pb2.Product:
    return catalog_pb2.Product(
        sku="S1",
        name=name,
        unit=unit,
        weighed=weighed,
        plu=plu,
        retail_price=common_pb2.Money(fen=retail),
        member_price=common_pb2.Money(fen=member),
        barcodes=[catalog_pb2.Barcode(code=c, pack_factor=f) for c, f in barcodes],
    )


@pytest.mark.parametrize(
    ("fen", "text"), [(12345, "123.45"), (300, "3.00"), (5, "0.05"), (0, "0.00"), (-5, "-0.05")]
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


@pytest.mark.parametrize(
    ("name", "spec", "milli"),
    [
        ("可口可乐 330ml", "330ml", 330_000),
        ("农夫山泉 饮用天然水 550ml", "550ml", 550_000),
        ("怡宝 纯净水 500ml×6", "500ml×6", 3_000_000),
        ("怡宝 纯净水 500mlx6", "500ml×6", 3_000_000),
        ("康师傅 红烧牛肉面 105g", "105g", 105_000),
        ("五常大米 5kg", "5kg", 5_000_000),
        ("金龙鱼 花生油 1.8L", "1.8L", 1_800_000),
        ("鲁花 酱油 500毫升", "500毫升", 500_000),
        ("红枣 1斤", "1斤", 500_000),
    ],
)
def test_parse_spec(name: str, spec: str, milli: int) -> None:
    parsed = parse_spec(name)
    assert parsed is not None
    assert (parsed.text, parsed.total_milli) == (spec, milli)


@pytest.mark.parametrize("name", ["红富士苹果", "7喜", "维达 抽纸 3层", ""])
def test_no_spec(name: str) -> None:
    assert parse_spec(name) is None


@pytest.mark.parametrize(
    ("name", "retail", "unit_price", "basis"),
    [
        # 300 fen x 100 ml / 330 ml = 90.9 -> 91
        ("可口可乐 330ml", 300, 91, "100ml"),
        # 1500 fen x 100 / 3000 ml = 50
        ("怡宝 纯净水 500ml×6", 1500, 50, "100ml"),
        # 450 fen x 500 g / 105 g = 2142.86 -> 2143
        ("康师傅 红烧牛肉面 105g", 450, 2143, "斤"),
        # 2990 fen x 500 / 5000 g = 299
        ("五常大米 5kg", 2990, 299, "斤"),
        # 301 fen x 100 / 200 ml = 150.5 -> 151 (half up)
        ("酸奶 200ml", 301, 151, "100ml"),
        # 5990 fen x 100 / 1800 ml = 332.8 -> 333
        ("金龙鱼 花生油 1.8L", 5990, 333, "100ml"),
    ],
)
def test_unit_price(name: str, retail: int, unit_price: int, basis: str) -> None:
    label = label_from_product(product(name, retail))
    assert label.unit_price_fen == unit_price
    assert isinstance(label.unit_price_fen, int)
    assert label.unit_price_basis == basis


def test_coke_label() -> None:
    label = label_from_product(
        product(
            "可口可乐 330ml",
            300,
            member=280,
            unit="罐",
            barcodes=((COKE_CASE, 24), (COKE_CAN, 1)),
        )
    )
    assert label.name == "可口可乐 330ml"
    assert label.spec == "330ml"
    assert (label.price_text, label.member_price_text) == ("3.00", "2.80")
    assert label.unit_price_text == "0.91元/100ml"
    assert label.barcode == LabelBarcode("ean13", COKE_CAN)  # the can, not the case
    assert label.price_unit == "罐"


def test_weighed_apple_is_priced_per_jin_with_plu_barcode() -> None:
    label = label_from_product(product("红富士苹果", 1280, unit="kg", weighed=True, plu="1001"))
    # 12.80 per kg -> 1280 x 500 g / 1000 g = 640 per 斤
    assert label.unit_price_fen == 640
    assert label.unit_price_text == "6.40元/斤"
    assert label.barcode == LabelBarcode("code128", "1001")
    assert label.price_text == "12.80"
    assert label.price_unit == "kg"


def test_ean13_is_preferred_over_ean8_of_the_same_pack() -> None:
    label = label_from_product(product("水 550ml", 200, barcodes=((WATER_EAN8, 1), (WATER, 1))))
    assert label.barcode == LabelBarcode("ean13", WATER)


def test_no_member_price_no_spec_no_barcode() -> None:
    label = label_from_product(product("维达 抽纸", 1290, member=0))
    assert label.member_price_fen is None and label.member_price_text is None
    assert label.unit_price_fen is None and label.unit_price_text is None
    assert label.spec == ""
    assert label.barcode is None


def test_member_price_not_below_retail_is_not_shown() -> None:
    assert label_from_product(product("可乐 330ml", 300, member=300)).member_price_fen is None


def test_promotion_tag_and_frozen() -> None:
    label = label_from_product(product("可乐 330ml", 300), promotion="特价")
    assert label.promotion == "特价"
    with pytest.raises(dataclasses.FrozenInstanceError):
        label.price_fen = 1  # type: ignore[misc]


def test_div_round_half_up() -> None:
    assert [div_round_half_up(n, 4) for n in (0, 1, 2, 3, 5, 6)] == [0, 0, 1, 1, 1, 2]
