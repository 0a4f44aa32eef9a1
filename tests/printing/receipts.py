"""Realistic receipts, built by hand the way the store server's sales_convert fills them."""

from __future__ import annotations

from datetime import UTC, datetime

from tillpoint.v1 import sales_pb2

RECEIPT_NO = "S01-20261123-0042"
LONG_NAME = "康师傅红烧牛肉面经典五连包家庭装超值促销装特惠组合"  # 25 hanzi = 50 columns


def _line(
    receipt: sales_pb2.Receipt,
    name: str,
    *,
    unit: str,
    milli: int,
    unit_price: int,
    base: int,
    pack_factor: int = 1,
    adjustments: tuple[tuple[str, str, int], ...] = (),
) -> None:
    line = receipt.lines.add(
        line_no=len(receipt.lines) + 1,
        name=name,
        sku=f"P{len(receipt.lines):06d}",
        unit=unit,
        pack_factor=pack_factor,
    )
    line.quantity.milli = milli
    line.unit_price.fen = unit_price
    line.base_amount.fen = base
    for code, adj_name, amount in adjustments:
        adj = line.adjustments.add(code=code, name=adj_name)
        adj.amount.fen = amount
    line.net_amount.fen = base + sum(amount for _, _, amount in adjustments)


def sale_receipt(receipt_no: str = RECEIPT_NO) -> sales_pb2.Receipt:
    """Coke x2 at member price, a case of 24, 0.352 kg of apples; rounding -8; cash + card.

    subtotal 7.00 + 52.80 + 4.86 = 64.66; member price -0.60; rounding -0.08;
    total 63.98 = card 20.00 + cash 43.98 out of 50.00 tendered, change 6.02.
    """
    receipt = sales_pb2.Receipt(
        store_id="S01",
        store_name="天天超市人民路店",
        receipt_no=receipt_no,
        business_day="2026-11-23",
        operator_id="C007",
        device_id="T03",
        barcode=receipt_no,
        kind="sale",
    )
    # 06:03:27 UTC is 14:03:27 in Shanghai.
    receipt.at.FromDatetime(datetime(2026, 11, 23, 6, 3, 27, tzinfo=UTC))
    _line(
        receipt,
        "可口可乐 330ml",
        unit="罐",
        milli=2000,
        unit_price=350,
        base=700,
        adjustments=(("MEMBER_PRICE", "会员价", -60),),
    )
    _line(
        receipt,
        "可口可乐 330ml",
        unit="罐",
        milli=1000,
        unit_price=5280,
        base=5280,
        pack_factor=24,
    )
    _line(receipt, "红富士苹果", unit="kg", milli=352, unit_price=1380, base=486)
    receipt.subtotal.fen = 6466
    receipt.discount.fen = 60
    receipt.rounding.fen = -8
    receipt.total.fen = 6398
    card = receipt.payments.add(kind="bank_card", name="银行卡", reference="6222****1234")
    card.tendered.fen = card.applied.fen = 2000
    cash = receipt.payments.add(kind="cash", name="现金")
    cash.tendered.fen = 5000
    cash.applied.fen = 4398
    receipt.change.fen = 602
    return receipt
