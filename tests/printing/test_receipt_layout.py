"""A receipt laid out, rendered to ESC/POS bytes, and decoded back: lines, columns, codes."""

from __future__ import annotations

import unicodedata

import pytest
from escpos.printer import Dummy

from clients.printing.amounts import format_fen, format_milli
from clients.printing.columns import char_width, text_width, wrap
from clients.printing.receipt_layout import (
    Cut,
    DrawerKick,
    Initialize,
    Text,
    layout_receipt,
    render,
    total_index,
)
from devices.printer.decode import decode
from tests.printing.receipts import LONG_NAME, RECEIPT_NO, sale_receipt
from tillpoint.v1 import sales_pb2

WIDTHS = [32, 48]


def columns(text: str) -> int:
    """The test's own count: W and F characters are two columns (no ambiguous ones here)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def row(left: str, right: str, width: int) -> str:
    """``right`` ending exactly at column ``width``."""
    return left + " " * (width - columns(left) - columns(right)) + right


def printed(receipt: sales_pb2.Receipt, width: int) -> tuple[bytes, list[tuple]]:
    printer = Dummy()
    render(layout_receipt(receipt, width=width), printer)
    return printer.output, decode(printer.output)


def texts(events: list[tuple]) -> list[str]:
    return [event[1] for event in events if event[0] == "text"]


def test_money_and_quantities_use_integer_arithmetic() -> None:
    assert [format_fen(f) for f in (12345, 5, 0, -60, -8, 100)] == [
        "123.45",
        "0.05",
        "0.00",
        "-0.60",
        "-0.08",
        "1.00",
    ]
    assert format_milli(2000) == "2"
    assert format_milli(352, decimals_always=True) == "0.352"
    assert format_milli(1000, decimals_always=True) == "1.000"
    assert format_milli(1500) == "1.500"
    with pytest.raises(TypeError):
        format_fen(1.5)  # type: ignore[arg-type]


def test_character_widths() -> None:
    assert [char_width(c) for c in "a可Ａ（"] == [1, 2, 2, 2]
    # '·' is ambiguous to unicodedata but a 2-byte GB code: the printer prints it wide.
    assert char_width("·") == 2
    assert text_width("可口可乐 330ml") == 14


@pytest.mark.parametrize("width", WIDTHS)
def test_sale_receipt_lines_in_order_with_amounts_right_aligned(width: int) -> None:
    data, events = printed(sale_receipt(), width)
    store = "天天超市人民路店"
    expected = [
        " " * ((width // 2 - columns(store)) // 2) + store,  # double size: half the columns
        row("单号 No.", RECEIPT_NO, width),
        row("营业日 Day", "2026-11-23", width),
        row("时间 Time", "2026-11-23 14:03:27", width),  # Asia/Shanghai, UTC+8
        row("收银员 Cashier", "C007", width),
        row("机号 Till", "T03", width),
        "-" * width,
        "可口可乐 330ml",
        row("  2 x 3.50", "7.00", width),
        row("    会员价", "-0.60", width),
        "可口可乐 330ml",
        row("  1箱x24 x 52.80", "52.80", width),
        "红富士苹果",
        row("  0.352kg x 13.80", "4.86", width),
        "-" * width,
        row("小计 Subtotal", "64.66", width),
        row("优惠 Discount", "-0.60", width),
        row("抹零 Rounding", "-0.08", width),
        row("合计 TOTAL", "63.98", width),
        "-" * width,
        row("银行卡", "20.00", width),
        "  参考号 Ref 6222****1234",
        row("现金", "50.00", width),
        row("找零 Change", "6.02", width),
    ]
    footer = "谢谢惠顾 欢迎再次光临"
    # CODE128 of a receipt number is wider than 58 mm paper: there, the QR alone.
    codes = [("barcode", "CODE128", RECEIPT_NO)] if width > 32 else []
    assert events == [
        *(("text", line) for line in expected),
        *codes,
        ("qr", RECEIPT_NO),
        ("text", " " * ((width - columns(footer)) // 2) + footer),
        ("cut",),
    ]
    for line in texts(events):
        assert columns(line) <= width, line
    # GB18030 inside FS & ... FS . (decoded above back to characters).
    assert b"\x1c\x26" + "可口可乐 330ml".encode("gb18030") + b"\x1c\x2e\n" in data
    assert b"\x1d\x56\x00" in data and b"\x1bp" not in data  # cut; the drawer is the queue's


def test_58mm_amount_lines_are_literally_right_aligned() -> None:
    lines = texts(printed(sale_receipt(), 32)[1])
    assert "  2 x 3.50                  7.00" in lines
    assert "    会员价                 -0.60" in lines
    assert "合计 TOTAL                 63.98" in lines


def test_total_is_bold_and_store_name_double() -> None:
    ops = layout_receipt(sale_receipt(), width=48)
    assert isinstance(ops[0], Initialize) and isinstance(ops[-1], Cut)
    total = ops[total_index(ops)]
    assert isinstance(total, Text) and total.bold and "63.98" in total.line
    assert ops[1] == Text("    天天超市人民路店", double=True, center=True)
    printer = Dummy()
    render([total], printer)
    assert printer.output.startswith(b"\x1b\x45\x01") and printer.output.endswith(b"\x1b\x45\x00")


def test_drawer_kick_renders_the_pulse() -> None:
    printer = Dummy()
    render([Cut(), DrawerKick(2)], printer)
    assert decode(printer.output) == [("cut",), ("drawer", 2)]


@pytest.mark.parametrize("width", WIDTHS)
def test_copy_banner(width: int) -> None:
    receipt = sale_receipt()
    receipt.copy = True
    lines = [line.strip() for line in texts(printed(receipt, width)[1])]
    assert lines[:2] == ["天天超市人民路店", "重印 COPY"]


@pytest.mark.parametrize("width", WIDTHS)
def test_return_banner_original_number_and_refund_lines(width: int) -> None:
    receipt = sales_pb2.Receipt(
        store_name="天天超市",
        receipt_no="S01-20261123-R0003",
        business_day="2026-11-23",
        kind="return",
        original_receipt_no=RECEIPT_NO,
    )
    line = receipt.lines.add(line_no=1, name="可口可乐 330ml", unit="罐", pack_factor=1)
    line.quantity.milli = 1000
    line.base_amount.fen = line.net_amount.fen = -320  # refund as sold: member price
    receipt.subtotal.fen = receipt.total.fen = -320
    cash = receipt.payments.add(kind="cash", name="现金")
    cash.tendered.fen = cash.applied.fen = -320
    events = printed(receipt, width)[1]
    lines = texts(events)
    assert [line.strip() for line in lines[:2]] == ["天天超市", "退货 RETURN"]
    assert lines[2] == row("原单 Original", RECEIPT_NO, width)
    assert row("  1", "-3.20", width) in lines  # no unit price: a refund line
    assert row("合计 TOTAL", "-3.20", width) in lines
    assert (("barcode", "CODE128", "S01-20261123-R0003") in events) == (width > 32)
    assert ("qr", "S01-20261123-R0003") in events


def test_forfeited_voucher_value_is_printed() -> None:
    receipt = sale_receipt()
    receipt.forfeited.fen = 150
    assert row("礼券余额不找零 Forfeited", "1.50", 48) in texts(printed(receipt, 48)[1])


@pytest.mark.parametrize("width", WIDTHS)
def test_long_chinese_name_wraps_whole_characters(width: int) -> None:
    receipt = sale_receipt()
    receipt.lines[2].name = LONG_NAME
    lines = texts(printed(receipt, width)[1])
    start = lines.index(row("  1箱x24 x 52.80", "52.80", width)) + 1
    # 25 hanzi = 50 columns: a full line of width/2 characters, then the rest.
    assert lines[start : start + 2] == [LONG_NAME[: width // 2], LONG_NAME[width // 2 :]]
    assert lines[start + 2] == row("  0.352kg x 13.80", "4.86", width)


def test_wrap_prefers_spaces_and_never_exceeds_the_width() -> None:
    assert wrap("天天超市 人民路店", 16) == ["天天超市", "人民路店"]
    assert wrap("康师傅 红烧牛肉面 105g 五连包 家庭装 超值促销装", 32) == [
        "康师傅 红烧牛肉面 105g 五连包",
        "家庭装 超值促销装",
    ]
    for width in (2, 3, 7, 32):
        for part in wrap("一a二bb三ccc四" * 5, width):
            assert 0 < text_width(part) <= width


def test_width_must_be_58_or_80_mm() -> None:
    with pytest.raises(ValueError, match="32 or 48"):
        layout_receipt(sale_receipt(), width=40)
