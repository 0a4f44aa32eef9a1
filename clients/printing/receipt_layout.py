"""A Receipt proto laid out as printer operations, and those operations sent to a printer.

layout_receipt() is pure (no I/O): it decides every line at the paper's width in columns
(32 for 58 mm paper, 48 for 80 mm), so a screen preview and the tests see exactly what
the printer will print. render() sends the operations through devices.printer.commands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from escpos.escpos import Escpos

from clients.printing.amounts import format_fen, format_milli
from clients.printing.columns import centre, clean, two_columns, wrap
from clients.printing.member_section import member_rows
from devices.printer import commands
from tillpoint.v1 import sales_pb2

WIDTH_58MM = 32
WIDTH_80MM = 48
# Receipts show the store's wall-clock time; every store is in China.
STORE_TZ = ZoneInfo("Asia/Shanghai")
FOOTER = "谢谢惠顾 欢迎再次光临"
COPY_BANNER = "重印 COPY"
RETURN_BANNER = "退货 RETURN"
WEIGHED_UNIT = "kg"
CASE_NAME = "箱"
ITEM_INDENT = "  "
ADJUSTMENT_INDENT = "    "


@dataclass(frozen=True)
class Initialize:
    """ESC @: clears a line a torn earlier job may have left in the printer's buffer."""


@dataclass(frozen=True)
class Text:
    """One printed line, already fitted to the width.

    A centred line is padded with leading spaces by the layout (the printer's own centring
    would use its full head width, not the configured columns); ``center`` says so for a
    preview. A ``double`` line counts its columns at double width (half as many fit).
    """

    line: str
    bold: bool = False
    double: bool = False
    center: bool = False


@dataclass(frozen=True)
class Barcode:
    """CODE128 of ``data`` (the receipt number, scanned at the returns desk)."""

    data: str


@dataclass(frozen=True)
class Qr:
    data: str


@dataclass(frozen=True)
class Cut:
    pass


@dataclass(frozen=True)
class DrawerKick:
    """Open the cash drawer wired to the printer; the print queue adds it, not the layout."""

    pin: int = 2


Op = Initialize | Text | Barcode | Qr | Cut | DrawerKick


def layout_receipt(receipt: sales_pb2.Receipt, *, width: int) -> list[Op]:
    """The printer operations for ``receipt`` at ``width`` columns (32 or 48).

    Amounts are integer fen and quantities integer thousandths, as in the proto; every
    amount ends exactly at column ``width``, counting a Chinese character as 2 columns.
    """
    if width not in (WIDTH_58MM, WIDTH_80MM):
        raise ValueError(f"receipt width must be {WIDTH_58MM} or {WIDTH_80MM} columns")
    ops: list[Op] = [Initialize()]
    ops += _header(receipt, width)
    ops.append(_rule(width))
    for line in receipt.lines:
        ops += _item(line, width)
    ops.append(_rule(width))
    ops += _totals(receipt, width)
    ops.append(_rule(width))
    ops += _payments(receipt, width)
    if receipt.HasField("member"):
        ops.append(_rule(width))
        ops += _member(receipt, width)
    ops += _footer(receipt, width)
    return ops


def render(ops: Iterable[Op], printer: Escpos) -> None:
    """Send ``ops`` to ``printer``; printer errors (OSError, escpos errors) propagate."""
    for op in ops:
        match op:
            case Initialize():
                commands.initialize(printer)
            case Text(line=line, bold=bold, double=double):
                if bold:
                    commands.bold(printer, True)
                if double:
                    commands.double_size(printer, True)
                commands.text_line(printer, line)
                # Styles stay on in the printer until switched off: reset after each line.
                if double:
                    commands.double_size(printer, False)
                if bold:
                    commands.bold(printer, False)
            case Barcode(data=data):
                commands.receipt_barcode(printer, data)
            case Qr(data=data):
                commands.receipt_qr(printer, data)
            case Cut():
                commands.cut(printer)
            case DrawerKick(pin=pin):
                commands.kick_drawer(printer, pin)
            case _:
                raise TypeError(f"not a printer operation: {op!r}")


def total_index(ops: list[Op]) -> int:
    """Index of the TOTAL line, the layout's only bold line (the first bold one counts).

    A slip that got this far reads as a receipt; the print queue uses it to tell a torn
    slip (reprint as the original) from a possibly complete one (reprint as a copy).
    """
    for index, op in enumerate(ops):
        if isinstance(op, Text) and op.bold:
            return index
    raise ValueError("no TOTAL line in these operations")


def _rule(width: int) -> Text:
    return Text("-" * width)


