"""Labels render Chinese with real glyphs and barcodes that a scanner (zbar) reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from clients.label_printer.barcode_image import BarcodeDataError, encode
from clients.label_printer.fonts import (
    MISSING_CHAR,
    FontUnavailableError,
    glyph_bitmap,
    load_font,
)
from clients.label_printer.label_data import Label, LabelBarcode, label_from_product
from clients.label_printer.render_png import (
    SHELF_LABEL,
    LabelStyle,
    render_barcode_label,
    render_shelf_label,
    save_png,
)
from tests.label_printer.conftest import decode_barcodes
from tests.support.catalog_fixture import COKE_CAN, COKE_CASE, UPC_CHIPS
from tillpoint.v1 import catalog_pb2, common_pb2

COKE = catalog_pb2.Product(
    sku="P1",
    name="可口可乐 330ml",
    unit="罐",
    retail_price=common_pb2.Money(fen=300),
    member_price=common_pb2.Money(fen=280),
    barcodes=[
        catalog_pb2.Barcode(code=COKE_CASE, pack_factor=24),
        catalog_pb2.Barcode(code=COKE_CAN, pack_factor=1),
    ],
)
APPLE = catalog_pb2.Product(
    sku="P6",
    name="红富士苹果",
    unit="kg",
    weighed=True,
    plu="1001",
    retail_price=common_pb2.Money(fen=1280),
)


def black_pixels(image: Image.Image) -> int:
    return image.convert("L").histogram()[0]


@pytest.mark.parametrize("char", list("可口乐会员价单规格位元罐红富士苹果斤特"))
def test_font_has_real_glyphs_for_label_text(font_path: str, char: str) -> None:
    font = load_font(font_path, 30)
    assert font.getmask(char).getbbox() is not None
    # A character the font lacks draws as the .notdef box; a covered one must not.
    assert glyph_bitmap(font, char) != glyph_bitmap(font, MISSING_CHAR)


def test_coke_label_png_has_chinese_name_and_scannable_ean13(
    font_path: str, tmp_path: Path
) -> None:
    label = label_from_product(COKE)
    image = render_shelf_label(label)
    path = save_png(image, tmp_path / "coke.png")
    loaded = Image.open(path)
    assert loaded.size == (480, 320)  # 60 x 40 mm at 203 dpi

    margin = SHELF_LABEL.margin
    name_region = loaded.crop((margin, margin, 470, margin + 34))
    assert black_pixels(name_region) > 200

    # The name as drawn differs from the same number of missing-glyph boxes: the glyphs
    # are real, not tofu.
    font = load_font(font_path, 30)

    def draw(text: str) -> Image.Image:
        canvas = Image.new("1", (300, 40), 1)
        ImageDraw.Draw(canvas).text((0, 0), text, font=font, fill=0)
        return canvas.convert("L")

    assert ImageChops.difference(draw("可口可乐"), draw(MISSING_CHAR * 4)).getbbox() is not None
    # and what the label shows in its name row is exactly that text.
    expected = draw("可口可乐").crop((0, 0, 130, 34))
    shown = loaded.convert("L").crop((margin, margin, margin + 130, margin + 34))
    assert ImageChops.difference(expected, shown).getbbox() is None

    assert decode_barcodes(loaded) == [("EAN13", COKE_CAN)]


def test_weighed_goods_labels_carry_the_plu_as_code128(font_path: str) -> None:
    label = label_from_product(APPLE)
    assert decode_barcodes(render_shelf_label(label)) == [("CODE128", "1001")]
    sticker = render_barcode_label(label)
    assert sticker.size == (320, 240)  # 40 x 30 mm
    assert decode_barcodes(sticker) == [("CODE128", "1001")]


def test_upc_a_barcode_scans(font_path: str) -> None:
    label = label_from_product(
        catalog_pb2.Product(
            name="乐事 原味薯片 70g",
            retail_price=common_pb2.Money(fen=750),
            barcodes=[catalog_pb2.Barcode(code=UPC_CHIPS, pack_factor=1)],
        )
    )
    decoded = decode_barcodes(render_shelf_label(label))
    # zbar reports UPC-A as the EAN-13 with a leading 0 unless told to keep UPC-A apart.
    assert decoded in ([("UPCA", UPC_CHIPS)], [("EAN13", "0" + UPC_CHIPS)])


def test_long_name_and_price_and_promotion_still_render(font_path: str) -> None:
    label = label_from_product(
        catalog_pb2.Product(
            name="农夫山泉 饮用天然水 550ml 家庭装 超值优惠 整箱购买更划算 限时供应",
            unit="箱",
            retail_price=common_pb2.Money(fen=128_800),
            member_price=common_pb2.Money(fen=99_900),
            barcodes=[catalog_pb2.Barcode(code=COKE_CAN, pack_factor=1)],
        ),
        promotion="特价",
    )
    image = render_shelf_label(label)
    assert decode_barcodes(image) == [("EAN13", COKE_CAN)]


def test_wrong_check_digit_is_refused() -> None:
    bad = COKE_CAN[:-1] + str((int(COKE_CAN[-1]) + 1) % 10)
    with pytest.raises(BarcodeDataError):
        encode(LabelBarcode("ean13", bad))


def test_missing_font_names_the_debian_package(tmp_path: Path) -> None:
    style = LabelStyle(font_path=tmp_path / "nope.ttc")
    label: Label = label_from_product(COKE)
    with pytest.raises(FontUnavailableError, match="fonts-wqy-zenhei"):
        render_shelf_label(label, style)
