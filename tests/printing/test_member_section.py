"""The member block on a receipt, read back from the real ESC/POS bytes (GB18030)."""

from __future__ import annotations

import unicodedata

import pytest
from escpos.printer import Dummy

from clients.printing.member_section import masked
from clients.printing.receipt_layout import layout_receipt, render, total_index
from devices.printer.decode import decode
from tests.printing.receipts import RECEIPT_NO, sale_receipt
from tillpoint.v1 import sales_pb2

WIDTHS = [32, 48]
PHONE = "13812345678"


def columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def row(left: str, right: str, width: int) -> str:
    return left + " " * (width - columns(left) - columns(right)) + right


def printed_lines(receipt: sales_pb2.Receipt, width: int) -> list[str]:
    printer = Dummy()
    render(layout_receipt(receipt, width=width), printer)
    return [event[1] for event in decode(printer.output) if event[0] == "text"]


def with_member(receipt: sales_pb2.Receipt, **fields: object) -> sales_pb2.Receipt:
    stored_value = fields.pop("stored_value_fen", 0)
    receipt.member.CopyFrom(sales_pb2.ReceiptMember(**fields))
    receipt.member.stored_value_balance.fen = stored_value
    return receipt


@pytest.mark.parametrize("width", WIDTHS)
def test_sale_member_block(width: int) -> None:
    receipt = with_member(
        sale_receipt(),
        member_id="M000123",
        masked_phone="138****5678",
        tier_name="金卡",
        points_earned=63,
        points_redeemed=500,
        points_balance=3620,
        stored_value_fen=8800,
        upgraded_to="金卡",
    )
    lines = printed_lines(receipt, width)
    expected = [
        row("会员 Member", "138****5678", width),
        row("等级 Tier", "金卡", width),
        row("本次积分 Points earned", "+63", width),
        row("积分抵现 Points used", "-500", width),
        row("积分余额 Points balance", "3620", width),
        row("储值余额 Stored value", "88.00", width),
        row("升级为 金卡", "Tier up", width),
    ]
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected
    # After the payments, before the footer, set off by a rule.
    assert lines[start - 1] == "-" * width
    assert lines.index(row("找零 Change", "6.02", width)) < start
    assert "谢谢惠顾 欢迎再次光临" in lines[start + len(expected)].strip()
    assert all(columns(line) <= width for line in lines)
    assert not any("M000123" in line for line in lines)  # the phone is the member's number


def test_member_lines_go_out_as_gb18030_in_chinese_mode() -> None:
    receipt = with_member(sale_receipt(), masked_phone="138****5678", tier_name="金卡")
    printer = Dummy()
    render(layout_receipt(receipt, width=48), printer)
    line = row("会员 Member", "138****5678", 48)
    assert b"\x1c\x26" + line.encode("gb18030") + b"\x1c\x2e\n" in printer.output
    ops = layout_receipt(receipt, width=48)
    assert total_index(ops) == next(i for i, op in enumerate(ops) if "TOTAL" in str(op))


def test_no_redemption_no_upgrade_lines_and_zero_points() -> None:
    receipt = with_member(
        sale_receipt(),
        masked_phone="139****0001",
        tier_name="普通会员",
        points_balance=10,
        stored_value_fen=0,
    )
    lines = printed_lines(receipt, 48)
    assert row("本次积分 Points earned", "0", 48) in lines
    assert row("储值余额 Stored value", "0.00", 48) in lines
    assert not any("积分抵现" in line or "升级为" in line for line in lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_return_member_block_reads_as_points_taken_and_given_back(width: int) -> None:
    receipt = sales_pb2.Receipt(
        store_name="天天超市",
        receipt_no="S01-20261123-R0003",
        kind="return",
        original_receipt_no=RECEIPT_NO,
    )
    receipt.total.fen = receipt.subtotal.fen = -320
    with_member(
        receipt,
        masked_phone="138****5678",
        tier_name="银卡",
        points_earned=-3,
        points_redeemed=-200,
        points_balance=3417,
        stored_value_fen=8800,
    )
    lines = printed_lines(receipt, width)
    assert row("扣回积分 Points back", "-3", width) in lines
    assert row("退回积分 Points returned", "+200", width) in lines
    assert row("积分余额 Points balance", "3417", width) in lines
    assert not any("本次积分" in line or "积分抵现" in line for line in lines)


def test_a_full_phone_never_reaches_paper() -> None:
    receipt = with_member(sale_receipt(), masked_phone=PHONE, tier_name="金卡")
    printer = Dummy()
    render(layout_receipt(receipt, width=48), printer)
    assert PHONE.encode() not in printer.output
    lines = [e[1] for e in decode(printer.output) if e[0] == "text"]
    assert row("会员 Member", "138****5678", 48) in lines


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("13812345678", "138****5678"),
        ("138****5678", "138****5678"),
        ("+8613812345678", "+861******5678"),
        ("M000123", "M000123"),
        ("", ""),
    ],
)
def test_masked(number: str, shown: str) -> None:
    assert masked(number) == shown


@pytest.mark.parametrize("width", WIDTHS)
def test_receipt_without_member_has_no_member_section(width: int) -> None:
    lines = printed_lines(sale_receipt(), width)
    assert any("会员价" in line for line in lines)  # a member price line is not the block
    for label in ("会员 Member", "积分", "储值", "等级", "升级为"):
        assert not any(label in line for line in lines), label