def _lines(left: str, right: str, width: int, *, indent: str = "", bold: bool = False) -> list[Op]:
    return [Text(line, bold=bold) for line in two_columns(left, right, width, indent=indent)]


def _banner(text: str, width: int) -> list[Op]:
    return [Text(line, double=True, center=True) for line in centre(text, width // 2)]


def _header(receipt: sales_pb2.Receipt, width: int) -> list[Op]:
    ops: list[Op] = _banner(receipt.store_name or receipt.store_id, width)
    if receipt.copy:
        ops += _banner(COPY_BANNER, width)
    if receipt.kind == "return":
        ops += _banner(RETURN_BANNER, width)
        if receipt.original_receipt_no:
            ops += _lines("原单 Original", receipt.original_receipt_no, width)
    ops += _lines("单号 No.", receipt.receipt_no, width)
    if receipt.business_day:
        ops += _lines("营业日 Day", receipt.business_day, width)
    if receipt.HasField("at"):
        at = receipt.at.ToDatetime(tzinfo=STORE_TZ)
        ops += _lines("时间 Time", at.strftime("%Y-%m-%d %H:%M:%S"), width)
    if receipt.operator_id:
        ops += _lines("收银员 Cashier", receipt.operator_id, width)
    if receipt.device_id:
        ops += _lines("机号 Till", receipt.device_id, width)
    return ops


def _quantity_text(line: sales_pb2.ReceiptLine) -> str:
    """'2 x 3.50', '0.352kg x 25.80' (per kg), '1箱x24 x 52.80' (per case)."""
    milli = line.quantity.milli
    if line.unit == WEIGHED_UNIT:
        quantity = f"{format_milli(milli, decimals_always=True)}{WEIGHED_UNIT}"
    else:
        quantity = format_milli(milli)
    if line.pack_factor > 1:
        quantity += f"{CASE_NAME}x{line.pack_factor}"
    # A return line carries only its refund (unit price 0): the price would read as free.
    if line.unit_price.fen == 0 and line.base_amount.fen != 0:
        return quantity
    return f"{quantity} x {format_fen(line.unit_price.fen)}"


def _item(line: sales_pb2.ReceiptLine, width: int) -> list[Op]:
    ops: list[Op] = [Text(part) for part in wrap(line.name or line.sku, width)]
    ops += _lines(_quantity_text(line), format_fen(line.base_amount.fen), width, indent=ITEM_INDENT)
    for adjustment in line.adjustments:
        ops += _lines(
            adjustment.name or adjustment.code,
            format_fen(adjustment.amount.fen),
            width,
            indent=ADJUSTMENT_INDENT,
        )
    return ops


def _totals(receipt: sales_pb2.Receipt, width: int) -> list[Op]:
    ops = _lines("小计 Subtotal", format_fen(receipt.subtotal.fen), width)
    if receipt.discount.fen:
        # The proto's discount is positive (subtotal minus what the lines cost); printed
        # as the negative amount it takes off, like the adjustments above it.
        ops += _lines("优惠 Discount", format_fen(-receipt.discount.fen), width)
    if receipt.rounding.fen:
        ops += _lines("抹零 Rounding", format_fen(receipt.rounding.fen), width)
    ops += _lines("合计 TOTAL", format_fen(receipt.total.fen), width, bold=True)
    return ops


def _payments(receipt: sales_pb2.Receipt, width: int) -> list[Op]:
    ops: list[Op] = []
    for payment in receipt.payments:
        ops += _lines(payment.name or payment.kind, format_fen(payment.tendered.fen), width)
        if payment.reference:
            ops += _lines(f"参考号 Ref {clean(payment.reference)}", "", width, indent=ITEM_INDENT)
    if receipt.change.fen:
        ops += _lines("找零 Change", format_fen(receipt.change.fen), width)
    if receipt.forfeited.fen:
        ops += _lines("礼券余额不找零 Forfeited", format_fen(receipt.forfeited.fen), width)
    return ops


def _member(receipt: sales_pb2.Receipt, width: int) -> list[Op]:
    ops: list[Op] = []
    for left, right in member_rows(receipt.member, is_return=receipt.kind == "return"):
        ops += _lines(left, right, width)
    return ops


def _footer(receipt: sales_pb2.Receipt, width: int) -> list[Op]:
    number = receipt.barcode or receipt.receipt_no
    ops: list[Op] = []
    if number:
        # A receipt number's CODE128 is wider than 58 mm paper: there, the QR alone.
        ops += [Barcode(number), Qr(number)] if width > 32 else [Qr(number)]
    ops += [Text(line, center=True) for line in centre(FOOTER, width)]
    ops.append(Cut())
    return ops
